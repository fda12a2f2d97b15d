import { useEffect } from 'react';
import { useInfo } from './store';

export function App() {
  const { info, error, load } = useInfo();
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="app">
      <header className="topbar">
        <h1>PtychoPINN study workbench</h1>
        {info && (
          <span className="muted">
            v{info.appVersion} · {info.transport === 'electron' ? 'desktop' : 'browser mode'}
          </span>
        )}
      </header>
      <main>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {!info && !error && <p className="muted">Connecting to the engine…</p>}
        {info && (
          <section className="panel" aria-label="Engine">
            <h2>Engine</h2>
            <dl>
              <dt>onnxruntime-node</dt>
              <dd data-testid="ort-version">{info.onnxruntimeVersion}</dd>
              <dt>Node</dt>
              <dd>{info.nodeVersion}</dd>
              <dt>Platform</dt>
              <dd>
                {info.platform}/{info.arch}
              </dd>
              <dt>Workspace</dt>
              <dd>{info.workspace ?? '—'}</dd>
            </dl>
            <h3>Execution providers</h3>
            <ul className="providers">
              {info.providers.map((p) => (
                <li key={p.name} className={p.available ? 'ok' : 'off'} title={p.detail}>
                  <strong>{p.name}</strong> {p.available ? 'available' : `unavailable — ${p.detail}`}
                </li>
              ))}
            </ul>
          </section>
        )}
      </main>
    </div>
  );
}
