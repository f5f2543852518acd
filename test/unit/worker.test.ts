import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import {
  type MessageConnection,
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import {
  ErrorCodes,
  ExplainRequest,
  InfoRequest,
  ProgressNotification,
  type ProgressParams,
  ScoreRequest,
} from '../../src/protocol/messages';
import { rng } from './helpers';

const root = resolve(__dirname, '../..');
const workerJs = join(root, 'dist/worker.js');
const sharedSpam = resolve(root, '../shared/data/spam.train.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'memscore-worker-'));

interface Worker {
  proc: ChildProcess;
  connection: MessageConnection;
  progress: ProgressParams[];
  onProgress?: (p: ProgressParams) => void;
  exited: Promise<void>;
  stderr: string[];
}

const workers: Worker[] = [];

function startWorker(): Worker {
  const proc = spawn(process.execPath, [workerJs], { stdio: ['pipe', 'pipe', 'pipe'] });
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

function writeJsonl(name: string, rows: object[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return file;
}

const SPAM = ['free', 'money', 'win', 'cash', 'click', 'offer', 'cheap', 'prize', 'deal', 'bonus'];
const HAM = ['meeting', 'agenda', 'lunch', 'team', 'report', 'tuesday', 'project', 'notes', 'review', 'call'];
const COMMON = ['the', 'a', 'to', 'and', 'for', 'you', 'we', 'this', 'now', 'today', 'please', 'with'];

function generatedRows(n: number, words: number, seed: number): object[] {
  const r = rng(seed);
  const pick = (a: string[]) => a[Math.floor(r() * a.length)];
  return Array.from({ length: n }, (_, i) => {
    const spam = i % 2 === 0;
    const text = Array.from({ length: words }, () =>
      r() < 0.4 ? pick(spam ? SPAM : HAM) : r() < 0.1 ? pick(spam ? HAM : SPAM) : pick(COMMON),
    ).join(' ');
    return { id: `r${i}`, text, label: spam ? 'spam' : 'ham' };
  });
}

/** A job slow enough to cancel mid-way: the shared SpamAssassin file with LiSSA (~20 s), or a large generated file. */
function slowJob(): { file: string; solver: 'lissa' } {
  if (existsSync(sharedSpam)) return { file: sharedSpam, solver: 'lissa' };
  return { file: writeJsonl('large.jsonl', generatedRows(20000, 60, 7)), solver: 'lissa' };
}

let small: string;

before(() => {
  if (!existsSync(workerJs)) {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  small = writeJsonl('small.jsonl', generatedRows(200, 12, 1));
});

after(async () => {
  await Promise.all(workers.map(stopWorker));
});

test('worker: info', async () => {
  const w = startWorker();
  try {
    const info = await w.connection.sendRequest(InfoRequest, undefined);
    assert.equal(info.backend, 'cpu (JavaScript, float64)');
    assert.equal(info.pid, w.proc.pid);
    assert.match(info.version, /^\d+\.\d+\.\d+/);
  } finally {
    await stopWorker(w);
  }
});

test('worker: score a small file, with progress tagged by jobId', async () => {
  const w = startWorker();
  try {
    const res = await w.connection.sendRequest(ScoreRequest, { jobId: 'small-1', file: small, options: {} });
    assert.equal(res.jobId, 'small-1');
    assert.equal(res.rows.length, 200);
    assert.equal(res.summary.counts.rows, 200);
    assert.deepEqual(res.summary.classes.map((c) => c.name).sort(), ['ham', 'spam']);
    assert.ok(w.progress.length >= 1, 'at least one progress notification');
    assert.ok(w.progress.every((p) => p.jobId === 'small-1'));
    assert.ok(w.progress.some((p) => p.stage === 'scoring'));
  } finally {
    await stopWorker(w);
  }
});

test('worker: explain attributes the asked rows', async () => {
  const w = startWorker();
  try {
    const res = await w.connection.sendRequest(ExplainRequest, {
      jobId: 'explain-1',
      file: small,
      options: { attribute: 0 },
      rows: [7, 150],
    });
    assert.equal(res.jobId, 'explain-1');
    assert.equal(res.rows.length, 200);
    const attributed = res.rows.filter((r) => r.tokens).map((r) => r.index);
    assert.deepEqual(attributed, [7, 150]);
    assert.ok(w.progress.some((p) => p.jobId === 'explain-1' && p.stage === 'attributing'));
  } finally {
    await stopWorker(w);
  }
});

test('worker: a data error comes back as a dataError ResponseError naming the file', async () => {
  const w = startWorker();
  try {
    const oneClass = writeJsonl(
      'one-class.jsonl',
      generatedRows(20, 5, 2).map((r) => ({ ...r, label: 'spam' })),
    );
    await assert.rejects(
      w.connection.sendRequest(ScoreRequest, { jobId: 'bad', file: oneClass, options: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ResponseError, String(err));
        assert.equal(err.code, ErrorCodes.dataError);
        assert.ok(err.message.includes(basename(oneClass)), err.message);
        return true;
      },
    );
    // The worker is still serving.
    const info = await w.connection.sendRequest(InfoRequest, undefined);
    assert.equal(info.pid, w.proc.pid);
  } finally {
    await stopWorker(w);
  }
});

test('worker: cancel mid-job answers cancelled quickly; the worker keeps serving', async () => {
  const w = startWorker();
  try {
    const job = slowJob();
    const cts = new CancellationTokenSource();
    let cancelledAt = 0;
    w.onProgress = (p) => {
      if (p.jobId === 'slow' && !cancelledAt && p.stage === 'scoring') {
        cancelledAt = Date.now();
        cts.cancel();
      }
    };
    const t0 = Date.now();
    await assert.rejects(
      w.connection.sendRequest(
        ScoreRequest,
        { jobId: 'slow', file: job.file, options: { solver: job.solver } },
        cts.token,
      ),
      (err: unknown) => {
        assert.ok(err instanceof ResponseError, String(err));
        assert.equal(err.code, ErrorCodes.cancelled);
        return true;
      },
    );
    assert.ok(cancelledAt > 0, 'cancelled after a scoring progress notification');
    const latency = Date.now() - cancelledAt;
    process.stderr.write(
      `# cancel: started scoring after ${cancelledAt - t0} ms, cancelled in ${latency} ms\n`,
    );
    assert.ok(latency < 2000, `cancelled error within 2 s (took ${latency} ms)`);
    w.onProgress = undefined;

    const res = await w.connection.sendRequest(ScoreRequest, { jobId: 'after', file: small, options: {} });
    assert.equal(res.rows.length, 200);
  } finally {
    await stopWorker(w);
  }
});

test('worker: a newer request for the same file cancels the older one', async () => {
  const w = startWorker();
  try {
    const job = slowJob();
    let firstProgress: () => void = () => undefined;
    const sawFirst = new Promise<void>((res) => (firstProgress = res));
    // Supersede while the old job featurizes (synchronous batches: the engine must yield between them).
    w.onProgress = (p) => {
      if (p.jobId === 'old' && p.stage === 'featurizing') firstProgress();
    };
    const old = w.connection.sendRequest(ScoreRequest, {
      jobId: 'old',
      file: job.file,
      options: { solver: job.solver },
    });
    await sawFirst;
    const t0 = Date.now();
    const newer = w.connection.sendRequest(ScoreRequest, { jobId: 'new', file: job.file, options: {} });
    await assert.rejects(old, (err: unknown) => {
      assert.ok(err instanceof ResponseError, String(err));
      assert.equal(err.code, ErrorCodes.cancelled);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000, 'superseded job answers within 2 s');
    const res = await newer;
    assert.equal(res.jobId, 'new');
    assert.ok(res.rows.length > 0);
  } finally {
    await stopWorker(w);
  }
});

test('worker: SIGKILL mid-job rejects the pending request; a fresh worker serves the next one', async () => {
  const w = startWorker();
  try {
    const job = slowJob();
    let killed = false;
    w.onProgress = () => {
      if (!killed) {
        killed = true;
        w.proc.kill('SIGKILL');
      }
    };
    await assert.rejects(
      w.connection.sendRequest(ScoreRequest, {
        jobId: 'doomed',
        file: job.file,
        options: { solver: job.solver },
      }),
      (err: unknown) => {
        assert.ok(err instanceof Error, String(err));
        assert.match(err.message, /dispos|clos/i);
        return true;
      },
    );
    assert.ok(killed);
    await w.exited;
    assert.equal(w.proc.signalCode, 'SIGKILL');
  } finally {
    await stopWorker(w);
  }
  const fresh = startWorker();
  try {
    const res = await fresh.connection.sendRequest(ScoreRequest, {
      jobId: 'fresh',
      file: small,
      options: {},
    });
    assert.equal(res.rows.length, 200);
  } finally {
    await stopWorker(fresh);
  }
});
