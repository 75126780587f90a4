// An Api for unit tests: every call is a vi.fn with a harmless answer unless overridden.

import { vi } from 'vitest';
import type { Api } from './client';
import type { NodeTypeList } from './types';
import { createCatalogue, type Catalogue } from '../graph/nodeTypes';
import catalogue from '../../../schemas/json/node-types.json';

/** The catalogue the backend generates from its registry (schemas/json/node-types.json). */
export const NODE_TYPES = catalogue as unknown as NodeTypeList;

export function fakeApi(overrides: Partial<Api> = {}): Api {
  return {
    createRun: vi.fn(async () => ({ runId: 'r1' })),
    validate: vi.fn(async () => ({ ok: true as const, workflowName: 'Ping', steps: [], inputs: [] })),
    getRun: vi.fn(async () => {
      throw new Error('no such run in the fake');
    }),
    getStepOutput: vi.fn(async () => {
      throw new Error('no such step output in the fake');
    }),
    listStepItems: vi.fn(async () => ({ items: [], total: 0 })),
    resume: vi.fn(async () => undefined),
    listNodeTypes: vi.fn(async () => NODE_TYPES),
    listRuns: vi.fn(async () => ({ runs: [], next: null })),
    cancelRun: vi.fn(async () => undefined),
    rerun: vi.fn(async () => ({ runId: 'r2' })),
    getSession: vi.fn(async () => ({ name: 'admin', role: 'admin' as const })),
    signIn: vi.fn(async () => ({ name: 'admin', role: 'admin' as const })),
    signOut: vi.fn(async () => undefined),
    listWorkflows: vi.fn(async () => []),
    getWorkflow: vi.fn(),
    createWorkflow: vi.fn(),
    updateWorkflow: vi.fn(),
    deleteWorkflow: vi.fn(async () => undefined),
    listVersions: vi.fn(async () => []),
    getVersion: vi.fn(),
    setActive: vi.fn(),
    runSaved: vi.fn(async () => ({ runId: 'r1' })),
    previewSchedule: vi.fn(async () => []),
    previewExpression: vi.fn(async () => ({ value: null })),
    listServerTools: vi.fn(async () => ({ tools: [], error: null })),
    importWorkflow: vi.fn(async () => {
      throw new Error('no import in the fake');
    }),
    listTemplates: vi.fn(async () => []),
    getTemplate: vi.fn(),
    listCredentials: vi.fn(async () => []),
    createCredential: vi.fn(async ({ name, description, allowedHosts }) => ({
      name,
      masked: '••••••••',
      description: description ?? null,
      allowedHosts: allowedHosts ?? [],
      unreadable: false,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    })),
    replaceCredential: vi.fn(async (name, _value, description, allowedHosts) => ({
      name,
      masked: '••••••••',
      description: description ?? null,
      allowedHosts: allowedHosts ?? [],
      unreadable: false,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-02T00:00:00Z',
    })),
    deleteCredential: vi.fn(async () => undefined),
    ...overrides,
  };
}

/** The backend's catalogue as the builder reads it, for tests. */
export const testCatalogue = (): Catalogue => createCatalogue(NODE_TYPES);
