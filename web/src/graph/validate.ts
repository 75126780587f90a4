// Client-side graph checks (pure). The server repeats them; these give instant feedback while editing.

import type { FieldError } from '../api/types';
import { isPlainObject, type GraphDocument } from './document';
import { fieldFor, hasBranches, isTrigger, labelOf, outputHandles, humanise, type Catalogue, type NodeTypeInfo } from './nodeTypes';
import { findCycle, reachableFrom } from './algorithms';
import { schemaProblems } from './schemaCheck';
import { settingFields } from './settings';
import { credentialRefs, stringsIn, unclosedTemplate } from './variables';

export interface Issue {
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Config key (`url`, `headers`…), `label`, or a settings path (`settings.retry.maxAttempts`); absent for
   * node- or graph-level problems. */
  field?: string;
  source: 'client' | 'server';
  /** A fix the builder can offer beside the message. */
  action?: { kind: 'addCredential'; name: string };
}

/** Per node, per field: text the user typed that does not parse yet (e.g. half-written JSON). */
export type DraftErrors = Record<string, Record<string, string>>;

export interface CheckContext {
  drafts?: DraftErrors;
  /** Names of the stored credentials once listed; undefined or null while unknown (then not checked). */
  credentials?: readonly string[] | null;
}

export const UNCLOSED = 'A {{ variable is not closed with }}';
export const SETTINGS = 'settings';

/** Checks of the graph's shape, of each config against its type's configSchema (and settings against the
 * settings schema), unclosed `{{`, and credentials that do not exist. The server checks everything again. */
export function validateGraph(doc: GraphDocument, catalogue: Catalogue, context: CheckContext = {}): Issue[] {
  const drafts = context.drafts ?? {};
  const issues: Issue[] = [];
  const add = (issue: Omit<Issue, 'source'>) => issues.push({ ...issue, source: 'client' });

  const ids = new Set<string>();
  for (const node of doc.nodes) {
    if (ids.has(node.id)) add({ nodeId: node.id, message: `Two steps share the id “${node.id}”` });
    ids.add(node.id);
  }

  const triggers = doc.nodes.filter((n) => isTrigger(catalogue.get(n.type)));
  const triggerType = catalogue.types.find(isTrigger);
  if (triggers.length === 0) add({ message: `Add a ${triggerType?.title ?? 'trigger'} node` });
  for (const extra of triggers.slice(1)) add({ nodeId: extra.id, message: 'A workflow has one trigger; remove this one' });

  for (const node of doc.nodes) {
    const info = catalogue.get(node.type);
    if (!info) {
      add({ nodeId: node.id, message: `Unknown node type “${String(node.type)}”` });
      continue;
    }
    if (!isTrigger(info) && (typeof node.data.label !== 'string' || node.data.label.trim() === '')) {
      add({ nodeId: node.id, field: 'label', message: 'Give this step a name' });
    }
    // Null is "not set" (older servers sent it for a node without one), never a wrong type.
    if (node.data.config !== undefined && node.data.config !== null && !isPlainObject(node.data.config)) {
      add({ nodeId: node.id, message: 'Configuration must be an object' });
    }
    const config = isPlainObject(node.data.config) ? node.data.config : {};
    const nodeDrafts = drafts[node.id] ?? {};
    const flagged = new Set<string>();
    const flag = (field: string, message: string) => {
      if (flagged.has(field)) return;
      flagged.add(field);
      add({ nodeId: node.id, field, message });
    };
    // Text that does not parse yet says more than the schema's view of the last value that did.
    for (const [field, message] of Object.entries(nodeDrafts)) flag(field, message);
    for (const problem of configProblems(info, config)) flag(problem.field, problem.message);
    for (const key of info.templatedFields)
      if (stringsIn(config[key]).some(unclosedTemplate)) flag(fieldFor(info, key), UNCLOSED);
    if (info.ui.errorHandling && node.data.settings !== undefined && node.data.settings !== null)
      for (const problem of settingsProblems(catalogue, node.data.settings)) flag(problem.field, problem.message);
  }

  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  for (const edge of doc.edges) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    if (!source || !target) {
      add({ edgeId: edge.id, message: 'A connection points to a step that no longer exists' });
      continue;
    }
    if (edge.source === edge.target) {
      add({ edgeId: edge.id, nodeId: edge.source, message: 'A step cannot connect to itself' });
      continue;
    }
    const targetInfo = catalogue.get(target.type);
    if (targetInfo && targetInfo.inputs.length === 0) {
      add({ edgeId: edge.id, nodeId: edge.target, message: `Nothing can connect into the ${targetInfo.title} node` });
    }
    const sourceInfo = catalogue.get(source.type);
    if (sourceInfo && hasBranches(sourceInfo)) {
      const offered = outputHandles(sourceInfo, isPlainObject(source.data.config) ? source.data.config : {}).map((h) => h.id);
      if (edge.sourceHandle === undefined)
        add({ edgeId: edge.id, nodeId: source.id, message: `Connect from one of its outputs (${offered.join(', ')})` });
      else if (!offered.includes(edge.sourceHandle))
        add({ edgeId: edge.id, nodeId: source.id, message: `A connection leaves from “${edge.sourceHandle}”, which is no longer one of its outputs` });
    }
  }

  const cycleAt = findCycle(doc);
  if (cycleAt) add({ nodeId: cycleAt, message: 'Connections form a loop; workflows must flow one way' });

  const trigger = triggers[0];
  if (trigger && triggers.length === 1) {
    const reachable = reachableFrom(doc, trigger.id);
    for (const node of doc.nodes) {
      if (!reachable.has(node.id)) add({ nodeId: node.id, message: `Not connected to ${trigger.data.label || 'the trigger'}` });
    }
    if (doc.nodes.length === 1) add({ message: `Add a step after ${trigger.data.label || 'the trigger'}` });
  }

  if (context.credentials) {
    const known = new Set(context.credentials);
    const reported = new Set<string>();
    for (const ref of credentialRefs(doc, catalogue)) {
      const key = `${ref.nodeId}|${ref.name}`;
      if (known.has(ref.name) || reported.has(key)) continue;
      reported.add(key);
      add({
        nodeId: ref.nodeId,
        field: ref.field,
        message: ref.name === '' ? 'getCredential() needs a credential name' : `Credential “${ref.name}” does not exist`,
        ...(ref.name === '' ? {} : { action: { kind: 'addCredential' as const, name: ref.name } }),
      });
    }
  }
  return issues;
}

