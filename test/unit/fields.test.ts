/** Field inference: when it is a guess the editor asks (quick pick); when it is clear-cut it stays silent. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inspectFields } from '../../src/engine/data/readDataset';
import { describeChoice, validChoice } from '../../src/extension/fieldChoice';
import { isTooLargeForEditor, largeFileNotice } from '../../src/extension/largeFiles';
import { InspectRequest } from '../../src/protocol/messages';
import { ensureWorkerBuilt, sharedSpam, stopAllWorkers, withWorker, writeJsonl } from './workerProcess';

const dir = mkdtempSync(join(tmpdir(), 'memscore-fields-'));
const jsonl = (name: string, rows: object[]): string => writeJsonl(dir, name, rows);

after(stopAllWorkers);

const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
/** n words, distinct per i (a field with few distinct values would look like a label). */
const sentence = (i: number, n: number) =>
  `row${i} ` + Array.from({ length: n - 1 }, (_, k) => words[(i * 3 + k) % 8]).join(' ');

test('a named label and one long text field: clear-cut, no question', async () => {
  const file = jsonl(
    'clear.jsonl',
    Array.from({ length: 40 }, (_, i) => ({ id: i, subject: `s${i}`, text: sentence(i, 30), label: i % 2 })),
  );
  const r = await inspectFields(file);
  assert.deepEqual(r.names, ['id', 'subject', 'text', 'label']);
  assert.equal(r.inferred?.label, 'label');
  assert.deepEqual(r.inferred?.text, ['text']);
  assert.deepEqual(r.ambiguities, []);
});

test('the shared spam data is clear-cut (subject is much shorter than text)', async (t) => {
  try {
    const r = await inspectFields(sharedSpam);
    assert.deepEqual(r.inferred?.text, ['text']);
    assert.deepEqual(r.ambiguities, []);
  } catch (err) {
    if ((err as Error).message.includes('cannot read file')) t.skip('../shared/data not present');
    else throw err;
  }
});

test('a title nearly as long as the body, and no field named label: both are questions', async () => {
  const file = jsonl(
    'ambiguous.jsonl',
    Array.from({ length: 40 }, (_, i) => ({
      title: sentence(i, 6),
      body: sentence(i + 3, 16),
      topic: ['a', 'b', 'c'][i % 3],
      verdict: ['yes', 'no'][i % 2],
    })),
  );
  const r = await inspectFields(file);
  assert.deepEqual(r.inferred?.text, ['body']);
  assert.equal(r.ambiguities.length, 2, r.ambiguities.join('\n'));
  assert.match(r.ambiguities.join('\n'), /label: .*'topic'.*'verdict'/);
  assert.match(r.ambiguities.join('\n'), /text: chose 'body'; 'title' also hold/);
});

test('no label-like field: inference fails, the reason becomes the question', async () => {
  const file = jsonl(
    'nolabel.jsonl',
    Array.from({ length: 40 }, (_, i) => ({ a: sentence(i, 5), b: sentence(i, 9) })),
  );
  const r = await inspectFields(file);
  assert.equal(r.inferred, undefined);
  assert.match(r.error ?? '', /could not infer the label field/);
  assert.deepEqual(r.names, ['a', 'b']);
});

test('a remembered choice applies only while its fields exist', () => {
  assert.equal(validChoice({ label: 'y', text: ['a', 'b'] }, ['a', 'b', 'y']), true);
  assert.equal(validChoice({ label: 'y', text: ['a', 'gone'] }, ['a', 'b', 'y']), false);
  assert.equal(validChoice({}, ['a']), false);
  assert.equal(describeChoice({ label: 'y', text: ['a', 'b'] }), 'text: a + b, label: y');
});

test('the worker answers memorization/inspect', async () => {
  const file = jsonl(
    'worker.jsonl',
    Array.from({ length: 20 }, (_, i) => ({ text: sentence(i, 12), label: i % 2 })),
  );
  ensureWorkerBuilt();
  await withWorker(async (w) => {
    const r = await w.connection.sendRequest(InspectRequest, { file });
    assert.deepEqual(r.inferred?.text, ['text']);
    assert.equal(r.inferred?.label, 'label');
    await assert.rejects(
      w.connection.sendRequest(InspectRequest, { file: join(dir, 'missing.jsonl') }),
      /cannot read/,
    );
  });
});

test('files above 50 MB get a notice saying why the editor shows no colors', () => {
  assert.equal(isTooLargeForEditor(50 * 1024 * 1024), false);
  assert.equal(isTooLargeForEditor(50 * 1024 * 1024 + 1), true);
  const msg = largeFileNotice('big.jsonl', 120 * 1024 * 1024, 250000);
  assert.match(msg, /big\.jsonl is 120 MB/);
  assert.match(msg, /250,000 scored rows are in the ranking panel/);
});
