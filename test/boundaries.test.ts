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
  it('the renderer may not import src/main', () => {
    expect(
      lint('src/renderer/src/x.ts', "import { packageRoot } from '../../main/paths';\nexport const a = packageRoot;\n"),
    ).toContain('noRestrictedImports');
  });
});
