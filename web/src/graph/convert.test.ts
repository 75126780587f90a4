import { describe, expect, it, vi } from 'vitest';
import { testCatalogue } from '../api/fake';
import { exportDocument, exportFileName, loadWorkflow, parseWorkflowText, withServerTypes } from './convert';
import type { GraphDocument } from './document';
import { validateGraph } from './validate';

const catalogue = testCatalogue();
/** What POST /v1/workflows/validate answers for a template: each step's type by the name the registry uses. */
const server = (type: string) =>
  vi.fn(async (graph: Record<string, unknown>) => ({
    ok: true as const,
    workflowName: String(graph.name),
    inputs: [],
    steps: [{ id: 'start', name: 'Start', type: 'start', deps: [] }].concat(
      ((graph.definition as { steps: unknown[] }).steps ?? []).map((_, i) => ({ id: `step_${i + 1}`, name: `Step ${i + 1}`, type, deps: [] })),
    ),
  }));

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
  it('becomes Start → step → step, laid out left to right, older step types read through the catalogue\'s aliases', async () => {
    const validate = server('http');
    const result = loadWorkflow(await withServerTypes(template, catalogue, validate), catalogue);
    expect(validate).not.toHaveBeenCalled();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { nodes, edges, meta } = result.doc;
    expect(nodes.map((n) => [n.id, n.type, n.data.label])).toEqual([
      ['start', 'start', 'Start'],
      ['step_1', 'http', 'Fetch payment'],
      ['step_2', 'http', 'Step 2'],
    ]);
    expect(nodes.map((n) => n.position.y)).toEqual([0, 0, 0]);
    const xs = nodes.map((n) => n.position.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(edges).toEqual([
      { id: 'e-start-step_1', source: 'start', target: 'step_1' },
      { id: 'e-step_1-step_2', source: 'step_1', target: 'step_2' },
    ]);
    expect(nodes[2]?.data.config).toEqual(template.definition.steps[1]?.config);
    expect(meta).toEqual({ name: 'Stripe → Discord', version: 1, description: 'Forward a payment to Discord' });
  });

  it('asks the server nothing when every step type is in the catalogue', async () => {
    const validate = server('http');
    const named = { name: 'x', definition: { steps: [{ type: 'http', config: { url: 'https://a.example' } }] } };
    expect(await withServerTypes(named, catalogue, validate)).toBe(named);
    expect(validate).not.toHaveBeenCalled();
  });

  it('rejects unknown step types with the reason', async () => {
    const validate = vi.fn(async () => {
      throw new Error('422');
    });
    const result = loadWorkflow(await withServerTypes({ name: 'x', definition: { steps: [{ type: 'email_node', config: {} }] } }, catalogue, validate), catalogue);
    expect(result).toEqual({ ok: false, reason: 'step 1 has unsupported type “email_node”' });
  });
});

