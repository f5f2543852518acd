/**
 * Property test of the readers (issue 13): random bytes and random mutations of the shared data files never crash
 * the readers (a DataError is a clean refusal; anything else is a crash), never hang, and always account for every
 * record: rows read + rows skipped (each with its line) = records in the file, counted by an independent oracle
 * (JSONL: non-blank lines; TSV: non-blank lines; CSV: a whole-text RFC 4180 state machine with the same recovery
 * rule: a quote never closed is one bad record, and reading goes on from the line after it). Reading a long line in
 * pieces must give exactly what reading it whole gives.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { csvRecords } from '../../src/engine/data/csv';
import { jsonlRecords } from '../../src/engine/data/jsonl';
import type { RawRecord } from '../../src/engine/data/record';
import { readDataset } from '../../src/engine/data/readDataset';
import { DataError } from '../../src/engine/types';
import { rng } from './helpers';

const SHARED = path.resolve(__dirname, '../../../shared/data');
const dir = mkdtempSync(path.join(os.tmpdir(), 'memscore-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MAX_ROW_CHARS = 1_000_000;
/** A reader that takes longer than this on a file of a few hundred KB hangs. */
const HANG_MS = 30_000;

type Format = 'jsonl' | 'csv' | 'tsv';

function lossyLines(buf: Buffer): string[] {
  let text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(buf);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Start lines of the records (the header included for CSV/TSV), and which of them never close their quote. */
function oracle(buf: Buffer, format: Format): { starts: number[]; unterminated: number[] } {
  const lines = lossyLines(buf);
  // A file that ends with a line break has no last (empty) line.
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const starts: number[] = [];
  const unterminated: number[] = [];
  if (format !== 'csv') {
    lines.forEach((l, i) => l.trim() !== '' && starts.push(i + 1));
    return { starts, unterminated };
  }
  let i = 0;
  while (i < lines.length) {
    if (lines[i].trim() === '') {
      i++;
      continue;
    }
    const start = i;
    let inQuotes = false;
    let atCellStart = true;
    let j = i;
    for (; j < lines.length; j++) {
      const t = lines[j];
      for (let k = 0; k < t.length; k++) {
        const c = t[k];
        if (inQuotes) {
          if (c === '"') {
            if (t[k + 1] === '"') k++;
            else inQuotes = false;
          }
        } else if (c === ',') atCellStart = true;
        else if (c === '"' && atCellStart) {
          inQuotes = true;
          atCellStart = false;
        } else atCellStart = false;
      }
      if (!inQuotes) break;
    }
    starts.push(start + 1);
    if (j >= lines.length) {
      // Never closed: one bad record, and the lines after its first line are read again.
      unterminated.push(start + 1);
      i = start + 1;
    } else i = j + 1;
  }
  return { starts, unterminated };
}

interface Seen {
  line: number;
  error?: string;
  values?: string[];
}

function describeRecord(r: RawRecord): Seen {
  return r.error
    ? { line: r.line, error: r.error }
    : { line: r.line, values: r.names().map((n) => `${n}=${r.kind(n)}:${r.text(n) ?? ''}`) };
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: still reading after ${HANG_MS} ms (a hang)`)),
      HANG_MS,
    );
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** All records of a file (undefined when the reader refused the file with a DataError). */
async function recordsOf(file: string, format: Format, pieceBytes?: number): Promise<Seen[] | DataError> {
  const out: Seen[] = [];
  const opts = { maxRowChars: MAX_ROW_CHARS, pieceBytes };
  try {
    const src =
      format === 'jsonl' ? jsonlRecords(file, opts) : csvRecords(file, format === 'csv' ? ',' : '\t', opts);
    for await (const r of src) out.push(describeRecord(r));
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  return out;
}

/** The checks of one file; returns a short description of the outcome. */
async function checkFile(buf: Buffer, format: Format, name: string): Promise<string> {
  const file = path.join(dir, `${name}.${format}`);
  writeFileSync(file, buf);
  const whole = await withTimeout(recordsOf(file, format), name);
  const pieced = await withTimeout(recordsOf(file, format, 64), `${name} (in pieces)`);
  if (whole instanceof DataError) {
    assert.ok(pieced instanceof DataError, `${name}: refused whole (${whole.message}) but not in pieces`);
    assert.equal(pieced.message, whole.message);
    if (process.env.FUZZ_VERBOSE) console.log(`${name}: refused: ${whole.message.slice(0, 80)}`);
    return 'refused';
  }
  assert.ok(!(pieced instanceof DataError), `${name}: refused in pieces only: ${String(pieced)}`);
  assert.deepEqual(pieced, whole, `${name}: reading in pieces changed the records`);

  const { starts, unterminated } = oracle(buf, format);
  const expected = format === 'jsonl' ? starts : starts.slice(1);
  assert.deepEqual(
    whole.map((r) => r.line),
    expected,
    `${name}: the records start on other lines than the oracle's`,
  );
  for (const line of unterminated.filter((l) => l !== starts[0]))
    assert.match(whole.find((r) => r.line === line)?.error ?? '', /unterminated/, `${name}: line ${line}`);

  let outcome = `${whole.length} records`;
  try {
    const res = await withTimeout(readDataset(file, { maxRowChars: MAX_ROW_CHARS }), `${name} readDataset`);
    assert.equal(res.rows.length + res.skipped.length, expected.length, `${name}: rows + skipped != records`);
    const lines = new Set(expected);
    for (const s of res.skipped) assert.ok(lines.has(s.line) && s.reason, `${name}: skipped line ${s.line}`);
    for (const r of res.rows) assert.ok(lines.has(r.line), `${name}: row line ${r.line}`);
    outcome += `, ${res.rows.length} rows + ${res.skipped.length} skipped`;
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    outcome += `, refused: ${err.message.slice(0, 60)}`;
  }
  if (process.env.FUZZ_VERBOSE) console.log(`${name}: ${outcome}`);
  return outcome;
}

