// What components need beyond the store: the API client, the session, and the services that talk to the server.

import { createContext, useContext, useMemo } from 'react';
import { useStore } from 'zustand';
import type { Api } from '../api/client';
import type { Issue } from '../graph/validate';
import type { CredentialsService } from './credentials';
import type { ImportReportState, ImportReportStore } from './importReport';
import { useEscapeLayer, type Layers } from './layers';
import type { SessionInfo } from '../api/types';
import type { ItemsController } from './itemsController';
import type { RunController } from './runController';
import { useDocument } from '../store/hooks';
import { snapshotOf, type WorkflowsService, type WorkflowsState } from './workflows';

export interface Services {
  api: Api;
  /** Who is signed in; the UI disables what the role may not do, and says why. */
  session: SessionInfo;
  runs: RunController;
  /** The item picker's pages of a loop step's items. */
  items: ItemsController;
  credentials: CredentialsService;
  workflows: WorkflowsService;
  /** The last import's report, while the canvas holds what it imported. */
  imports: ImportReportStore;
  /** The open drawers, menus and dialogs, for Escape. */
  layers: Layers;
}

const RANK = { runner: 0, editor: 1, admin: 2 } as const;

/** Null when the signed-in role may do it, else the reason to show on the disabled control. */
export function roleBlocks(session: SessionInfo, needed: keyof typeof RANK, doing: string): string | null {
  return RANK[session.role] >= RANK[needed] ? null : `${doing} needs the ${needed} role; you are signed in as ${session.role}`;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices must be used inside <ServicesContext.Provider>');
  return services;
}

/** While `open`, Escape closes this drawer, menu or dialog (the topmost one only). */
export function useClosesOnEscape(open: boolean, close: () => void): void {
  useEscapeLayer(useServices().layers, open, close);
}

/** Issues of the current graph, computed once per change and shared by the canvas, inspector and toolbar. */
export const IssuesContext = createContext<readonly Issue[]>([]);

export function useIssuesOf(nodeId: string): Issue[] {
  return useContext(IssuesContext).filter((issue) => issue.nodeId === nodeId);
}

/** Reads one slice of the saved-workflow state (which workflow, which version, unsaved changes, the list). */
export function useWorkflows<T>(selector: (state: WorkflowsState) => T): T {
  return useStore(useServices().workflows.store, selector);
}

/** Reads the kept import report's state. */
export function useImportReport<T>(selector: (state: ImportReportState) => T): T {
  return useStore(useServices().imports, selector);
}

/** True while the canvas differs from the version last saved or opened. */
export function useUnsaved(): boolean {
  const saved = useWorkflows((s) => s.savedSnapshot);
  const doc = useDocument();
  return useMemo(() => snapshotOf(doc) !== saved, [doc, saved]);
}
