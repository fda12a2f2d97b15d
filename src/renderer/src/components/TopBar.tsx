/** Title, the engine line (onnxruntime-node version, providers) and the theme switch. */
import type { WorkbenchInfo } from '../../../shared/api';

interface Props {
  info: WorkbenchInfo | null;
  error: string | null;
  theme: 'light' | 'dark';
  onTheme(t: 'light' | 'dark'): void;
}

export function TopBar({ info, error, theme, onTheme }: Props) {
  return (
    <header className="topbar">
      <h1>PtychoPINN study workbench</h1>
      {info && (
        <span className="engine muted">
          v{info.appVersion} · {info.transport === 'electron' ? 'desktop' : 'browser mode'} · onnxruntime-node{' '}
          <span data-testid="ort-version">{info.onnxruntimeVersion}</span> ·{' '}
          {info.providers.map((p) => (
            <span
              key={p.name}
              className={`provider ${p.available ? (p.software ? 'soft' : 'ok') : 'off'}`}
              title={p.detail}
            >
              {p.name} {p.available ? (p.software ? 'software only (auto uses cpu)' : 'available') : 'unavailable'}
            </span>
          ))}
        </span>
      )}
      {!info && !error && <span className="muted">Connecting to the engine…</span>}
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
      <button
        type="button"
        className="theme-toggle"
        aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
        onClick={() => onTheme(theme === 'dark' ? 'light' : 'dark')}
      >
        {theme === 'dark' ? '☀ Light' : '☾ Dark'}
      </button>
    </header>
  );
}
