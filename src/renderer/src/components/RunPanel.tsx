/**
 * The trainer knobs (the `train` command's flags), where to run (this machine or a Slurm job
 * array, with its options), Retrain up-to-date jobs, the Dry run switch and Run, plus the
 * plan (per selected job: up to date or why it will run) and the equivalent CLI command so a
 * run started here can be repeated in a terminal or on a cluster. Accelerators that do not
 * work here are listed disabled with the reason.
 */
import type { ProviderProbe } from '../../../shared/api';
import { describeFreshness, type JobFreshness } from '../../../shared/fingerprint';
import type { Knobs, SlurmOptions } from '../stores/settings';

interface Props {
  knobs: Knobs;
  dryRun: boolean;
  selectedCount: number;
  providers: ProviderProbe[];
  busy: boolean;
  cliCommand: string;
  runOn?: 'local' | 'slurm';
  force?: boolean;
  slurm?: SlurmOptions;
  /** The plan for the selected jobs (empty while unknown). */
  plan?: JobFreshness[];
  onKnob<K extends keyof Knobs>(key: K, value: Knobs[K]): void;
  onDryRun(v: boolean): void;
  onRun(): void;
  onRunOn?(v: 'local' | 'slurm'): void;
  onForce?(v: boolean): void;
  onSlurm?(v: SlurmOptions): void;
}

function SlurmFields({ value, onChange }: { value: SlurmOptions; onChange(v: SlurmOptions): void }) {
  const text = (key: 'partition' | 'time' | 'gres' | 'mem' | 'account' | 'extra', label: string, hint: string) => (
    <label className="knob" title={hint}>
      <span>{label}</span>
      <input
        type="text"
        placeholder={key === 'gres' ? 'gpu:1' : key === 'time' ? '02:00:00' : key === 'mem' ? '16G' : ''}
        value={value[key]}
        onChange={(e) => onChange({ ...value, [key]: e.target.value.replace(/[\r\n]/g, '') })}
      />
    </label>
  );
  const count = (key: 'cpusPerTask' | 'maxParallel', label: string, hint: string) => (
    <label className="knob" title={hint}>
      <span>{label}</span>
      <input
        type="number"
        min={1}
        step={1}
        inputMode="numeric"
        value={value[key] ?? ''}
        onChange={(e) => {
          const n = Number(e.target.value);
          onChange({ ...value, [key]: e.target.value.trim() === '' || !Number.isInteger(n) || n < 1 ? null : n });
        }}
      />
    </label>
  );
  return (
    <fieldset className="knobs slurm-options" aria-label="Slurm options">
      {text('partition', 'Partition', '--partition')}
      {text('time', 'Time limit', '--time (per task)')}
      {text('gres', 'GPUs (gres)', '--gres, e.g. gpu:1')}
      {count('cpusPerTask', 'CPUs / task', '--cpus-per-task')}
      {text('mem', 'Memory', '--mem (per task)')}
      {count('maxParallel', 'At most at once', '--max-parallel (--array=…%K)')}
      {text('account', 'Account', '--account')}
      {text('extra', 'Extra #SBATCH', "--extra: one more '#SBATCH …' line")}
    </fieldset>
  );
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
        <label className="knob" title="Run on this machine's queue, or hand the jobs to Slurm as one job array">
          <span>Run on</span>
          <select
            aria-label="Run on"
            value={p.runOn ?? 'local'}
            onChange={(e) => p.onRunOn?.(e.target.value as 'local' | 'slurm')}
          >
            <option value="local">this machine</option>
            <option value="slurm">Slurm</option>
          </select>
        </label>
        <label className="knob check" title="--force: train selected jobs even when they are up to date">
          <input type="checkbox" checked={p.force ?? false} onChange={(e) => p.onForce?.(e.target.checked)} />
          <span>Retrain up-to-date jobs</span>
        </label>
      </div>
      {p.runOn === 'slurm' && p.slurm && p.onSlurm && <SlurmFields value={p.slurm} onChange={p.onSlurm} />}
      {p.plan && p.plan.length > 0 && (
        <ul className="plan muted" aria-label="Plan">
          {p.plan.map((f) => (
            <li key={f.jobId}>
              <code>{f.jobId}</code>: {describeFreshness(f)}
            </li>
          ))}
        </ul>
      )}
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
          {p.runOn === 'slurm' ? 'Submit to Slurm' : 'Run'}
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
