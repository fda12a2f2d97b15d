import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli';

const require = createRequire(import.meta.url);
// electron-builder's own schema check; packaging itself needs Electron's download host.
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(): void }): Promise<void>;
};
const yaml = require('js-yaml') as { load(text: string): unknown };

const logger = { isEnabled: false, add() {} };

describe('electron-builder configuration', () => {
  const config = yaml.load(readFileSync(join(repoRoot, 'build', 'electron-builder.yml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;

  it('passes electron-builder schema validation and targets Linux, macOS and Windows', async () => {
    await expect(validateConfiguration(config, logger)).resolves.toBeUndefined();
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
  });

  it('an invalid key is rejected by the same validation', async () => {
    await expect(
      validateConfiguration({ ...config, linux: { target: 'AppImage', bogusKey: 1 } }, logger),
    ).rejects.toThrow(/Invalid configuration object/);
  });
});
