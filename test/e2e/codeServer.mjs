/* global fetch */
/** Starts and stops an isolated code-server (own user-data, extensions and XDG dirs) on 127.0.0.1. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function dirs(tmp) {
  const d = {
    userData: path.join(tmp, 'user-data'),
    extensions: path.join(tmp, 'extensions'),
    xdgConfig: path.join(tmp, 'xdg', 'config'),
    xdgData: path.join(tmp, 'xdg', 'data'),
    xdgCache: path.join(tmp, 'xdg', 'cache'),
    xdgState: path.join(tmp, 'xdg', 'state'),
  };
  for (const v of Object.values(d)) mkdirSync(v, { recursive: true });
  return d;
}

function env(d) {
  return {
    ...process.env,
    XDG_CONFIG_HOME: d.xdgConfig,
    XDG_DATA_HOME: d.xdgData,
    XDG_CACHE_HOME: d.xdgCache,
    XDG_STATE_HOME: d.xdgState,
  };
}

export async function startCodeServer({ node, entry, vsix, tmp, workspace }) {
  const d = dirs(tmp);
  const common = ['--user-data-dir', d.userData, '--extensions-dir', d.extensions];
  execFileSync(node, [entry, ...common, '--install-extension', vsix], {
    env: env(d),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await freePort();
  const logFile = path.join(tmp, 'code-server.log');
  const out = openSync(logFile, 'a');
  const proc = spawn(
    node,
    [
      entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...common,
      workspace,
    ],
    { env: env(d), stdio: ['ignore', out, out], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`code-server exited early (${proc.exitCode}); see ${logFile}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`code-server /healthz did not answer in 60 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { proc, url, port, logFile, userData: d.userData };
}

/** Kills the process group started with detached: true. */
export async function stopProcessGroup(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    process.kill(-proc.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const t = setTimeout(() => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 5000);
  await exited;
  clearTimeout(t);
}
