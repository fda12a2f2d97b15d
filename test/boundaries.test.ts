import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli';

// Lint throw-away files laid out like the repo, with the repo's own biome.json.
const sandbox = mkdtempSync(join(tmpdir(), 'ptycho-boundaries-'));
const config = JSON.parse(readFileSync(join(repoRoot, 'biome.json'), 'utf8')) as Record<string, unknown>;
config.vcs = { enabled: false };
config.$schema = undefined;
writeFileSync(join(sandbox, 'biome.json'), JSON.stringify(config));
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

function lint(path: string, source: string): string {
  const file = join(sandbox, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  const biome = join(repoRoot, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const r = spawnSync(process.execPath, [biome, 'lint', '--max-diagnostics=50', path], {
    cwd: sandbox,
    encoding: 'utf8',
  });
  rmSync(file);
  return r.stdout + r.stderr;
}

/** Lint several throw-away files in one run; returns the paths with an import-restriction error. */
function lintEach(files: Record<string, string>): Set<string> {
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(sandbox, path)), { recursive: true });
    writeFileSync(join(sandbox, path), source);
  }
  const biome = join(repoRoot, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const r = spawnSync(process.execPath, [biome, 'lint', '--max-diagnostics=500', ...Object.keys(files)], {
    cwd: sandbox,
    encoding: 'utf8',
  });
  for (const path of Object.keys(files)) rmSync(join(sandbox, path));
  const flagged = new Set<string>();
  for (const line of (r.stdout + r.stderr).split('\n')) {
    const m = /^(\S+\.ts):\d+:\d+ lint\/style\/noRestrictedImports/.exec(line.trim());
    if (m) flagged.add(m[1]);
  }
  return flagged;
}

describe('import boundaries are enforced by the linter', () => {
  it('src/shared may not import node built-ins or anything of ours outside src/shared', () => {
    expect(
      lint('src/shared/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n"),
    ).toContain('noRestrictedImports');
    expect(lint('src/shared/y.ts', "import { p } from '../main/paths';\nexport const a = p;\n")).toContain(
      'noRestrictedImports',
    );
    expect(lint('src/shared/z.ts', "import { z } from 'zod';\nexport const a = z;\n")).not.toContain(
      'noRestrictedImports',
    );
  });
  it('src/main outside electron/ may not import electron', () => {
    expect(lint('src/main/study/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toContain(
      'noRestrictedImports',
    );
    expect(lint('src/main/electron/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).not.toContain(
      'noRestrictedImports',
    );
  });
  it('the engine folders may not import the adapters (service, cli, server, electron)', () => {
    const adapters = [
      "import { StudyService } from '../service/study-service';\nexport const a = StudyService;\n",
      "import { runCli } from '../cli/run';\nexport const a = runCli;\n",
      "import { startServer } from '../server/server';\nexport const a = startServer;\n",
      "import { registerIpc } from '../electron/ipc';\nexport const a = registerIpc;\n",
    ];
    const files: Record<string, string> = {};
    for (const folder of [
      'nn',
      'pinn',
      'data',
      'eval',
      'study',
      'trainer',
      'classical',
      'slurm',
      'gpu',
      'numeric',
      'util',
    ]) {
      adapters.forEach((source, i) => {
        files[`src/main/${folder}/adapter${i}.ts`] = source;
      });
    }
    // A module at the root of src/main (paths.ts, version.ts) is engine too.
    files['src/main/root.ts'] = "import { runCli } from './cli/run';\nexport const a = runCli;\n";
    // The electron rule still holds inside the engine folders.
    files['src/main/nn/electron.ts'] = "import { app } from 'electron';\nexport const a = app;\n";
    const allowed: Record<string, string> = {
      'src/main/study/engine.ts': "import { writeNpz } from '../data/npz';\nexport const a = writeNpz;\n",
      'src/main/service/engine.ts':
        "import { planTrainingJobs } from '../study/jobs';\nexport const a = planTrainingJobs;\n",
      'src/main/study/engine.test.ts': "import { runCli } from '../cli/run';\nexport const a = runCli;\n",
    };
    const flagged = lintEach({ ...files, ...allowed });
    expect(Object.keys(files).filter((path) => !flagged.has(path))).toEqual([]);
    expect(Object.keys(allowed).filter((path) => flagged.has(path))).toEqual([]);
  });
  it('the renderer may not import src/main', () => {
    expect(
      lint('src/renderer/src/x.ts', "import { packageRoot } from '../../main/paths';\nexport const a = packageRoot;\n"),
    ).toContain('noRestrictedImports');
  });
});
