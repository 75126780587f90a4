import '@xyflow/react/dist/style.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { httpApi } from './api/client';
import { Boot } from './app/Boot';

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Boot api={httpApi} storage={window.localStorage} />
  </StrictMode>,
);
