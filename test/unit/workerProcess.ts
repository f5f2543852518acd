/**
 * The worker process as the unit tests drive it: spawn dist/worker.js, connect JSON-RPC over its stdio the way the
 * extension's client does, collect progress notifications, and stop it (SIGKILL) at the end.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc';
import {
  type MessageConnection,
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { ProgressNotification, type ProgressParams } from '../../src/protocol/messages';

export const root = resolve(__dirname, '../..');
export const workerJs = join(root, 'dist/worker.js');
/** The shared SpamAssassin training file, when ../shared/data is present. */
export const sharedSpam = resolve(root, '../shared/data/spam.train.jsonl');

export interface Worker {
  proc: ChildProcess;
  connection: MessageConnection;
  progress: ProgressParams[];
  onProgress?: (p: ProgressParams) => void;
  exited: Promise<void>;
  stderr: string[];
}

const workers: Worker[] = [];

/** Builds dist/worker.js when it is missing (a test file run on its own, without `npm run compile`). */
export function ensureWorkerBuilt(): void {
  if (existsSync(workerJs)) return;
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

function startWorker(env?: NodeJS.ProcessEnv): Worker {
  const proc = spawn(process.execPath, [workerJs], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const connection = createMessageConnection(
    new StreamMessageReader(proc.stdout!),
    new StreamMessageWriter(proc.stdin!),
  );
  const w: Worker = {
    proc,
    connection,
    progress: [],
    stderr: [],
    exited: new Promise((res) => proc.once('exit', () => res())),
  };
  proc.stderr!.on('data', (d: Buffer) => w.stderr.push(d.toString()));
  // Like the extension's client: a dead worker disposes the connection, which rejects pending requests.
  proc.once('exit', () => connection.dispose());
  connection.onNotification(ProgressNotification, (p) => {
    w.progress.push(p);
    w.onProgress?.(p);
  });
  connection.onError(() => undefined);
  connection.listen();
  workers.push(w);
  return w;
}

async function stopWorker(w: Worker): Promise<void> {
  w.connection.dispose();
  if (w.proc.exitCode === null && w.proc.signalCode === null) {
    w.proc.kill('SIGKILL');
    await w.exited;
  }
}

/** Runs `fn` with a fresh worker, stopped afterwards whatever happens. */
export async function withWorker<T>(fn: (w: Worker) => Promise<T>, env?: NodeJS.ProcessEnv): Promise<T> {
  const w = startWorker(env);
  try {
    return await fn(w);
  } finally {
    await stopWorker(w);
  }
}

/** Stops every worker this test file started (for an `after` hook: a failed test may leave one running). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all(workers.map(stopWorker));
}

/** Writes rows as JSONL to dir/name; returns the path. */
export function writeJsonl(dir: string, name: string, rows: object[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return file;
}

/**
 * For `assert.rejects`: the request failed with a ResponseError of this code (ErrorCodes), and `check` holds for it.
 */
export function responseError(code: number, check?: (err: ResponseError<unknown>) => void) {
  return (err: unknown): true => {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.code, code);
    check?.(err);
    return true;
  };
}

/** Word lists of generated spam/ham rows. */
export const SPAM = ['free', 'money', 'win', 'cash', 'click', 'offer', 'cheap', 'prize', 'deal', 'bonus'];
export const HAM = [
  'meeting',
  'agenda',
  'lunch',
  'team',
  'report',
  'tuesday',
  'project',
  'notes',
  'review',
  'call',
];
export const COMMON = ['the', 'a', 'to', 'and', 'for', 'you', 'we', 'this', 'now', 'today', 'please', 'with'];
