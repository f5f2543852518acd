import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import {
  ErrorCodes,
  ExplainRequest,
  FindRowsRequest,
  InfoRequest,
  RowTextRequest,
  ScoreRequest,
} from '../../src/protocol/messages';
import { rng } from './helpers';
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

const dir = mkdtempSync(join(tmpdir(), 'memscore-worker-'));

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
  return { file: writeJsonl(dir, 'large.jsonl', generatedRows(20000, 60, 7)), solver: 'lissa' };
}

let small: string;

before(() => {
  ensureWorkerBuilt();
  small = writeJsonl(dir, 'small.jsonl', generatedRows(200, 12, 1));
});

after(stopAllWorkers);

test('worker: info', () =>
  withWorker(async (w) => {
    const info = await w.connection.sendRequest(InfoRequest, undefined);
    assert.match(info.backend, /^cpu \((onnxruntime|js)-float64\)$/);
    assert.equal(info.pid, w.proc.pid);
    assert.match(info.version, /^\d+\.\d+\.\d+/);
  }));

test('worker: score a small file, with progress tagged by jobId', () =>
  withWorker(async (w) => {
    const res = await w.connection.sendRequest(ScoreRequest, { jobId: 'small-1', file: small, options: {} });
    assert.equal(res.jobId, 'small-1');
    assert.equal(res.rows.length, 200);
    assert.equal(res.summary.counts.rows, 200);
    assert.deepEqual(res.summary.classes.map((c) => c.name).sort(), ['ham', 'spam']);
    assert.ok(w.progress.length >= 1, 'at least one progress notification');
    assert.ok(w.progress.every((p) => p.jobId === 'small-1'));
    assert.ok(w.progress.some((p) => p.stage === 'scoring'));
  }));

test('worker: explain attributes the asked rows, scoring the file first when no fit is kept', () =>
  withWorker(async (w) => {
    const res = await w.connection.sendRequest(ExplainRequest, {
      jobId: 'explain-1',
      file: small,
      options: { attribution: { top: 0 } },
      rows: [7, 150],
    });
    assert.equal(res.jobId, 'explain-1');
    assert.equal(res.refit, true);
    assert.deepEqual(
      res.rows.map((r) => r.index),
      [7, 150],
    );
    assert.ok(res.rows.every((r) => r.tokens?.length));
    assert.equal(res.completeness?.rows, 2);
    assert.ok(w.progress.some((p) => p.jobId === 'explain-1' && p.stage === 'attributing'));
  }));

test("worker: explain after scoring reuses the job's fit and attributes only that row, as a full re-score would", () =>
  withWorker(async (w) => {
    const options = { attribution: { top: 5 } };
    const scored = await w.connection.sendRequest(ScoreRequest, { jobId: 's', file: small, options });
    const target = scored.rows.find((r) => !r.tokens)!;
    w.progress.length = 0;
    const res = await w.connection.sendRequest(ExplainRequest, {
      jobId: 'e',
      file: small,
      options,
      rows: [target.index],
    });
    assert.equal(res.refit, false);
    assert.ok(!w.progress.some((p) => p.stage === 'training' || p.stage === 'reading'), 'no refit');
    process.stderr.write(`# explain with a kept fit: ${(1000 * res.seconds).toFixed(1)} ms\n`);
    // The same tokens as a fresh job that attributes the row from scratch.
    const fresh = await w.connection.sendRequest(ExplainRequest, {
      jobId: 'e2',
      file: small,
      options: { attribution: { top: 0, steps: 50 } },
      rows: [target.index],
    });
    assert.equal(fresh.refit, true, 'other options: no kept fit matches');
    assert.deepEqual(
      res.rows[0].tokens!.map((t) => t.a.toFixed(12)),
      fresh.rows[0].tokens!.map((t) => t.a.toFixed(12)),
    );
  }));

test('worker: row text and text search for the ranking panel, decoded as the engine read it', () =>
  withWorker(async (w) => {
    const scored = await w.connection.sendRequest(ScoreRequest, { jobId: 't', file: small, options: {} });
    const data = { text: scored.summary.fields.text, label: scored.summary.fields.label };
    const lines = scored.rows.slice(0, 3).map((r) => r.line);
    const { rows } = await w.connection.sendRequest(RowTextRequest, { file: small, data, lines });
    const raw = readFileSync(small, 'utf8').split('\n');
    assert.deepEqual(
      rows.map((r) => r.line),
      lines,
    );
    for (const r of rows) {
      const obj = JSON.parse(raw[r.line - 1]) as { text: string };
      assert.equal(r.text, obj.text);
      // Each decoded character sits where the segments say in the raw line.
      for (const s of r.segs)
        for (let j = 0; j < s.n; j++) assert.equal(raw[s.line - 1][s.raw + j * s.w], r.text[s.v + j]);
    }
    const word = rows[0].text.split(/\s+/).find((t) => t.length > 4)!;
    const { lines: found } = await w.connection.sendRequest(FindRowsRequest, {
      file: small,
      data,
      text: word.toUpperCase(),
    });
    assert.ok(found.includes(lines[0]));
    const want = raw.flatMap((l, k) =>
      l && (JSON.parse(l) as { text: string }).text.toLowerCase().includes(word.toLowerCase()) ? [k + 1] : [],
    );
    assert.deepEqual(
      [...found].sort((a, b) => a - b),
      want,
    );
  }));

test('worker: a data error comes back as a dataError ResponseError naming the file', () =>
  withWorker(async (w) => {
    const oneClass = writeJsonl(
      dir,
      'one-class.jsonl',
      generatedRows(20, 5, 2).map((r) => ({ ...r, label: 'spam' })),
    );
    await assert.rejects(
      w.connection.sendRequest(ScoreRequest, { jobId: 'bad', file: oneClass, options: {} }),
      responseError(ErrorCodes.dataError, (err) =>
        assert.ok(err.message.includes(basename(oneClass)), err.message),
      ),
    );
    // The worker is still serving.
    const info = await w.connection.sendRequest(InfoRequest, undefined);
    assert.equal(info.pid, w.proc.pid);
  }));

test('worker: cancel mid-job answers cancelled quickly; the worker keeps serving', () =>
  withWorker(async (w) => {
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
        { jobId: 'slow', file: job.file, options: { solver: { solver: job.solver } } },
        cts.token,
      ),
      responseError(ErrorCodes.cancelled),
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
  }));

test('worker: a newer request for the same file cancels the older one', () =>
  withWorker(async (w) => {
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
      options: { solver: { solver: job.solver } },
    });
    await sawFirst;
    const t0 = Date.now();
    const newer = w.connection.sendRequest(ScoreRequest, { jobId: 'new', file: job.file, options: {} });
    await assert.rejects(old, responseError(ErrorCodes.cancelled));
    assert.ok(Date.now() - t0 < 2000, 'superseded job answers within 2 s');
    const res = await newer;
    assert.equal(res.jobId, 'new');
    assert.ok(res.rows.length > 0);
  }));

test('worker: SIGKILL mid-job rejects the pending request; a fresh worker serves the next one', async () => {
  await withWorker(async (w) => {
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
        options: { solver: { solver: job.solver } },
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
  });
  await withWorker(async (fresh) => {
    const res = await fresh.connection.sendRequest(ScoreRequest, {
      jobId: 'fresh',
      file: small,
      options: {},
    });
    assert.equal(res.rows.length, 200);
  });
});
