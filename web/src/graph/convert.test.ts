import { describe, expect, it } from 'vitest';
import { exportDocument, exportFileName, loadWorkflow, parseWorkflowText } from './convert';
import type { GraphDocument } from './document';

const template = {
  name: 'Stripe → Discord',
  description: 'Forward a payment to Discord',
  definition: {
    steps: [
      { type: 'http_request_node', name: 'Fetch payment', config: { method: 'GET', url: 'https://api.stripe.com/v1/charges/1', headers: { Authorization: 'Bearer {{secret}}' } } },
      { type: 'http_request_node', config: { method: 'POST', url: 'https://discord.com/api/webhooks/x', json_body: { content: 'paid' }, timeoutMs: 5000 } },
    ],
  },
};

describe('template format', () => {
  it('becomes Start → step → step, laid out left to right', () => {
    const result = loadWorkflow(template);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { nodes, edges, meta } = result.doc;
    expect(nodes.map((n) => [n.id, n.type, n.data.label])).toEqual([
      ['start', 'start', 'Start'],
      ['step-1', 'http', 'Fetch payment'],
      ['step-2', 'http', 'Step 2'],
    ]);
    expect(nodes.map((n) => n.position.y)).toEqual([0, 0, 0]);
    const xs = nodes.map((n) => n.position.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(edges).toEqual([
      { id: 'e-start-step-1', source: 'start', target: 'step-1' },
      { id: 'e-step-1-step-2', source: 'step-1', target: 'step-2' },
    ]);
    expect(nodes[2]?.data.config).toEqual(template.definition.steps[1]?.config);
    expect(meta).toEqual({ name: 'Stripe → Discord', version: 1, description: 'Forward a payment to Discord' });
  });

  it('rejects unknown step types with the reason', () => {
    const result = loadWorkflow({ name: 'x', definition: { steps: [{ type: 'email_node', config: {} }] } });
    expect(result).toEqual({ ok: false, reason: 'step 1 has unsupported type “email_node”' });
  });
});

describe('builder format', () => {
  const doc: GraphDocument = {
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
      {
        id: 'http-1',
        type: 'http',
        position: { x: 250.5, y: -20 },
        data: {
          label: 'Notify Slack',
          config: {
            method: 'POST',
            url: 'https://hooks.slack.com/services/T/B/X',
            headers: { 'Content-Type': 'application/json', 'X-Trace': 'typed-by-user' },
            json_body: { text: 'hi', nested: [1, null, { a: true }] },
            auth: { credentialName: 'slack' },
            timeoutMs: 10000,
            futureOption: 'kept',
          },
          note: 'extra data survives',
        },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'http-1' }],
    meta: { name: 'Slack Notification', version: 3, description: 'Say hi', owner: 'ops' },
  };

  it('round-trips export → import losslessly', () => {
    const exported = exportDocument(doc, new Date('2026-11-21T13:40:00.123Z'));
    expect(exported.meta.exportedAt).toBe('2026-11-21T13:40:00.123Z');
    const reimported = parseWorkflowText(JSON.stringify(exported));
    expect(reimported).toEqual({ ok: true, doc: exported });
    const { exportedAt, ...meta } = exported.meta;
    expect(exportedAt).toBeDefined();
    expect({ ...exported, meta }).toEqual(doc);
  });

  it('exports what the user typed and nothing more', () => {
    const exported = exportDocument(doc);
    expect(exported.nodes[1]?.data.config).toEqual(doc.nodes[1]?.data.config);
    expect(Object.keys(exported)).toEqual(['nodes', 'edges', 'meta']);
    expect(exportFileName(doc)).toBe('slack-notification.automateos.json');
  });

  it.each([
    ['{ not json', /^not valid JSON/],
    ['[]', /expected a JSON object/],
    ['{"hello": 1}', /not an AutomateOS workflow/],
    ['{"nodes": [{"id": "a", "type": "email", "position": {"x": 0, "y": 0}}]}', /unsupported type “email”/],
    ['{"nodes": [{"id": "start", "type": "start", "position": {"x": "left"}}]}', /no valid position/],
    [
      '{"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}}, {"id": "h", "type": "http", "position": {"x": 1, "y": 0}, "data": {"label": "H", "config": {"url": "ftp://x"}}}], "edges": [{"source": "start", "target": "h"}]}',
      /^H: URL must start with http:\/\/ or https:\/\//,
    ],
    [
      '{"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}}, {"id": "h", "type": "http", "position": {"x": 1, "y": 0}, "data": {"label": "H", "config": {"url": "https://x"}}}]}',
      /^H: Not connected to Start/,
    ],
  ])('rejects %s with a reason', (text, reason) => {
    const result = parseWorkflowText(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('the shipped examples (examples/*.json)', () => {
  const examples = import.meta.glob<unknown>('../../../examples/*.json', { eager: true, import: 'default' });

  it('are all found', () => {
    expect(Object.keys(examples).length).toBeGreaterThan(0);
  });

  it.each(Object.entries(examples))('%s loads as a valid graph', (_path, value) => {
    const result = loadWorkflow(value);
    expect(result).toMatchObject({ ok: true });
  });
});

describe('lenient reading', () => {
  it('accepts the legacy “metadata” spelling, string versions and missing positions', () => {
    const result = loadWorkflow({
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'a', type: 'http', data: { label: 'A', config: { url: 'https://a' } } },
      ],
      edges: [{ id: 'e', source: 'start', target: 'a' }],
      metadata: { name: 'Old', version: '2024-01' },
    });
    expect(result.ok && result.doc.meta).toEqual({ name: 'Old', version: '2024-01' });
    expect(result.ok && result.doc.nodes.map((n) => n.position.x)).toEqual([0, 260]);
  });
});
