// React and the app, loaded by the entry (main.tsx) once the first requests to the core are out.
import { StrictMode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { firstPageIn } from './store/live-sync';

/**
 * How long the first render waits for the VM table's first page when it is not in yet. The request
 * left before this chunk was loaded and is usually answered within this; rendering the empty
 * "Loading…" screen a moment before the rows would cost a render and a paint on the way to them.
 * Past this the app renders anyway (a slow or unreachable core shows its own state).
 */
const FIRST_RENDER_WAIT_MS = 100;

// For the bench (test/bench/frames.ts): React DOM and the app are evaluated; 'render' when the first render starts.
performance.mark('mkc:boot');

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
const render = () => {
  performance.mark('mkc:render');
  // Rendered in this task: scheduled, the render would wait behind whatever else is queued (socket
  // messages, a frame of the empty page) with the first page already in hand.
  const reactRoot = createRoot(root);
  flushSync(() =>
    reactRoot.render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  );
};
void Promise.race([firstPageIn, new Promise((resolve) => setTimeout(resolve, FIRST_RENDER_WAIT_MS))]).then(render);
