import { describe, expect, it } from 'vitest';
import type { WorkflowSummary } from '../api/types';
import { filterWorkflows, shownName } from './WorkflowPicker';

const summary = (id: string, name: string): WorkflowSummary => ({
  id,
  name,
  version: 1,
  active: false,
  activeVersion: null, exposeAsTool: false, inputSchema: null,
  triggers: [],
  description: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});

// Most recently changed first, as GET /v1/workflows lists them.
const list = [
  summary('wf_a1', 'Nightly report'),
  summary('wf_b2', 'Report failures'),
  summary('wf_c3', 'Sync orders to CRM'),
  summary('wf_d4', 'Alert on-call'),
  summary('wf_e5', 'Reporting (old)'),
];
const names = (found: WorkflowSummary[]) => found.map((w) => w.name);

describe('filterWorkflows', () => {
  it('offers every workflow but the excluded one, in the list’s order, for an empty query', () => {
    expect(names(filterWorkflows(list, '   ', 'wf_c3'))).toEqual(['Nightly report', 'Report failures', 'Alert on-call', 'Reporting (old)']);
  });

  it('puts names starting with the query first, then a word starting with it, then any match', () => {
    expect(names(filterWorkflows(list, 'REPORT'))).toEqual(['Report failures', 'Reporting (old)', 'Nightly report']);
    expect(names(filterWorkflows(list, 'call'))).toEqual(['Alert on-call']);
    expect(names(filterWorkflows(list, 'ders'))).toEqual(['Sync orders to CRM']);
  });

  it('finds a workflow by a pasted id, and never the excluded one', () => {
    expect(names(filterWorkflows(list, 'wf_b'))).toEqual(['Report failures']);
    expect(names(filterWorkflows(list, 'report', 'wf_b2'))).toEqual(['Reporting (old)', 'Nightly report']);
  });

  it('finds nothing for a query nothing matches', () => {
    expect(filterWorkflows(list, 'invoices')).toEqual([]);
  });
});

describe('shownName', () => {
  it('is the name of the stored id, or says the id is unknown once the list is in', () => {
    expect(shownName(list, true, 'wf_d4')).toBe('Alert on-call');
    expect(shownName(list, true, 'wf_gone')).toBe('Unknown workflow wf_gone');
    expect(shownName([], false, 'wf_d4')).toBe('wf_d4'); // still loading: no verdict yet
    expect(shownName(list, true, null)).toBe('');
  });
});
