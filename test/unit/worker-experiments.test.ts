import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  ExperimentsRequest,
  InfoRequest,
  ProgressNotification,
  type ProgressParams,
} from '../../src/protocol/messages';
import { rng } from './helpers';
import { TINY_BERT_DIR } from './tinyBertReference';

const root = resolve(__dirname, '../..');
const workerJs = join(root, 'dist/worker.js');
const sharedSpam = resolve(root, '../shared/data/spam.train.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'memscore-worker-experiments-'));

interface Worker {
  proc: ChildProcess;
  connection: MessageConnection;
  progress: ProgressParams[];
  onProgress?: (p: ProgressParams) => void;
  exited: Promise<void>;
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
    exited: new Promise((res) => proc.once('exit', () => res())),
  };
  proc.stderr!.resume();
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

const SPAM = ['free', 'money', 'win', 'cash', 'click', 'offer', 'cheap', 'prize', 'deal', 'bonus'];
const HAM = ['meeting', 'agenda', 'lunch', 'team', 'report', 'tuesday', 'project', 'notes', 'review', 'call'];
const COMMON = ['the', 'a', 'to', 'and', 'for', 'you', 'we', 'this', 'now', 'today', 'please', 'with'];

/** Generated spam/ham rows with a `group` field the model never sees ('odd' rows use the other class's words). */
function writeRows(name: string, n: number, words: number, seed: number): string {
  const r = rng(seed);
  const pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const lines = Array.from({ length: n }, (_, i) => {
    const spam = i % 2 === 0;
    const odd = i % 9 === 4;
    const own = spam !== odd ? SPAM : HAM;
    const text = Array.from({ length: words }, () => (r() < 0.4 ? pick(own) : pick(COMMON))).join(' ');
    return JSON.stringify({ id: `r${i}`, text, label: spam ? 'spam' : 'ham', group: odd ? 'odd' : 'plain' });
  });
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

let small: string;

before(() => {
  if (!existsSync(workerJs)) {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  small = writeRows('small.jsonl', 240, 12, 3);
});

after(async () => {
  await Promise.all(workers.map(stopWorker));
});

test('worker experiments: progress per experiment, then the report', async () => {
  const w = startWorker();
  try {
    const res = await w.connection.sendRequest(ExperimentsRequest, {
      jobId: 'exp-1',
      file: small,
      options: {
        holdout: 0.25,
        removal: { fractions: [0.1, 0.3], seeds: 2 },
        reduction: { top: 0.1, ks: [0.1, 0.5], steps: 10 },
        stability: { seeds: 2, fraction: 0.9 },
        typicality: { field: 'group' },
      },
    });
    assert.equal(res.jobId, 'exp-1');
    const r = res.report;
    assert.equal(r.rows, 240);
    assert.deepEqual(r.test, { kind: 'holdout', fraction: 0.25, rows: 60, trainRows: 180 });
    assert.deepEqual(
      r.removal?.memorized.map((m) => m.fraction),
      [0.1, 0.3],
    );
    assert.equal(r.removal?.random[0].runs.length, 2);
    assert.equal(r.reduction?.attribution.length, 2);
    assert.equal(r.stability?.pairs.length, 1);
    assert.ok(r.stability?.scatter && r.stability.scatter.rankA.length > 0);
    assert.deepEqual(r.typicality?.groups.map((g) => g.value).sort(), ['odd', 'plain']);
    assert.deepEqual(Object.keys(r.seconds), [
      'featurizing',
      'removal',
      'reduction',
      'stability',
      'typicality',
    ]);
    assert.ok(w.progress.every((p) => p.jobId === 'exp-1'));
    const stages = new Set(w.progress.map((p) => p.stage));
    for (const s of ['featurizing', 'removal', 'reduction', 'stability', 'typicality'])
      assert.ok(stages.has(s), `progress for ${s} (saw ${[...stages].join(', ')})`);
    const removal = w.progress.filter((p) => p.stage === 'removal');
    assert.equal(removal[removal.length - 1].done, removal[removal.length - 1].total);
  } finally {
    await stopWorker(w);
  }
});

test('worker experiments: a test file, and a missing typicality field is a data error', async () => {
  const w = startWorker();
  try {
    const test = writeRows('test.jsonl', 80, 12, 4);
    const res = await w.connection.sendRequest(ExperimentsRequest, {
      jobId: 'exp-2',
      file: small,
      options: { test, removal: { fractions: [0.2], seeds: 1 } },
    });
    assert.deepEqual(res.report.test, { kind: 'file', file: test, rows: 80 });
    assert.equal(res.report.reduction, undefined);
    await assert.rejects(
      w.connection.sendRequest(ExperimentsRequest, {
        jobId: 'exp-3',
        file: small,
        options: { typicality: { field: 'no_such_field' } },
      }),
      (err: unknown) => {
        assert.ok(err instanceof ResponseError, String(err));
        assert.equal(err.code, ErrorCodes.dataError);
        return true;
      },
    );
  } finally {
    await stopWorker(w);
  }
});

test('worker experiments: the configured featurizer (onnx:DIR) is the one the experiments use', async () => {
  const w = startWorker();
  try {
    const res = await w.connection.sendRequest(ExperimentsRequest, {
      jobId: 'exp-onnx',
      file: small,
      options: {
        featurizer: `onnx:${TINY_BERT_DIR}`,
        backend: 'cpu',
        cacheDir: join(dir, 'onnx-cache'),
        stability: { seeds: 2 },
      },
    });
    assert.equal(res.report.featurizer, `onnx:${TINY_BERT_DIR}`);
    assert.equal(res.report.rows, 240);
    assert.equal(res.report.stability?.pairs.length, 1);
  } finally {
    await stopWorker(w);
  }
});

test('worker experiments: cancel mid-way answers cancelled quickly; the worker keeps serving', async () => {
  const w = startWorker();
  try {
    // Large enough that the removal experiment is still running when the first removal progress arrives.
    const file = existsSync(sharedSpam) ? sharedSpam : writeRows('large.jsonl', 8000, 40, 8);
    const cts = new CancellationTokenSource();
    let cancelledAt = 0;
    w.onProgress = (p) => {
      if (p.jobId === 'slow' && !cancelledAt && p.stage === 'removal' && p.done >= 2) {
        cancelledAt = Date.now();
        cts.cancel();
      }
    };
    await assert.rejects(
      w.connection.sendRequest(
        ExperimentsRequest,
        {
          jobId: 'slow',
          file,
          options: {
            removal: { fractions: [0.1, 0.2, 0.3, 0.4, 0.5], seeds: 10 },
            reduction: { top: 0.1, ks: [0.1], steps: 50 },
            stability: { seeds: 5 },
          },
        },
        cts.token,
      ),
      (err: unknown) => {
        assert.ok(err instanceof ResponseError, String(err));
        assert.equal(err.code, ErrorCodes.cancelled);
        return true;
      },
    );
    assert.ok(cancelledAt > 0, 'cancelled during the removal experiment');
    const latency = Date.now() - cancelledAt;
    process.stderr.write(`# experiments cancel: answered in ${latency} ms\n`);
    assert.ok(latency < 2000, `cancelled error within 2 s (took ${latency} ms)`);
    // No progress of the cancelled job after its answer: it really stopped.
    const count = w.progress.filter((p) => p.jobId === 'slow').length;
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(w.progress.filter((p) => p.jobId === 'slow').length, count, 'no progress after cancel');
    w.onProgress = undefined;

    const info = await w.connection.sendRequest(InfoRequest, undefined);
    assert.equal(info.pid, w.proc.pid);
    const res = await w.connection.sendRequest(ExperimentsRequest, {
      jobId: 'after',
      file: small,
      options: { stability: { seeds: 2 } },
    });
    assert.equal(res.report.stability?.pairs.length, 1);
  } finally {
    await stopWorker(w);
  }
});
