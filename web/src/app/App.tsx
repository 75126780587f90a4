// The builder's shell: providers, effects, layout.

import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo } from 'react';
import type { Api } from '../api/client';
import { Canvas } from '../components/Canvas';
import { CredentialsDrawer } from '../components/CredentialsDrawer';
import { HistoryDrawer } from '../components/HistoryDrawer';
import { Inspector } from '../components/Inspector';
import { Palette } from '../components/Palette';
import { RunInputsDialog } from '../components/RunInputsDialog';
import { RunPanel } from '../components/RunPanel';
import { Toasts } from '../components/Toasts';
import { Toolbar } from '../components/Toolbar';
import { BuilderStoreContext, useBuilderStore, useIssues } from '../store/hooks';
import type { BuilderStore } from '../store/store';
import { startAutosave, startServerValidation } from './effects';
import { createCredentialsService } from './credentials';
import { createRunController } from './runController';
import { IssuesContext, ServicesContext, useServices, type Services } from './services';
import { useShortcuts } from './useShortcuts';

export function App({ store, api }: { store: BuilderStore; api: Api }) {
  const services = useMemo<Services>(
    () => ({ api, runs: createRunController(store, api), credentials: createCredentialsService(store, api) }),
    [store, api],
  );

  useEffect(() => {
    void services.credentials.refresh(); // The credential picker needs the names; the panel refreshes again.
    const stopSaving = startAutosave(store, window.localStorage);
    const stopValidating = startServerValidation(store, api);
    return () => {
      stopSaving();
      stopValidating();
      services.runs.dispose();
    };
  }, [store, api, services]);

  return (
    <BuilderStoreContext.Provider value={store}>
      <ServicesContext.Provider value={services}>
        <ReactFlowProvider>
          <Shell />
        </ReactFlowProvider>
      </ServicesContext.Provider>
    </BuilderStoreContext.Provider>
  );
}

function Shell() {
  const issues = useIssues();
  const store = useBuilderStore();
  const { runs } = useServices();
  useShortcuts(store, runs);
  return (
    <IssuesContext.Provider value={issues}>
      <div className="app">
        <Toolbar />
        <div className="workspace">
          <Palette />
          <main className="center">
            <Canvas />
            <RunPanel />
          </main>
          <Inspector />
          <HistoryDrawer />
          <CredentialsDrawer />
        </div>
        <RunInputsDialog />
        <Toasts />
      </div>
    </IssuesContext.Provider>
  );
}
