// The builder's shell: providers, effects, layout.

import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo } from 'react';
import type { Api } from '../api/client';
import { Canvas } from '../components/Canvas';
import { CredentialsDrawer } from '../components/CredentialsDrawer';
import { HistoryDrawer } from '../components/HistoryDrawer';
import { ImportDialog, KeptImportDialog } from '../components/ImportDialog';
import { Inspector } from '../components/Inspector';
import { Palette } from '../components/Palette';
import { RunInputsDialog } from '../components/RunInputsDialog';
import { RunPanel } from '../components/RunPanel';
import { Toasts } from '../components/Toasts';
import { Toolbar } from '../components/Toolbar';
import { BuilderStoreContext, useBuilderStore, useIssues } from '../store/hooks';
import type { BuilderStore } from '../store/store';
import { startAutosave, startServerValidation, type Draft } from './effects';
import { createWorkflowsService } from './workflows';
import type { SessionInfo } from '../api/types';
import { WorkflowsDrawer } from '../components/WorkflowsDrawer';
import { ReplaceConfirm } from '../components/ReplaceConfirm';
import { createCredentialsService } from './credentials';
import { createImportReportStore } from './importReport';
import { createItemsController } from './itemsController';
import { createLayers } from './layers';
import { createRunController, type RunController } from './runController';
import { startRouting } from './route';
import { IssuesContext, roleBlocks, ServicesContext, useServices, type Services } from './services';
import { useShortcuts } from './useShortcuts';

interface AppProps {
  store: BuilderStore;
  api: Api;
  session: SessionInfo;
  draft: Draft | null;
  storage: Storage;
}

export function App({ store, api, session, draft, storage }: AppProps) {
  const services = useMemo<Services>(() => {
    const toast = (kind: 'info' | 'success' | 'error', text: string) => store.getState().pushToast(kind, text);
    // The run controller is made after the workflows service (it asks which version is saved) and is told by it when
    // the canvas holds another workflow: a late binding, through this closure.
    let runs: RunController | null = null;
    const imports = createImportReportStore();
    const workflows = createWorkflowsService(
      store,
      api,
      toast,
      draft ? { binding: draft.binding, savedSnapshot: draft.savedSnapshot } : null,
      {
        replaced: () => {
          runs?.clear();
          imports.setState({ kept: null, open: false }); // It listed another workflow's steps.
        },
      },
    );
    runs = createRunController(store, api, {
      // Pins are an editor's tool (the server refuses them from a runner): a runner's Run runs the workflow as it is.
      mayPin: () => roleBlocks(session, 'editor', 'Pinning') === null,
      savedVersion: () => {
        const binding = workflows.store.getState().binding;
        return binding && !workflows.isDirty() ? { workflowId: binding.workflowId, version: binding.version } : null;
      },
    });
    return {
      api,
      session,
      runs,
      items: createItemsController(store, api),
      credentials: createCredentialsService(store, api),
      workflows,
      imports,
      layers: createLayers(),
    };
  }, [store, api, session, draft]);

  useEffect(() => {
    void services.credentials.refresh(); // The credential picker needs the names; the panel refreshes again.
    const stopSaving = startAutosave(store, services.workflows.store, storage);
    const stopValidating = startServerValidation(store, api);
    const stopRouting = startRouting(services.workflows);
    return () => {
      stopSaving();
      stopValidating();
      stopRouting();
      services.runs.dispose();
      services.items.dispose();
    };
  }, [store, api, services, storage]);

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
  const { runs, workflows, layers } = useServices();
  useShortcuts(store, runs, workflows, layers);
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
          <WorkflowsDrawer />
        </div>
        <RunInputsDialog />
        <ImportDialog />
        <KeptImportDialog />
        <ReplaceConfirm />
        <Toasts />
      </div>
    </IssuesContext.Provider>
  );
}
