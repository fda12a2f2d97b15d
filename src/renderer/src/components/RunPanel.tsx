/**
 * The trainer knobs (the `train` command's flags), the Dry run switch and Run, plus the
 * equivalent CLI command so a run started here can be repeated in a terminal or on a
 * cluster. Accelerators that do not work here are listed disabled with the reason.
 */
import type { ProviderProbe } from '../../../shared/api';
import type { Knobs } from '../stores/settings';

interface Props {
  knobs: Knobs;
  dryRun: boolean;
  selectedCount: number;
  providers: ProviderProbe[];
  busy: boolean;
  cliCommand: string;
  onKnob<K extends keyof Knobs>(key: K, value: Knobs[K]): void;
  onDryRun(v: boolean): void;
  onRun(): void;
}

function NumberKnob({
  label,
  flag,
  value,
  min,
  placeholder,
  onChange,
}: {
  label: string;
  flag: string;
  value: number | null;
  min: number;
  placeholder: string;
  onChange(v: number | null): void;
}) {
  return (
    <label className="knob" title={`--${flag}`}>
      <span>{label}</span>
      <input
        type="number"
        min={min}
        step={1}
        inputMode="numeric"
        placeholder={placeholder}
        value={value ?? ''}
        onChange={(e) => {
          const v = e.target.value.trim();
          const n = Number(v);
          onChange(v === '' || !Number.isInteger(n) || n < min ? null : n);
        }}
      />
    </label>
  );
}

export function RunPanel(p: Props) {
  const k = p.knobs;
  // auto never picks a software (CPU-type) adapter: the same rule as the engine's.
  const cpuOnly = !p.providers.some((x) => x.name !== 'cpu' && x.available && !x.software);
  return (
    <section className="run-panel" aria-label="Run">
      <div className="knobs">
        <NumberKnob
          label="Epochs"
          flag="max-epochs"
          value={k.max_epochs}
          min={1}
          placeholder="50"
          onChange={(v) => p.onKnob('max_epochs', v)}
        />
        <NumberKnob
          label="n-images"
          flag="n-images"
          value={k.n_groups}
          min={1}
          placeholder="all"
          onChange={(v) => p.onKnob('n_groups', v)}
        />
        <NumberKnob
          label="Batch"
          flag="batch-size"
          value={k.batch_size}
          min={1}
          placeholder="16"
          onChange={(v) => p.onKnob('batch_size', v)}
        />
        <NumberKnob
          label="Seed"
          flag="seed"
          value={k.seed}
          min={0}
          placeholder="42"
          onChange={(v) => p.onKnob('seed', v)}
        />
        <label className="knob" title="--accelerator">
          <span>Accelerator</span>
          <select
            value={k.accelerator}
            onChange={(e) => p.onKnob('accelerator', e.target.value as Knobs['accelerator'])}
          >
            <option value="auto">auto{cpuOnly ? ' (→ cpu)' : ''}</option>
            {(['cpu', 'webgpu', 'cuda'] as const).map((name) => {
              const probe = p.providers.find((x) => x.name === name);
              const ok = probe?.available ?? false;
              return (
                <option key={name} value={name} disabled={!ok} title={probe?.detail}>
                  {name}
                  {ok
                    ? probe?.software
                      ? ' (software, slower than cpu)'
                      : ''
                    : ` — ${probe?.detail ?? 'not available here'}`}
                </option>
              );
            })}
          </select>
        </label>
        <label className="knob check" title="--deterministic">
          <input
            type="checkbox"
            checked={k.deterministic}
            onChange={(e) => p.onKnob('deterministic', e.target.checked)}
          />
          <span>Deterministic</span>
        </label>
      </div>
      <div className="run-row">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            aria-checked={p.dryRun}
            aria-label="Dry run"
            checked={p.dryRun}
            onChange={(e) => p.onDryRun(e.target.checked)}
          />
          <span className="switch-track" aria-hidden="true" />
          <span>Dry run</span>
        </label>
        <button
          type="button"
          className="primary"
          onClick={p.onRun}
          disabled={p.selectedCount === 0 || p.busy}
          title={p.selectedCount === 0 ? 'Select jobs in the matrix first' : undefined}
        >
          Run
        </button>
        <span className="muted">
          {p.selectedCount === 0
            ? 'no job selected'
            : `${p.selectedCount} job${p.selectedCount === 1 ? '' : 's'} selected${p.dryRun ? ' · dry run: plans and writes the manifest, trains nothing' : ''}`}
        </span>
      </div>
      {p.cliCommand && (
        <details className="cli">
          <summary>Same run from a terminal</summary>
          <code>{p.cliCommand}</code>
        </details>
      )}
    </section>
  );
}