/** A config checked against its type's configSchema, each problem on the form field it belongs to. */
export function configProblems(info: NodeTypeInfo, config: Record<string, unknown>): { field: string; message: string }[] {
  return schemaProblems(info.configSchema, config, (path) => labelOf(info, fieldFor(info, path[0] ?? ''))).map((p) => ({
    field: fieldFor(info, p.path[0] ?? ''),
    message: p.message,
  }));
}

/** `data.settings` checked against the settings schema; fields are `settings.<path>`. */
export function settingsProblems(catalogue: Catalogue, settings: unknown): { field: string; message: string }[] {
  // Worded with the labels the form shows, so an error names the field the user sees.
  const labels = new Map(settingFields(catalogue.settingsSchema).map((f) => [f.key, f.label]));
  const labelFor = (path: string[]) => labels.get([SETTINGS, ...path].join('.')) ?? humanise(path.at(-1) ?? SETTINGS);
  return schemaProblems(catalogue.settingsSchema, settings, labelFor).map((p) => ({
    field: [SETTINGS, ...p.path].join('.'),
    message: p.message,
  }));
}

const NODE_FIELD = /^graph\.nodes\[(\d+)\](?:\.data\.(?:config\.([^.[\]]+)|(label)|(settings(?:\.[A-Za-z_]\w*)*)))?/;
const EDGE_FIELD = /^graph\.edges\[(\d+)\]/;
const PREDICATE = /^(must|is|are|needs|has|should|may|cannot|can't)\b/;

/** Maps a 422 `fields` list (paths like `graph.nodes[1].data.config.url`) onto nodes and inspector fields. */
export function issuesFromServer(doc: GraphDocument, catalogue: Catalogue, fields: readonly FieldError[]): Issue[] {
  return fields.map((f) => {
    const issue: Issue = { message: f.reason, source: 'server' };
    const nodeMatch = NODE_FIELD.exec(f.field);
    const edgeMatch = EDGE_FIELD.exec(f.field);
    const nodeId = f.nodeId ?? (nodeMatch ? doc.nodes[Number(nodeMatch[1])]?.id : undefined);
    if (nodeId) issue.nodeId = nodeId;
    const edgeId = f.edgeId ?? (edgeMatch ? doc.edges[Number(edgeMatch[1])]?.id : undefined);
    if (edgeId) issue.edgeId = edgeId;
    const node = doc.nodes.find((n) => n.id === nodeId);
    const info = node ? catalogue.get(node.type) : undefined;
    if (nodeMatch?.[2]) {
      issue.field = info ? fieldFor(info, nodeMatch[2]) : nodeMatch[2];
      const label = info ? labelOf(info, issue.field) : nodeMatch[2];
      // The server's own checks read as predicates ("must start with http://"): give them their subject.
      issue.message = PREDICATE.test(f.reason) ? `${label} ${f.reason}` : `${label}: ${f.reason}`;
    } else if (nodeMatch?.[3]) {
      issue.field = 'label';
    } else if (nodeMatch?.[4]) {
      issue.field = nodeMatch[4];
    } else if (/^[a-z]/.test(f.reason)) {
      issue.message = f.reason.charAt(0).toUpperCase() + f.reason.slice(1);
    }
    return issue;
  });
}

/** Client issues first; a server issue on the same node and field as a client one is redundant. */
export function mergeIssues(client: readonly Issue[], server: readonly Issue[]): Issue[] {
  const covered = new Set(client.map((i) => `${i.nodeId ?? ''}|${i.field ?? ''}|${i.edgeId ?? ''}`));
  return [...client, ...server.filter((i) => !covered.has(`${i.nodeId ?? ''}|${i.field ?? ''}|${i.edgeId ?? ''}`))];
}

/** One line a creator can act on, naming the step by its label. */
export function describeIssue(issue: Issue, doc: GraphDocument, catalogue?: Catalogue): string {
  const node = issue.nodeId ? doc.nodes.find((n) => n.id === issue.nodeId) : undefined;
  const name = node ? node.data.label || catalogue?.get(node.type)?.title || node.id : undefined;
  return name ? `${name}: ${issue.message}` : issue.message;
}
