/**
 * Issue 13, the worker's protocol edge: malformed params are refused before any work with a JSON-RPC
 * invalid-params error (-32602) that says what is wrong, instead of a job that trains fully and then fails on
 * `undefined.quadForm` (solver "foo"), on `forEach is not a function` (text as a string) or on `rows: [null]`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/protocol/messages';
import { invalidParams } from '../../src/protocol/validate';
import {
  COMMON,
  HAM,
  SPAM,
  ensureWorkerBuilt,
  responseError,
  stopAllWorkers,
  withWorker,
  writeJsonl,
} from './workerProcess';

const dir = mkdtempSync(join(tmpdir(), 'memscore-rel-worker-'));
after(async () => {
  await stopAllWorkers();
  rmSync(dir, { recursive: true, force: true });
});

const file = '/data/train.jsonl';

describe('invalidParams (pure)', () => {
  it('accepts well-formed params of every request', () => {
    assert.equal(invalidParams('score', { jobId: 'j', file, options: {} }), undefined);
    assert.equal(
      invalidParams('score', {
        jobId: 'j',
        file,
        options: {
          data: { text: ['subject', 'text'], label: 'label', strict: true },
          featurizer: { featurizer: 'onnx:/m', backend: 'cpu', cacheDir: false, onnxMaxLength: 64 },
          head: { model: 'linear', l2: 1e-3 },
          solver: { solver: 'exact', seed: 3 },
          attribution: { top: 10, steps: 20, rows: [0, 5] },
          test: '/data/test.jsonl',
        },
      }),
      undefined,
    );
    assert.equal(invalidParams('explain', { jobId: 'j', file, options: {}, rows: [0, 7] }), undefined);
    assert.equal(invalidParams('inspect', { file, text: ['text'] }), undefined);
    assert.equal(invalidParams('rowText', { file, data: { tabular: true }, lines: [2, 3] }), undefined);
    assert.equal(invalidParams('findRows', { file, data: {}, text: 'free' }), undefined);
    assert.equal(
      invalidParams('experiments', {
        jobId: 'j',
        file,
        options: {
          removal: { fractions: [0.1, 0.3], seeds: 3 },
          noise: { flipped: ['a', 'b'] },
          holdout: 0.2,
        },
      }),
      undefined,
    );
  });

  it('names the bad param and what it should be', () => {
    const cases: [Parameters<typeof invalidParams>[0], unknown, RegExp][] = [
      [
        'score',
        { jobId: 'j', file, options: { solver: { solver: 'foo' } } },
        /options\.solver\.solver must be one of exact\|ekfac\|lissa.*got "foo"/,
      ],
      [
        'score',
        { jobId: 'j', file, options: { data: { text: 'text' } } },
        /options\.data\.text must be a list, got "text" \(a string\)/,
      ],
      [
        'explain',
        { jobId: 'j', file, options: {}, rows: [null] },
        /rows\[0\] must be a row index \(an integer of at least 0\), got null/,
      ],
      ['explain', { jobId: 'j', file, options: {}, rows: [1.5] }, /rows\[0\] must be a row index/],
      [
        'score',
        { jobId: 'j', file, options: { head: { l2: 'big' } } },
        /options\.head\.l2 must be a number, got "big"/,
      ],
      [
        'score',
        { jobId: 'j', file, options: { atribute: 0 } },
        /options\.atribute is not known here \(known: data, featurizer, head, solver, attribution, reasons, test\)/,
      ],
      ['score', { jobId: 'j', options: {} }, /: file is missing/],
      [
        'score',
        { jobId: 'j', file: 42, options: {} },
        /file must be a non-empty string, got 42 \(a number\)/,
      ],
      ['score', null, /params must be an object, got null/],
      ['score', { jobId: 'j', file, options: [] }, /options must be an object, got a list/],
      ['inspect', { file, text: 5 }, /text must be a list, got 5/],
      [
        'experiments',
        { jobId: 'j', file, options: { removal: { fractions: 'x', seeds: 1 } } },
        /options\.removal\.fractions must be a list/,
      ],
      [
        'experiments',
        { jobId: 'j', file, options: { removal: { fractions: [0.1] } } },
        /options\.removal\.seeds is missing/,
      ],
      ['rowText', { file, data: {}, lines: [0] }, /lines\[0\] must be a line number/],
      [
        'findRows',
        { file, data: { text: [3] }, text: 'x' },
        /data\.text\[0\] must be a non-empty string, got 3/,
      ],
    ];
    for (const [kind, params, re] of cases) {
      const why = invalidParams(kind, params);
      assert.ok(why, `${kind} ${JSON.stringify(params)} should be refused`);
      assert.match(why, re);
      assert.match(why, new RegExp(`^invalid params of memorization/${kind}: `));
    }
  });
});

describe('the worker answers -32602 before doing any work', () => {
  let train: string;
  before(() => {
    ensureWorkerBuilt();
    const rows = Array.from({ length: 40 }, (_, i) => {
      const words = i % 2 ? HAM : SPAM;
      return {
        id: `r${i}`,
        text: `${words[i % 10]} ${words[(i + 3) % 10]} ${COMMON[i % 12]}`,
        label: i % 2 ? 'ham' : 'spam',
      };
    });
    train = writeJsonl(dir, 'train.jsonl', rows);
  });

  it('solver "foo", text as a string, rows [null]: invalid params, no progress, the worker stays up', async () => {
    await withWorker(async (w) => {
      const bad: [string, unknown, RegExp][] = [
        [
          'memorization/score',
          { jobId: 'a', file: train, options: { solver: { solver: 'foo' } } },
          /solver\.solver must be one of/,
        ],
        [
          'memorization/score',
          { jobId: 'b', file: train, options: { data: { text: 'text' } } },
          /data\.text must be a list/,
        ],
        [
          'memorization/explain',
          { jobId: 'c', file: train, options: {}, rows: [null] },
          /rows\[0\] must be a row index/,
        ],
        ['memorization/inspect', { file: train, text: 5 }, /text must be a list/],
        [
          'memorization/experiments',
          { jobId: 'd', file: train, options: { removal: { fractions: 'x', seeds: 1 } } },
          /fractions must be a list/,
        ],
      ];
      for (const [method, params, re] of bad) {
        await assert.rejects(
          w.connection.sendRequest(method, params),
          responseError(ErrorCodes.invalidParams, (err) => assert.match(err.message, re)),
        );
      }
      assert.deepEqual(w.progress, [], 'no job started');
      // The worker still serves a good request.
      const ok = await w.connection.sendRequest<{ rows: unknown[] }>('memorization/score', {
        jobId: 'e',
        file: train,
        options: { attribution: { top: 0 } },
      });
      assert.equal(ok.rows.length, 40);
    });
  });
});
