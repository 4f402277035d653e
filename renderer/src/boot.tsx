// React and the app, loaded by the entry (main.tsx) once the first requests to the core are out.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';

// For the bench (test/bench/frames.ts): React DOM and the app are evaluated, the first render starts.
performance.mark('mkc:boot');

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
