// One bundler (esbuild) for every entry point: the CLI now; the worker, extension and webview join here.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';

const entries = [
  { in: 'src/cli/memscore.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'src/worker/server.ts', out: 'dist/worker.js' },
  { in: 'src/extension/extension.ts', out: 'dist/extension.js' },
  // The ranking view's script runs in the webview (a browser): per-entry platform/format.
  { in: 'webview/panel.ts', out: 'dist/webview.js', platform: 'browser', format: 'iife' },
  // The memorization report's script (chart.js bundled in), also a webview.
  { in: 'webview/report.ts', out: 'dist/report.js', platform: 'browser', format: 'iife' },
];
for (const e of entries) {
  if (!existsSync(e.in)) continue;
  await build({
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: e.platform ?? 'node',
    target: (e.platform ?? 'node') === 'node' ? 'node20' : 'es2022',
    format: e.format ?? 'cjs',
    sourcemap: true,
    banner: e.banner ? { js: e.banner } : undefined,
    // @napi-rs/canvas is native: loaded lazily by `memscore eval --png` only.
    external: ['vscode', 'onnxruntime-node', '@tensorflow/*', '@napi-rs/canvas'],
    logLevel: 'warning',
  });
  if (e.banner) chmodSync(e.out, 0o755);
}
