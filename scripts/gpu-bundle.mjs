// `npm run gpu:bundle [-- --out DIR] [--no-vulkan]`: a self-contained folder that runs the
// GPU training checks on a bare x86-64 Linux machine with no registry access: Node
// (xz-compressed), the checks bundled into one JS file, onnxruntime-node's linux-x64 files
// only, Debian's Vulkan/GL loader packages and run.sh.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const out = resolve(outIdx >= 0 ? argv[outIdx + 1] : join(root, '.gpu-bundle'));
const withVulkan = !argv.includes('--no-vulkan');
const LIMIT_MIB = 60;
const VULKAN_DEBS = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
// vulkaninfo (and the X/Wayland client libraries it links), to name the adapter and driver.
const VULKANINFO_DEBS = ['vulkan-tools', 'libwayland-client0', 'libx11-6', 'libxcb1', 'libxau6', 'libxdmcp6'];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('gpu:bundle builds a linux-x64 bundle and must run on linux-x64 (it packs this Node binary).');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. the checks, bundled into one file; onnxruntime-node stays external (native addon).
await build({
  absWorkingDir: root,
  entryPoints: ['src/main/gpu/checks-main.ts'],
  outfile: join(out, 'checks.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['onnxruntime-node'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

// 2. onnxruntime-node (linux-x64 files only) + onnxruntime-common, as a node_modules tree.
const require = createRequire(import.meta.url);
const ortDir = dirname(require.resolve('onnxruntime-node/package.json'));
// onnxruntime-common's exports map hides package.json: walk up from its entry instead.
let commonDir = dirname(createRequire(join(ortDir, 'package.json')).resolve('onnxruntime-common'));
while (!existsSync(join(commonDir, 'package.json'))) commonDir = dirname(commonDir);
const stage = join(tmpdir(), `ptycho-gpu-stage-${process.pid}`);
rmSync(stage, { recursive: true, force: true });
const nm = join(stage, 'node_modules');
cpSync(join(ortDir, 'package.json'), join(nm, 'onnxruntime-node', 'package.json'));
cpSync(join(ortDir, 'dist'), join(nm, 'onnxruntime-node', 'dist'), { recursive: true });
cpSync(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64'), join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64'), {
  recursive: true,
});
cpSync(commonDir, join(nm, 'onnxruntime-common'), { recursive: true });
sh('tar', ['-C', stage, '-cf', join(out, 'runtime.tar'), 'node_modules']);
sh('xz', ['-T0', '-3', join(out, 'runtime.tar')]);
rmSync(stage, { recursive: true, force: true });

// 3. this Node binary, compressed.
writeFileSync(
  join(out, 'node.xz'),
  spawnSync('xz', ['-T0', '-3', '-c', process.execPath], { maxBuffer: 1 << 30 }).stdout,
);

// 4. Debian's Vulkan / GL loader packages (unpacked by run.sh, never installed).
if (withVulkan) {
  const debs = join(out, 'debs');
  mkdirSync(debs);
  const tryDownload = (extra) =>
    spawnSync('apt-get', [...extra, 'download', ...VULKAN_DEBS, ...VULKANINFO_DEBS], { cwd: debs, encoding: 'utf8' });
  let r = tryDownload(['-oAPT::Architecture=amd64']);
  if (r.status !== 0) {
    const lists = join(tmpdir(), 'ptycho-apt-lists');
    mkdirSync(join(lists, 'partial'), { recursive: true });
    const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
    spawnSync('apt-get', [...o, 'update', '-qq'], { encoding: 'utf8' });
    r = tryDownload(o);
  }
  if (r.status !== 0) {
    console.error(
      `gpu:bundle: could not download the Vulkan loader packages (${VULKAN_DEBS.join(' ')}): ${r.stderr.trim()}`,
    );
    console.error(
      'Run where Debian packages are reachable, or pass --no-vulkan (the bundle then needs libvulkan1 on the GPU machine).',
    );
    process.exit(1);
  }
}

// 5. run.sh and the PyTorch reference scripts.
cpSync(join(root, 'scripts', 'gpu-bundle', 'run.sh'), join(out, 'run.sh'));
cpSync(join(root, 'bench', 'reference'), join(out, 'reference'), { recursive: true });

let total = 0;
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    const s = statSync(p);
    if (s.isDirectory()) walk(p);
    else total += s.size;
  }
};
walk(out);
const mib = total / 2 ** 20;
console.log(`gpu bundle: ${out} (${mib.toFixed(1)} MiB)`);
if (mib > LIMIT_MIB) {
  console.error(`gpu:bundle: ${mib.toFixed(1)} MiB exceeds the ${LIMIT_MIB} MiB limit`);
  process.exit(1);
}
if (!existsSync(join(out, 'run.sh'))) process.exit(1);
