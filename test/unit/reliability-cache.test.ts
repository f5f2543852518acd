/**
 * Issue 13, the ONNX feature cache: a corrupt entry (flipped bytes, a NaN with a valid header) is a miss that is
 * recomputed, with one note, never a silently different feature; a cache folder that is a file never fails the job.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FeatureCache } from '../../src/engine/featurize/onnx/cache';

const dir = mkdtempSync(join(tmpdir(), 'memscore-rel-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'k'.repeat(64);
const ROW = 'ab'.repeat(32);
const values = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3);
const extra = Int32Array.from([7, 8, 9]);

function entryFile(cache: FeatureCache): string {
  return join(cache.root, ROW.slice(0, 2), `${ROW}.e`);
}

test('cache: a round trip keeps the values; a flipped bit anywhere is a miss, said once, and rewritten', () => {
  const notes: string[] = [];
  const cache = new FeatureCache(join(dir, 'a'), KEY, (m) => notes.push(m));
  cache.put(ROW, 'e', 4, 6, values, extra);
  const hit = cache.get(ROW, 'e', 4, 6);
  assert.deepEqual(Array.from(hit!.data), Array.from(values));
  assert.deepEqual(Array.from(hit!.extra), [7, 8, 9]);
  const good = readFileSync(entryFile(cache));
  // Every bit after the magic: a flip in the version or shape fields is a miss by the header, one in the
  // checksum, the values or the tokenization by the checksum.
  let corrupt = 0;
  for (let byte = 4; byte < good.length; byte++) {
    for (const bit of [0, 6]) {
      const b = Buffer.from(good);
      b[byte] ^= 1 << bit;
      writeFileSync(entryFile(cache), b);
      assert.equal(cache.get(ROW, 'e'), undefined, `byte ${byte} bit ${bit}`);
      corrupt++;
    }
  }
  assert.ok(cache.stats.corrupt > 0.8 * corrupt, `${cache.stats.corrupt} of ${corrupt} counted as corrupt`);
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.match(notes[0], /failed its checksum; corrupt entries are recomputed and rewritten/);
  cache.put(ROW, 'e', 4, 6, values, extra);
  assert.deepEqual(Array.from(cache.get(ROW, 'e')!.data), Array.from(values));
});

test('cache: 8 flipped bytes in the values are caught (the issue: silently different scores before)', () => {
  const cache = new FeatureCache(join(dir, 'b'), KEY);
  cache.put(ROW, 'e', 4, 6, values, extra);
  const b = readFileSync(entryFile(cache));
  for (let j = 0; j < 8; j++) b[b.length - 12 - 4 * j - 2] ^= 0x40;
  writeFileSync(entryFile(cache), b);
  assert.equal(cache.get(ROW, 'e', 4, 6), undefined);
  assert.equal(cache.stats.corrupt, 1);
});

test('cache: an entry with a NaN and a matching checksum is a miss too (a NaN would make every score NaN)', () => {
  const notes: string[] = [];
  const cache = new FeatureCache(join(dir, 'c'), KEY, (m) => notes.push(m));
  const bad = Float32Array.from(values);
  bad[5] = NaN;
  cache.put(ROW, 'e', 4, 6, bad, extra);
  assert.equal(cache.get(ROW, 'e'), undefined);
  assert.equal(cache.stats.corrupt, 1);
  assert.match(notes[0], /holds a non-finite value \(NaN\)/);
});

test('cache: a cache folder that is a file: writes are off with one note, reads are misses, nothing throws', () => {
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, 'x');
  const notes: string[] = [];
  const cache = new FeatureCache(file, KEY, (m) => notes.push(m));
  assert.doesNotThrow(() => cache.put(ROW, 'e', 4, 6, values, extra));
  assert.doesNotThrow(() => cache.put(ROW, 'b', 4, 6, values));
  assert.equal(cache.get(ROW, 'e'), undefined);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /feature cache: cannot write under .*not-a-folder.*caching is off for this run/);
  assert.equal(readFileSync(file, 'utf8'), 'x');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});
