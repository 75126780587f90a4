import '@xyflow/react/dist/style.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { httpApi } from './api/client';
import { App } from './app/App';
import { loadSaved } from './app/effects';
import { createBuilderStore } from './store/store';

const saved = loadSaved(window.localStorage);
const store = createBuilderStore(saved ? { initial: saved } : {});

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App store={store} api={httpApi} />
  </StrictMode>,
);