const PIECES = [
  '"',
  '""',
  ',',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '{',
  '}',
  '\\',
  '"\n"',
  ' ',
  '\ufeff',
  'é',
  '\u0000',
  '\u001b]0;x\u0007',
];

/** A random mutation of `src`: flipped bytes, inserted syntax, deleted or repeated ranges, a cut. */
function mutate(src: Buffer, r: () => number): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + Math.floor(r() * 8);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * b.length);
    const kind = Math.floor(r() * 7);
    if (kind === 6) {
      // A quote at the start of a cell (after a separator or a line break): the case that swallows rows.
      const sep = [0x2c, 0x09, 0x0a][Math.floor(r() * 3)];
      const k = b.indexOf(sep, at);
      if (k >= 0) b = Buffer.concat([b.subarray(0, k + 1), Buffer.from('"'), b.subarray(k + 1)]);
    } else if (kind === 0) {
      b[at] ^= 1 << Math.floor(r() * 8);
    } else if (kind === 1 || kind === 2) {
      const piece = Buffer.from(PIECES[Math.floor(r() * PIECES.length)]);
      b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
    } else if (kind === 3) {
      const len = Math.floor(r() * 400);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
    } else if (kind === 4) {
      const len = Math.floor(r() * 2000);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    } else {
      b = b.subarray(0, Math.max(1, at));
    }
  }
  return b;
}

/** The first `bytes` of a file, cut at a line break. */
function head(file: string, bytes: number): Buffer {
  const b = readFileSync(file);
  const cut = b.indexOf(0x0a, bytes);
  return b.subarray(0, cut < 0 ? b.length : cut + 1);
}

function tsvFromJsonl(buf: Buffer): Buffer {
  const rows = buf
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, string>);
  const flat = (s: string) => String(s).replace(/[\t\r\n]+/g, ' ');
  const keys = Object.keys(rows[0]);
  return Buffer.from(
    `${keys.join('\t')}\n${rows.map((o) => keys.map((k) => flat(o[k])).join('\t')).join('\n')}\n`,
  );
}

const haveShared = existsSync(path.join(SHARED, 'spam.train.csv'));

describe('readers fuzz', () => {
  it('random bytes: no crash, no hang, every record accounted for', async () => {
    const r = rng(13);
    const outcomes: string[] = [];
    for (let k = 0; k < 45; k++) {
      const format = (['jsonl', 'csv', 'tsv'] as const)[k % 3];
      const len = Math.floor(r() * 6000);
      const buf = Buffer.alloc(len);
      // Mostly printable with the formats' syntax, sometimes any byte.
      const alphabet = Buffer.from('ab ,\t"\n\r{}:0123456789\\');
      for (let i = 0; i < len; i++)
        buf[i] = r() < 0.85 ? alphabet[Math.floor(r() * alphabet.length)] : Math.floor(r() * 256);
      outcomes.push(await checkFile(buf, format, `random${k}`));
    }
    assert.equal(outcomes.length, 45);
  });

  it(
    'mutations of the shared JSONL, CSV and TSV files: no crash, no hang, every record accounted for',
    {
      skip: haveShared ? false : `${SHARED} is absent`,
    },
    async () => {
      const sources: [Format, Buffer][] = [
        ['jsonl', head(path.join(SHARED, 'spam.train.jsonl'), 120_000)],
        ['csv', head(path.join(SHARED, 'spam.train.csv'), 120_000)],
        ['tsv', tsvFromJsonl(head(path.join(SHARED, 'spam.test.jsonl'), 120_000))],
        ['jsonl', head(path.join(SHARED, 'spam-noisy10.train.jsonl'), 60_000)],
      ];
      const r = rng(2022);
      let refused = 0;
      let total = 0;
      for (const [format, src] of sources) {
        // The unmutated file first: everything reads.
        const base = await checkFile(src, format, `base-${format}`);
        assert.doesNotMatch(base, /refused/);
        for (let k = 0; k < 12; k++) {
          const outcome = await checkFile(mutate(src, r), format, `mut-${format}-${k}`);
          total++;
          if (/refused/.test(outcome)) refused++;
        }
      }
      // Some mutants are refused (a NUL byte looks binary, a cut header), most are read.
      assert.ok(refused < total, `${refused} of ${total} refused`);
    },
  );
});
