// `npm start`: build, then open the Electron window when Electron's binary is present;
// otherwise run browser mode on the default workspace, print the URL and open the browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from './electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const workspace = process.env.PTYCHO_STUDY_WORKSPACE ?? join(root, 'workspace');
const electron = findElectronBinary();
let child;
const cli = join(root, 'bin', 'ptycho-study.mjs');
if (electron.path && process.env.PTYCHO_STUDY_BROWSER !== '1') {
  // The desktop app opens on the workspace; give it the demo study the first time.
  if (!existsSync(join(workspace, 'phase_c'))) {
    console.log('Creating the demo study in', workspace, '…');
    const steps = [
      ['simulate', '--preset', 'demo', '--out', join(workspace, 'phase_c')],
      ['overlap', '--phase-c-root', join(workspace, 'phase_c'), '--out', join(workspace, 'phase_d')],
    ];
    for (const args of steps) {
      const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
      if (r.status !== 0) process.exit(r.status ?? 1);
    }
  }
  console.log('Starting the desktop app (Electron)…');
  child = spawn(electron.path, [root], {
    stdio: 'inherit',
    env: { ...process.env, PTYCHO_STUDY_WORKSPACE: workspace },
  });
} else {
  if (!electron.path) console.log(`Electron is not available (${electron.reason}); starting browser mode instead.`);
  child = spawn(process.execPath, [cli, 'serve', '--workspace', workspace, '--demo', '--open'], { stdio: 'inherit' });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
