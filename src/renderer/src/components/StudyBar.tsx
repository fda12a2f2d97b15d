/**
 * Where the study lives: Phase C, Phase D and artifact roots. In the browser they are
 * typed (and resolved inside the workspace by the engine, which refuses escapes with a
 * message shown here); in Electron each has a native folder picker too.
 */
import { useEffect, useState } from 'react';
import { pickFolder } from '../api-client';
import { PRESET_NAMES, type PresetName, STUDY_PRESETS } from '../../../shared/presets';
import type { Roots } from '../stores/settings';

interface Props {
  roots: Roots | null;
  error: string | null;
  busy: boolean;
  demo: { running: boolean; message: string | null; fraction: number | null };
  canPick: boolean;
  /** Browser mode: the roots must lie inside this workspace (the engine refuses others). */
  workspace?: string | null;
  confined?: boolean;
  canCreateDemo: boolean;
  onOpen(roots: Roots): void;
  onCreateDemo(preset: PresetName): void;
}

const FIELDS: [keyof Roots, string][] = [
  ['phaseC', 'Phase C root'],
  ['phaseD', 'Phase D root'],
  ['artifact', 'Artifact root'],
];

export function StudyBar({
  roots,
  error,
  busy,
  demo,
  canPick,
  canCreateDemo,
  workspace = null,
  confined = false,
  onOpen,
  onCreateDemo,
}: Props) {
  const [draft, setDraft] = useState<Roots>(roots ?? { phaseC: '', phaseD: '', artifact: '' });
  const [preset, setPreset] = useState<PresetName>('demo');
  useEffect(() => {
    if (roots) setDraft(roots);
  }, [roots]);
  const dirty = !roots || FIELDS.some(([k]) => draft[k] !== roots[k]);
  const empty = FIELDS.some(([k]) => draft[k].trim() === '');

  return (
    <form
      className="studybar"
      aria-label="Study roots"
      onSubmit={(e) => {
        e.preventDefault();
        if (!empty)
          onOpen({ phaseC: draft.phaseC.trim(), phaseD: draft.phaseD.trim(), artifact: draft.artifact.trim() });
      }}
    >
      {FIELDS.map(([key, label]) => (
        <label key={key} className="root-field">
          <span>{label}</span>
          <span className="root-input">
            <input
              type="text"
              value={draft[key]}
              spellCheck={false}
              aria-invalid={error ? true : undefined}
              onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
            />
            {canPick && (
              <button
                type="button"
                className="small"
                aria-label={`Choose ${label}`}
                onClick={async () => {
                  const picked = await pickFolder(label);
                  if (picked) setDraft({ ...draft, [key]: picked });
                }}
              >
                …
              </button>
            )}
          </span>
        </label>
      ))}
      <button type="submit" disabled={busy || empty} className={dirty ? 'primary' : ''}>
        Open
      </button>
      <button
        type="button"
        onClick={() => onCreateDemo(preset)}
        disabled={demo.running || busy || !canCreateDemo}
        title={
          canCreateDemo
            ? `Simulate the ${preset} study into the workspace: ${STUDY_PRESETS[preset].purpose} (${STUDY_PRESETS[preset].budget})`
            : 'This engine build has no demo-study generator yet'
        }
      >
        {demo.running ? 'Creating demo study…' : 'Create demo study'}
      </button>
      <select
        aria-label="Demo study preset"
        value={preset}
        disabled={demo.running || busy || !canCreateDemo}
        onChange={(e) => setPreset(e.target.value as PresetName)}
        title={STUDY_PRESETS[preset].budget}
      >
        {PRESET_NAMES.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      {(demo.running || demo.message) && (
        <span className="demo-status" role="status">
          {demo.fraction !== null && demo.running && (
            <progress max={1} value={demo.fraction} aria-label="Demo study progress" />
          )}
          <span className="muted">{demo.message}</span>
        </span>
      )}
      {error && (
        <p className="error studybar-error" role="alert">
          {error}
        </p>
      )}
      {confined && (
        <p
          className={`studybar-hint ${error ? '' : 'muted'}`}
          data-testid="workspace-hint"
          title="The desktop app (npm start) has folder pickers that open any folder."
        >
          Browser mode opens folders inside the workspace{workspace ? ` ${workspace}` : ''} only; for data elsewhere
          restart on a folder that holds it: <code>npx ptycho-study serve --workspace &lt;dir&gt;</code>
        </p>
      )}
    </form>
  );
}
