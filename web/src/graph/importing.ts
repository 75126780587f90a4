// What the Import dialog reads, says and loads (pure): the text as JSON, the server's report in words, and the
// imported graph as the canvas's document.

import type { ImportReport, ImportResponse, ImportSource, ImportStatus } from '../api/types';
import { loadWorkflow, type ParseResult } from './convert';
import { isPlainObject } from './document';
import type { Catalogue } from './nodeTypes';

export type ReadResult = { ok: true; value: unknown } | { ok: false; reason: string };

/** The pasted or chosen text as JSON, or why it is not. The server says whether it is a workflow. */
export function readImportText(text: string): ReadResult {
  if (text.trim() === '') return { ok: false, reason: 'Nothing to import yet: choose a .json file or paste an export.' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `This is not JSON (${error instanceof Error ? error.message : String(error)}). Paste the whole export, from its first { or [ to its last } or ].` };
  }
}

export const SOURCE_LABELS: Record<ImportSource, string> = { n8n: 'n8n', 'node-red': 'Node-RED', automateos: 'AutomateOS' };

export const STATUS_LABELS: Record<ImportStatus, string> = { converted: 'Converted', review: 'Review', unsupported: 'Not supported' };

export const steps = (n: number): string => `${n} step${n === 1 ? '' : 's'}`;

/** Steps on the canvas that need the user: those to review, and unsupported ones left as failing placeholders.
 * A dropped node (no id) is not on the canvas: its note says what replaced it. */
export function toCheck(report: ImportReport): number {
  return report.review + placeholders(report);
}

const placeholders = (report: ImportReport): number => report.nodes.filter((n) => n.status === 'unsupported' && n.id !== null).length;

/** True when the list is worth keeping after import. */
export const needsAttention = (report: ImportReport): boolean => toCheck(report) > 0;

/**
 * What to do next, in one or two sentences, pointing at the list that stays after import (the toolbar's Import
 * report), whose rows select the step on the canvas. `imported`: said from that kept list, after the import.
 */
export function nextSteps(report: ImportReport, imported = false): string {
  const unsupported = placeholders(report);
  const parts: string[] = [];
  if (report.review > 0)
    parts.push(`${steps(report.review)} ${report.review === 1 ? 'needs' : 'need'} review: the notes say what to check.`);
  if (unsupported > 0)
    parts.push(`${steps(unsupported)} had no counterpart and ${unsupported === 1 ? 'is a placeholder that fails' : 'are placeholders that fail'} until replaced.`);
  if (parts.length === 0) return 'Everything converted. Save it (Ctrl+S), then run it like any workflow.';
  return imported
    ? `${parts.join(' ')} Click a step’s name to select it on the canvas and fix it in the inspector.`
    : `${parts.join(' ')} After import, Import report in the toolbar keeps this list: click a step there to select it on the canvas and fix it.`;
}

/**
 * The canvas document of an import. Our own builder file loads as it is (the server only checked it), so what its
 * graph model does not carry stays, and an export imports back unchanged; anything converted loads the server's
 * graph, named from the import, as a new workflow.
 */
export function documentOfImport(answer: ImportResponse, original: unknown, catalogue: Catalogue): ParseResult {
  if (answer.source === 'automateos' && isPlainObject(original) && Array.isArray(original.nodes)) return loadWorkflow(original, catalogue);
  // The server's meta spells every unset field as null; only what a new workflow carries is kept.
  const { meta, metadata: _legacy, ...graph } = answer.graph;
  const description = meta?.description;
  return loadWorkflow({ ...graph, meta: { name: answer.name, version: 1, ...(description ? { description } : {}) } }, catalogue);
}
