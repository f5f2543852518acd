/**
 * Packages the extension as a platform-specific .vsix (`vsce package --target`), for this machine or `--target T`.
 *
 * The bundles in dist/ are self-contained except for onnxruntime-node, which is native (esbuild keeps it external).
 * This script stages a copy of the extension in a temporary folder (the repository is never written to, so two runs
 * cannot trip over each other) and puts the run-time files of onnxruntime-node for that one platform next to the
 * bundles, under dist/node_modules/:
 *   onnxruntime-node/{package.json, dist/*.js, bin/napi-v6/PLATFORM/ARCH/*}
 *   onnxruntime-common/{package.json, dist/cjs/**}          (what `require('onnxruntime-node')` loads)
 * so the worker's plain `require('onnxruntime-node')` (from dist/worker.js) finds them by Node's ordinary lookup, and
 * nothing else of node_modules (install scripts, headers, the other platforms' 240 MB of binaries) is shipped.
 * .vscodeignore still decides what goes in (`!dist/node_modules/**` whitelists the staged runtime).
 * The words and numeric featurizers never load the runtime, so they work even where it fails to load.
 *
 * Usage (after `npm run compile`; `npm run package` does both):
 *   node scripts/package.mjs [--target linux-x64|linux-arm64|darwin-arm64|win32-x64|win32-arm64] [--out FILE.vsix]
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

class PackageError extends Error {}

/** Stops with a message (thrown, so the staging folder is still removed). */
function fail(message) {
  throw new PackageError(message);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(target|out)(?:=(.*))?$/.exec(a);
    if (!m) fail(`unknown argument ${a} (use --target T, --out FILE.vsix)`);
    out[m[1]] = m[2] ?? argv[++i];
    if (!out[m[1]]) fail(`${a} needs a value`);
  }
  return out;
}

/** The VS Code target of this machine: PLATFORM-ARCH as Node names them (alpine for musl Linux). */
function hostTarget() {
  const musl = process.platform === 'linux' && !process.report?.getReport?.().header?.glibcVersionRuntime;
  return `${musl ? 'alpine' : process.platform}-${process.arch}`;
}

/** The folder of an installed package, looked up like Node does from `from` (exports maps hide package.json). */
function packageDir(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) fail(`${name} is not installed (npm ci first)`);
  }
}

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
const isRuntimeJs = (f) => statSync(f).isDirectory() || /\.(c?js|json)$/.test(f);

/** Copies onnxruntime-node and onnxruntime-common's run-time files for one platform into DEST/node_modules. */
function stageOnnxRuntime(dest, target) {
  const [platform, arch] = target.split('-');
  const ortDir = packageDir('onnxruntime-node', ROOT);
  const ort = readJson(path.join(ortDir, 'package.json'));
  const napi = (ort.binary?.napi_versions ?? [6]).map((v) => `napi-v${v}`);
  const bins = napi
    .map((v) => path.join('bin', v, platform, arch))
    .filter((b) => existsSync(path.join(ortDir, b)));
  if (platform === 'alpine' || !bins.length) {
    const have = napi.flatMap((v) => {
      const d = path.join(ortDir, 'bin', v);
      return existsSync(d)
        ? readdirSync(d).flatMap((p) => readdirSync(path.join(d, p)).map((a) => `${p}-${a}`))
        : [];
    });
    fail(`onnxruntime-node ${ort.version} has no binaries for ${target} (it has: ${have.join(', ')})`);
  }
  const ortOut = path.join(dest, 'onnxruntime-node');
  cpSync(path.join(ortDir, 'package.json'), path.join(ortOut, 'package.json'));
  cpSync(path.join(ortDir, 'dist'), path.join(ortOut, 'dist'), {
    recursive: true,
    filter: isRuntimeJs,
  });
  for (const b of bins) cpSync(path.join(ortDir, b), path.join(ortOut, b), { recursive: true });

  const commonDir = packageDir('onnxruntime-common', ortDir);
  const common = readJson(path.join(commonDir, 'package.json'));
  const wanted = ort.dependencies?.['onnxruntime-common'];
  if (wanted && wanted !== common.version)
    fail(`onnxruntime-node ${ort.version} wants onnxruntime-common ${wanted}, found ${common.version}`);
  const commonOut = path.join(dest, 'onnxruntime-common');
  cpSync(path.join(commonDir, 'package.json'), path.join(commonOut, 'package.json'));
  // `require` resolves its "exports" to dist/cjs (dist/cjs/package.json says commonjs); the ESM build is not needed.
  cpSync(path.join(commonDir, 'dist', 'cjs'), path.join(commonOut, 'dist', 'cjs'), {
    recursive: true,
    filter: isRuntimeJs,
  });
  return { version: ort.version, bins };
}

function folderSize(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;

try {
  const args = parseArgs(process.argv.slice(2));
  const target = args.target ?? hostTarget();
  const manifest = readJson(path.join(ROOT, 'package.json'));
  const out = path.resolve(
    args.out ?? path.join(ROOT, `${manifest.name}-${target}-${manifest.version}.vsix`),
  );
  for (const f of ['dist/extension.js', 'dist/worker.js'])
    if (!existsSync(path.join(ROOT, f))) fail(`${f} is missing: npm run compile first`);
  const vsce = path.join(packageDir('@vscode/vsce', ROOT), 'vsce');

  const stage = mkdtempSync(path.join(os.tmpdir(), 'memorization-vsix-'));
  try {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', '.vscodeignore', 'media']) {
      if (existsSync(path.join(ROOT, f)))
        cpSync(path.join(ROOT, f), path.join(stage, f), { recursive: true });
    }
    // The bundles only (a dist/node_modules left in the repository by hand is never picked up).
    mkdirSync(path.join(stage, 'dist'));
    for (const f of readdirSync(path.join(ROOT, 'dist')))
      if (f.endsWith('.js')) cpSync(path.join(ROOT, 'dist', f), path.join(stage, 'dist', f));
    const runtimeDir = path.join(stage, 'dist', 'node_modules');
    const ort = stageOnnxRuntime(runtimeDir, target);

    if (target === hostTarget()) {
      // Load the staged copy exactly as the worker will (from dist/), so a broken stage fails here, not in the editor.
      const probe =
        `const o=require(${JSON.stringify(path.join(runtimeDir, 'onnxruntime-node'))});` +
        'if(typeof o.InferenceSession?.create!=="function")throw new Error("no InferenceSession");' +
        'process.stdout.write(o.env.versions.node??"?")';
      const loaded = execFileSync(process.execPath, ['-e', probe], { cwd: stage, encoding: 'utf8' });
      if (loaded !== ort.version) fail(`staged onnxruntime-node reports ${loaded}, expected ${ort.version}`);
    }

    rmSync(out, { force: true });
    execFileSync(
      process.execPath,
      [
        vsce,
        'package',
        '--no-dependencies',
        '--target',
        target,
        '--allow-missing-repository',
        '--skip-license',
        '-o',
        out,
      ],
      { cwd: stage, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (!existsSync(out)) fail('vsce did not write the .vsix');
    console.log(
      `[package] ${path.relative(process.cwd(), out) || out}: ${mb(statSync(out).size)} for ${target}, with ` +
        `onnxruntime-node ${ort.version} (${ort.bins.join(', ')}; ${mb(folderSize(runtimeDir))} unpacked)`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
} catch (err) {
  if (!(err instanceof PackageError)) throw err;
  console.error(`[package] ${err.message}`);
  process.exitCode = 1;
}
