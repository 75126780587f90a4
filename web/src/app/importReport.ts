// The Import dialog's state, and the last import's report, kept after it replaced the canvas so that the steps to review can be found again
// (Import report, in the toolbar). In memory only: it goes when the canvas holds another workflow (opened, new, a
// template, another import), when the user dismisses it, or on reload.

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ImportReport, ImportSource } from '../api/types';

export interface KeptImport {
  name: string;
  source: ImportSource;
  report: ImportReport;
}

export interface ImportReportState {
  /** The Import dialog (choose, check, replace) is open. */
  choosing: boolean;
  kept: KeptImport | null;
  /** The kept report's dialog is open. */
  open: boolean;
}

export type ImportReportStore = StoreApi<ImportReportState>;

export function createImportReportStore(): ImportReportStore {
  return createStore<ImportReportState>(() => ({ choosing: false, kept: null, open: false }));
}
