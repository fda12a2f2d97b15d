import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { CurveStore } from './stores/curves';
import { useStudy } from './stores/study';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
const curves = new CurveStore();
// The UI benchmark (e2e/bench-ui.ts) streams synthetic events into the same store the
// engine feeds; it asks for this handle with ?bench in the URL and nothing else uses it.
if (new URLSearchParams(location.search).has('bench')) {
  (window as unknown as { __workbenchBench?: unknown }).__workbenchBench = { curves, study: useStudy };
}
createRoot(root).render(
  <StrictMode>
    <App curves={curves} />
  </StrictMode>,
);
