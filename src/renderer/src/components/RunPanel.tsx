/**
 * The trainer knobs (the `train` command's flags, generated from the knob table and checked
 * as typed: a refused value names the valid range and disables Run), where to run (this machine or a Slurm job
 * array, with its options), Retrain up-to-date jobs, the Dry run switch and Run, plus the
 * plan (per selected job: up to date or why it will run) and the equivalent CLI command so a
 * run started here can be repeated in a terminal or on a cluster. Accelerators that do not
 * work here are listed disabled with the reason.
 */
import { useEffect, useState } from 'react';
import type { ProviderProbe } from '../../../shared/api';
import type { JobFreshness } from '../../../shared/fingerprint';
import { planLine } from '../lib/plan';
import {
  type KnobKey,
  type KnobSpec,
  KNOBS,
  knobFlagText,
  parseKnobText,
  WORKBENCH_KNOBS,
} from '../../../shared/knobs';
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

/** The workbench's knobs by how they are set: typed values first, then choices, then switches. */
const TYPED = WORKBENCH_KNOBS.filter((k) => ['integer', 'number'].includes(KNOBS[k].kind.type));
const CHOICES = WORKBENCH_KNOBS.filter((k) => KNOBS[k].kind.type === 'choice');
const SWITCHES = WORKBENCH_KNOBS.filter((k) => KNOBS[k].kind.type === 'boolean');

function asText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/**
 * A typed knob, checked as it is typed against the knob table: blank is "not given" (the
 * placeholder shows the default); a value the table refuses stays on screen with the valid
 * range beside it, and the last valid value is kept until it is fixed.
 */
function TypedKnob({
  knob,
  value,
  onChange,
  onValidity,
}: {
  knob: KnobKey;
  value: unknown;
  onChange(v: number | null): void;
  onValidity(error: string | null): void;
}) {
  const spec: KnobSpec = KNOBS[knob];
  const [text, setText] = useState(asText(value));
  const [error, setError] = useState<string | null>(null);
  // a value set elsewhere (settings loaded) shows, unless the user is mid-fix or typed this very
  // value another way (`1e3` stays `1e3`)
  useEffect(() => {
    if (error !== null) return;
    const typed = text.trim() === '' ? null : parseKnobText(knob, text);
    const current = typed === null ? null : typed.ok ? typed.value : undefined;
    if (current !== (value ?? null)) setText(asText(value));
  }, [value, error, text, knob]);
  const errorId = `knob-error-${knob}`;
  return (
    <label className="knob" title={`${knobFlagText(knob)}: ${spec.help}`}>
      <span>{spec.label}</span>
      <input
        type="text"
        className="knob-value"
        inputMode={spec.kind.type === 'integer' ? 'numeric' : 'decimal'}
        placeholder={spec.defaultText}
        value={text}
        aria-invalid={error !== null}
        aria-describedby={error ? errorId : undefined}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '') {
            setError(null);
            onValidity(null);
            onChange(null);
            return;
          }
          const r = parseKnobText(knob, t);
          const message = r.ok ? null : `${spec.label}: ${r.error}`;
          setError(message);
          onValidity(message);
          if (r.ok) onChange(r.value as number);
        }}
      />
      {error && (
        <span className="knob-error" id={errorId} role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

export function RunPanel(p: Props) {
  const k = p.knobs;
  const [errors, setErrors] = useState<Partial<Record<KnobKey, string>>>({});
  const invalid = Object.values(errors).some(Boolean);
  // auto never picks a software (CPU-type) adapter: the same rule as the engine's.
  const cpuOnly = !p.providers.some((x) => x.name !== 'cpu' && x.available && !x.software);
  /** An accelerator's option text: why it cannot be chosen here, or that it is a slow software adapter. */
  const choiceText = (knob: KnobKey, name: string): { text: string; disabled: boolean; title?: string } => {
    if (knob !== 'accelerator') return { text: name, disabled: false };
    if (name === 'auto') return { text: `auto${cpuOnly ? ' (→ cpu)' : ''}`, disabled: false };
    const probe = p.providers.find((x) => x.name === name);
    const ok = probe?.available ?? false;
    const note = ok
      ? probe?.software
        ? ' (software, slower than cpu)'
        : ''
      : ` — ${probe?.detail ?? 'not available here'}`;
    return { text: `${name}${note}`, disabled: !ok, title: probe?.detail };
  };
  return (
    <section className="run-panel" aria-label="Run">
      <div className="knobs">
        {TYPED.map((knob) => (
          <TypedKnob
            key={knob}
            knob={knob}
            value={k[knob]}
            onChange={(v) => p.onKnob(knob, v as Knobs[typeof knob])}
            onValidity={(message) => setErrors((e) => ({ ...e, [knob]: message ?? undefined }))}
          />
        ))}
        {CHOICES.map((knob) => {
          const spec: KnobSpec = KNOBS[knob];
          const choices = spec.kind.type === 'choice' ? spec.kind.choices : [];
          return (
            <label key={knob} className="knob" title={`${knobFlagText(knob)}: ${spec.help}`}>
              <span>{spec.label}</span>
              <select
                value={asText(k[knob] ?? spec.default)}
                onChange={(e) => p.onKnob(knob, e.target.value as Knobs[typeof knob])}
              >
                {choices.map((name) => {
                  const c = choiceText(knob, name);
                  return (
                    <option key={name} value={name} disabled={c.disabled} title={c.title}>
                      {c.text}
                    </option>
                  );
                })}
              </select>
            </label>
          );
        })}
        {SWITCHES.map((knob) => {
          const spec: KnobSpec = KNOBS[knob];
          return (
            <label key={knob} className="knob check" title={`${knobFlagText(knob)}: ${spec.help}`}>
              <input
                type="checkbox"
                checked={k[knob] === true}
                onChange={(e) => p.onKnob(knob, e.target.checked as Knobs[typeof knob])}
              />
              <span>{spec.label}</span>
            </label>
          );
        })}
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
              <code>{f.jobId}</code>: {planLine(f)}
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
          disabled={p.selectedCount === 0 || p.busy || invalid}
          title={
            invalid
              ? 'Fix the knob values marked above first'
              : p.selectedCount === 0
                ? 'Select jobs in the matrix first'
                : undefined
          }
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
