// One bundler (esbuild) for every entry point: the CLI now; the worker, extension and webview join here.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';

const entries = [
  { in: 'src/cli/memscore.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
];
for (const e of entries) {
  if (!existsSync(e.in)) continue;
  await build({
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    banner: e.banner ? { js: e.banner } : undefined,
    external: ['vscode', 'onnxruntime-node', '@tensorflow/*'],
    logLevel: 'warning',
  });
  if (e.banner) chmodSync(e.out, 0o755);
}
