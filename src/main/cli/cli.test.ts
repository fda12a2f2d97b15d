import { describe, expect, it } from 'vitest';
import { runCliSync, startCli } from '../../../test/helpers/cli';
import { normalizeFlagSpelling } from './argv';

describe('ptycho-study CLI', () => {
  it('--help lists the commands', () => {
    const r = runCliSync(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['serve', 'info']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('an unknown command exits non-zero with a clear message', () => {
    const r = runCliSync(['frobnicate']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('serve --port 0 prints exactly one Workbench line and answers 401 without the token', async () => {
    const proc = startCli(
      ['serve', '--port', '0', '--workspace', '/tmp/ptycho-cli-test'],
      /Workbench: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=\S+)\n/,
    );
    try {
      const m = await proc.ready;
      expect(proc.stdout().trim().split('\n')).toHaveLength(1);
      expect((await fetch(`http://127.0.0.1:${m[2]}/`)).status).toBe(401);
      expect((await fetch(m[1])).status).toBe(200);
    } finally {
      await proc.stop();
    }
  });
});

describe('flag spelling', () => {
  it('rewrites underscore flags to hyphens and leaves values alone', () => {
    expect(
      normalizeFlagSpelling(['train', '--max_epochs', '2', '--n_images=10', '--artifact-root', 'a_b', '--', '--x_y']),
    ).toEqual(['train', '--max-epochs', '2', '--n-images=10', '--artifact-root', 'a_b', '--', '--x_y']);
  });
});
