// React access to a builder store: a context for the instance, selector hooks for reads.

import { createContext, useContext, useMemo } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { GraphDocument } from '../graph/document';
import { mergeIssues, validateGraph, type Issue } from '../graph/validate';
import type { Catalogue } from '../graph/nodeTypes';
import { documentOf, knownCredentials, type BuilderState, type BuilderStore } from './store';

export const BuilderStoreContext = createContext<BuilderStore | null>(null);

export function useBuilderStore(): BuilderStore {
  const store = useContext(BuilderStoreContext);
  if (!store) throw new Error('useBuilderStore must be used inside <BuilderStoreContext.Provider>');
  return store;
}

/** Reads one slice of the builder state; re-renders only when that slice changes. */
export function useBuilder<T>(selector: (state: BuilderState) => T): T {
  return useStore(useBuilderStore(), selector);
}

/** Like useBuilder, for selectors that build a new object or array each time. */
export function useBuilderShallow<T>(selector: (state: BuilderState) => T): T {
  return useStore(useBuilderStore(), useShallow(selector));
}

export function useDocument(): GraphDocument {
  const nodes = useBuilder((s) => s.nodes);
  const edges = useBuilder((s) => s.edges);
  const meta = useBuilder((s) => s.meta);
  return useMemo(() => documentOf({ nodes, edges, meta }), [nodes, edges, meta]);
}

export function useCatalogue(): Catalogue {
  return useBuilder((s) => s.catalogue);
}

/** Client checks merged with the last server validation. */
export function useIssues(): Issue[] {
  const doc = useDocument();
  const catalogue = useCatalogue();
  const drafts = useBuilder((s) => s.drafts);
  const server = useBuilder((s) => s.serverIssues);
  const credentials = useBuilderShallow(knownCredentials);
  return useMemo(
    () => mergeIssues(validateGraph(doc, catalogue, { drafts, credentials }), server),
    [doc, catalogue, drafts, server, credentials],
  );
}

export function useSelectedNodeIds(): string[] {
  return useBuilderShallow((s) => s.nodes.filter((n) => n.selected).map((n) => n.id));
}
