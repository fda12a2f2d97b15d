// esbuild options shared by the Node-side bundles (CLI, server, training worker): one file
// per entry with its dependencies inside. Node's ESM loader otherwise resolves, reads and
// wraps each package's modules one by one: bundled, a training worker is ready ≈ 0.07 s and
// the CLI ≈ 0.06 s sooner (docs/benchmarks.md § study). onnxruntime-node (a native addon)
// and ws (optional native helpers) still load from node_modules.
export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['onnxruntime-node', 'ws'],
  logLevel: 'warning',
  // CommonJS dependencies call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
