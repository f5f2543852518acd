import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { ErrorCodes, ExperimentsRequest, InfoRequest } from '../../src/protocol/messages';
import { rng } from './helpers';
import { TINY_BERT_DIR } from './tinyBertReference';
import {
  COMMON,
  HAM,
  SPAM,
  ensureWorkerBuilt,
  responseError,
  sharedSpam,
  stopAllWorkers,
  withWorker,
  writeJsonl,
} from './workerProcess';

const dir = mkdtempSync(join(tmpdir(), 'memscore-worker-experiments-'));

/** Generated spam/ham rows with a `group` field the model never sees ('odd' rows use the other class's words). */
function writeRows(name: string, n: number, words: number, seed: number): string {
  const r = rng(seed);
  const pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const rows = Array.from({ length: n }, (_, i) => {
    const spam = i % 2 === 0;
    const odd = i % 9 === 4;
    const own = spam !== odd ? SPAM : HAM;
    const text = Array.from({ length: words }, () => (r() < 0.4 ? pick(own) : pick(COMMON))).join(' ');
    return { id: `r${i}`, text, label: spam ? 'spam' : 'ham', group: odd ? 'odd' : 'plain' };
  });
  return writeJsonl(dir, name, rows);
}

let small: string;

before(() => {
  ensureWorkerBuilt();
  small = writeRows('small.jsonl', 240, 12, 3);
});

after(stopAllWorkers);

test('worker experiments: progress per experiment, then the report', () =>
  withWorker(async (w) => {
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
      'reasons',
    ]);
    assert.ok(w.progress.every((p) => p.jobId === 'exp-1'));
    const stages = new Set(w.progress.map((p) => p.stage));
    for (const s of ['featurizing', 'removal', 'reduction', 'stability', 'typicality'])
      assert.ok(stages.has(s), `progress for ${s} (saw ${[...stages].join(', ')})`);
    const removal = w.progress.filter((p) => p.stage === 'removal');
    assert.equal(removal[removal.length - 1].done, removal[removal.length - 1].total);
  }));

test('worker experiments: a test file, and a missing typicality field is a data error', () =>
  withWorker(async (w) => {
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
      responseError(ErrorCodes.dataError),
    );
  }));

test('worker experiments: the configured featurizer (onnx:DIR) is the one the experiments use', () =>
  withWorker(async (w) => {
    const res = await w.connection.sendRequest(ExperimentsRequest, {
      jobId: 'exp-onnx',
      file: small,
      options: {
        featurizer: {
          featurizer: `onnx:${TINY_BERT_DIR}`,
          backend: 'cpu',
          cacheDir: join(dir, 'onnx-cache'),
        },
        stability: { seeds: 2 },
      },
    });
    assert.equal(res.report.featurizer, `onnx:${TINY_BERT_DIR}`);
    assert.equal(res.report.rows, 240);
    assert.equal(res.report.stability?.pairs.length, 1);
  }));

test('worker experiments: cancel mid-way answers cancelled quickly; the worker keeps serving', () =>
  withWorker(async (w) => {
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
      responseError(ErrorCodes.cancelled),
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
  }));