describe('builder format', () => {
  const doc: GraphDocument = {
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
      {
        id: 'http_1',
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
    edges: [{ id: 'e1', source: 'start', target: 'http_1' }],
    meta: { name: 'Slack Notification', version: 3, description: 'Say hi', owner: 'ops' },
  };

  it('round-trips export → import losslessly', () => {
    const exported = exportDocument(doc, catalogue, new Date('2026-11-21T13:40:00.123Z'));
    expect(exported.meta.exportedAt).toBe('2026-11-21T13:40:00.123Z');
    const reimported = parseWorkflowText(JSON.stringify(exported), catalogue);
    expect(reimported).toEqual({ ok: true, doc: exported });
    const { exportedAt, ...meta } = exported.meta;
    expect(exportedAt).toBeDefined();
    expect({ ...exported, meta }).toEqual(doc);
  });

  it('exports what the user typed and nothing more', () => {
    const exported = exportDocument(doc, catalogue);
    expect(exported.nodes[1]?.data.config).toEqual(doc.nodes[1]?.data.config);
    expect(Object.keys(exported)).toEqual(['nodes', 'edges', 'meta']);
    expect(exportFileName(doc)).toBe('slack-notification.automateos.json');
  });

  it.each([
    ['{ not json', /^not valid JSON/],
    ['[]', /expected a JSON object/],
    ['{"hello": 1}', /not an AutomateOS workflow/],
    ['{"nodes": [{"id": "a", "type": "email", "position": {"x": 0, "y": 0}}]}', /^Add a Start node|Unknown node type “email”/],
    ['{"nodes": [{"id": "start", "type": "start", "position": {"x": "left"}}]}', /no valid position/],
    [
      '{"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}}, {"id": "h", "type": "http", "position": {"x": 1, "y": 0}, "data": {"label": "H", "config": {"url": ""}}}], "edges": [{"source": "start", "target": "h"}]}',
      /^H: URL is required/,
    ],
    [
      '{"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}}, {"id": "h", "type": "http", "position": {"x": 1, "y": 0}, "data": {"label": "H", "config": {"url": "https://x", "timeoutMs": 0}}}], "edges": [{"source": "start", "target": "h"}]}',
      /^H: Timeout \(ms\) must be between 1 and 300,000/,
    ],
    [
      '{"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}}, {"id": "h", "type": "http", "position": {"x": 1, "y": 0}, "data": {"label": "H", "config": {"url": "https://x"}}}]}',
      /^H: Not connected to Start/,
    ],
  ])('rejects %s with a reason', (text, reason) => {
    const result = parseWorkflowText(text, catalogue);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('the shipped examples (examples/*.json)', () => {
  const examples = import.meta.glob<unknown>('../../../examples/*.json', { eager: true, import: 'default' });

  it('are all found', () => {
    expect(Object.keys(examples).length).toBeGreaterThan(0);
  });

  it.each(Object.entries(examples))('%s loads as a valid graph', async (_path, value) => {
    // A template naming an older step type is resolved by the server; here, one that answers "http".
    const result = loadWorkflow(await withServerTypes(value, catalogue, server('http')), catalogue);
    expect(result).toMatchObject({ ok: true });
  });
});

describe('lenient reading', () => {
  it('accepts the legacy “metadata” spelling, string versions and missing positions', () => {
    const result = loadWorkflow(
      {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'a', type: 'http', data: { label: 'A', config: { url: 'https://a' } } },
      ],
      edges: [{ id: 'e', source: 'start', target: 'a' }],
      metadata: { name: 'Old', version: '2024-01' },
      },
      catalogue,
    );
    expect(result.ok && result.doc.meta).toEqual({ name: 'Old', version: '2024-01' });
    expect(result.ok && result.doc.nodes.map((n) => n.position.x)).toEqual([0, 260]);
  });
});

describe('edges keep which output they leave from', () => {
  const branching: GraphDocument = {
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
      { id: 'if_1', type: 'if', position: { x: 260, y: 0 }, data: { label: 'Big?', config: { condition: '{{ inputs.n > 5 }}' } } },
      { id: 'http_1', type: 'http', position: { x: 520, y: -80 }, data: { label: 'Yes', config: { url: 'https://a.example' } } },
      { id: 'http_2', type: 'http', position: { x: 520, y: 80 }, data: { label: 'No', config: { url: 'https://b.example' } } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'if_1' },
      { id: 'e2', source: 'if_1', target: 'http_1', sourceHandle: 'true' },
      { id: 'e3', source: 'if_1', target: 'http_2', sourceHandle: 'false', targetHandle: 'in' },
    ],
    meta: { name: 'Branches', version: 1 },
  };

  it('through export and import', () => {
    const exported = exportDocument(branching, catalogue, new Date('2026-01-01T00:00:00Z'));
    expect(exported.edges).toEqual(branching.edges);
    const text = JSON.stringify(exported);
    const back = parseWorkflowText(text, catalogue);
    expect(back.ok && back.doc.edges).toEqual(branching.edges);
  });

  it('and a file whose branch edge names no output does not load', () => {
    const loose = { ...branching, edges: branching.edges.map(({ sourceHandle: _h, ...e }) => e) };
    const result = loadWorkflow(loose, catalogue);
    expect(result).toEqual({ ok: false, reason: 'Big?: Connect from one of its outputs (true, false)' });
  });

  it('drops null handles (as React Flow writes them)', () => {
    const result = loadWorkflow({ ...branching, edges: [{ id: 'e1', source: 'start', target: 'if_1', sourceHandle: null }, ...branching.edges.slice(1)] }, catalogue);
    expect(result.ok && result.doc.edges[0]).toEqual({ id: 'e1', source: 'start', target: 'if_1' });
  });
});

describe('nulls from the server', () => {
  // What GET /v1/workflows/{id} answered for a plain Start → HTTP before the server stopped sending nulls.
  const fromServer = {
    meta: { name: 'First hour', version: 1 },
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start', config: null, settings: null, samplePayload: null } },
      { id: 'http_1', type: 'http', position: { x: 280, y: 0 }, data: { label: null, config: { method: 'GET', url: 'https://a.example' }, settings: null } },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'http_1', sourceHandle: null, targetHandle: null }],
  };

  it('reads null config, settings, label and sample payload as not set, and the graph loads without a problem', () => {
    const result = loadWorkflow(fromServer, catalogue);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.doc.nodes[0]!.data).toEqual({ label: 'Start' });
    expect(result.doc.nodes[1]!.data).toEqual({ label: 'http_1', config: { method: 'GET', url: 'https://a.example' } });
    expect(validateGraph(result.doc, catalogue)).toEqual([]);
  });

  it('imports the same file as text', () => {
    expect(parseWorkflowText(JSON.stringify(fromServer), catalogue)).toMatchObject({ ok: true });
  });
});
