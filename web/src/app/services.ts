// What components need beyond the store: the API client and the run controller.

import { createContext, useContext } from 'react';
import type { Api } from '../api/client';
import type { Issue } from '../graph/validate';
import type { CredentialsService } from './credentials';
import type { RunController } from './runController';

export interface Services {
  api: Api;
  runs: RunController;
  credentials: CredentialsService;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices must be used inside <ServicesContext.Provider>');
  return services;
}

/** Issues of the current graph, computed once per change and shared by the canvas, inspector and toolbar. */
export const IssuesContext = createContext<readonly Issue[]>([]);

export function useIssuesOf(nodeId: string): Issue[] {
  return useContext(IssuesContext).filter((issue) => issue.nodeId === nodeId);
}
