/**
 * Issue 13 through the CLI (dist/cli.js; `npm run compile` first): the user's files are never clobbered, no row is
 * lost without a line saying so, every failure is one line with exit code 1 (usage) or 2 (data), warnings reach
 * stderr, terminal control characters are escaped, and bad flags are refused before any reading.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { TINY_BERT_DIR } from './tinyBertReference';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'memscore-rel-cli-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Progress lines (stderr without a terminal) start with a stage name. */
const PROGRESS =
  /^(reading|featurizing|training|hessian|scoring|attributing|reasons|choosing l2|testing|pooling|fitting)\s/;

function memscore(
  args: string[],
  /** asNobody: for the permission cases (as root, run as uid 65534, for whom the permissions hold). */
  opts: { timeout?: number; asNobody?: boolean; env?: NodeJS.ProcessEnv } = {},
) {
  // Root reads and writes whatever the permissions say: the permission cases run as nobody then (setpriv).
  const [cmd, pre] =
    opts.asNobody && process.getuid?.() === 0
      ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]]
      : [process.execPath, []];
  const r = spawnSync(cmd, [...pre, cli, ...args], {
    encoding: 'utf8',
    timeout: opts.timeout ?? 120_000,
    env: { ...process.env, MEMSCORE_DEBUG: '', ...opts.env },
  });
  const messages = r.stderr.split('\n').filter((l) => l && !PROGRESS.test(l));
  return { ...r, messages };
}

/** A failure: the exit code, and stderr (progress aside) is exactly one line "memscore: ..." matching `re`. */
function fails(r: ReturnType<typeof memscore>, code: number, re: RegExp): void {
  assert.equal(r.status, code, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.messages.length, 1, `one line, got:\n${r.messages.join('\n')}`);
  assert.match(r.messages[0], /^memscore: /);
  assert.match(r.messages[0], re);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

function ok(r: SpawnSyncReturns<string>): void {
  assert.equal(r.status, 0, r.stderr);
}

/** A raw ESC or BEL: what starts or ends a terminal escape sequence. */
const hasControl = (s: string) => s.includes('\u001b') || s.includes('\u0007');
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const words = [
  'free money now click',
  'meeting moved to tuesday',
  'cheap pills offer today',
  'lunch with the team',
];
const textOf = (i: number) => `${words[i % 4]} row ${i} ${i % 3 ? 'more words' : 'other words'}`;
const labelOf = (i: number) => (i % 2 ? 'ham' : 'spam');

let n = 0;
function file(name: string, content: string | Buffer): string {
  const f = join(dir, `${n++}-${name}`);
  writeFileSync(f, content);
  return f;
}
const jsonlRows = (
  count: number,
  row: (i: number) => object = (i) => ({ id: `r${i}`, text: textOf(i), label: labelOf(i) }),
) => `${Array.from({ length: count }, (_, i) => JSON.stringify(row(i))).join('\n')}\n`;
const numericCsv = (count: number, mut?: (lines: string[]) => void) => {
  const lines = ['f1,f2,f3,label'];
  for (let i = 0; i < count; i++) {
    const y = i % 2;
    lines.push(
      `${(y ? 1 : -1) * 0.8 + ((i * 37) % 11) / 10},${((i * 7) % 13) / 5},${(y ? 0.5 : -0.5) + (i % 5) / 7},${y ? 'pos' : 'neg'}`,
    );
  }
  mut?.(lines);
  return `${lines.join('\n')}\n`;
};

describe('the user files are sacred', () => {
  const train = () => file('train.jsonl', jsonlRows(40));

  it('refuses an output that is the input, before any work (exit 1), and leaves the input intact', () => {
    const f = train();
    const h = sha(f);
    const link = join(dir, `${n++}-link.jsonl`);
    symlinkSync(f, link);
    const hard = join(dir, `${n++}-hard.jsonl`);
    linkSync(f, hard);
    const test = train();
    const ht = sha(test);
    for (const [args, re] of [
      [['score', f, '--out', f], /--out .* is the input file .*; memscore never overwrites its input/],
      [['score', f, '--summary', f], /--summary .* is the input file/],
      [['score', f, '--out', link], /--out .*link\.jsonl is the input file/],
      [['score', f, '--out', hard], /--out .*hard\.jsonl is the input file/],
      [['score', f, '--test', test, '--out', test], /--out .* is the input file/],
      [['eval', 'typicality', f, '--group', 'label', '--out', f], /--out .* is the input file/],
    ] as [string[], RegExp][]) {
      const r = memscore(args);
      fails(r, 1, re);
      assert.ok(
        !r.stderr.split('\n').some((l) => PROGRESS.test(l)),
        `no work before the refusal: ${args.join(' ')}`,
      );
    }
    assert.equal(sha(f), h);
    assert.equal(sha(test), ht);
  });

  it('refuses two outputs on one file, and output folders that do not exist or are read-only, before the run', () => {
    const f = train();
    const o = join(dir, 'same.out');
    fails(
      memscore(['score', f, '--out', o, '--summary', o]),
      1,
      /--summary .*same\.out is also --out; give each output its own file/,
    );
    fails(
      memscore(['score', f, '--out', join(dir, 'missing', 'x.jsonl')]),
      1,
      /cannot write --out .*x\.jsonl: the folder .*missing does not exist/,
    );
    fails(memscore(['score', f, '--out', dir]), 1, /--out .* is a folder; give a file name/);
    fails(memscore(['score', f, '--out', '']), 1, /--out needs a value/);
    fails(
      memscore(['eval', 'typicality', f, '--group', 'label', '--png', join(dir, 'no', 'x.png')]),
      1,
      /cannot write --png/,
    );
    const ro = join(dir, 'readonly');
    mkdirSync(ro, { mode: 0o555 });
    fails(
      memscore(['score', f, '--out', join(ro, 'x.jsonl')], { asNobody: true }),
      1,
      /cannot write --out .*: permission denied/,
    );
  });

  it('an output that cannot be written at the end (/dev/full) is one line, exit 1, and leaves no temporary file', () => {
    const f = train();
    fails(
      memscore(['score', f, '--out', '/dev/full', '--attribute', '0']),
      1,
      /cannot write --out \/dev\/full: no space left on the device/,
    );
  });

  it('a run failing on one output (--summary /dev/full) leaves the other (--out) as it was', () => {
    const f = train();
    const out = join(dir, 'kept.jsonl');
    writeFileSync(out, 'old results\n');
    fails(
      memscore(['score', f, '--out', out, '--summary', '/dev/full', '--attribute', '0']),
      1,
      /cannot write --summary \/dev\/full: no space left on the device/,
    );
    assert.equal(readFileSync(out, 'utf8'), 'old results\n');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
  });

  it('writes outputs atomically: a rerun replaces the file whole, keeps its mode, leaves no temporary file', () => {
    const f = train();
    const out = join(dir, 'scores.jsonl');
    writeFileSync(out, 'old results\n');
    chmodSync(out, 0o640);
    ok(memscore(['score', f, '--out', out, '--summary', join(dir, 'summary.json'), '--attribute', '0']));
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 40);
    // Replaced whole, not appended to: one JSON document.
    assert.equal(
      (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { counts: { rows: number } }).counts
        .rows,
      40,
    );
    assert.equal(execFileSync('stat', ['-c', '%a', out], { encoding: 'utf8' }).trim(), '640');
    assert.deepEqual(
      readdirSync(dir).filter((x) => x.endsWith('.tmp')),
      [],
    );
  });
});

describe('no row is lost without a line saying so', () => {
  it('TSV: a field that starts with a bare quote is text: 300 rows scored, 0 skipped', () => {
    const lines = ['id\ttext\tlabel'];
    for (let i = 0; i < 300; i++) lines.push(`r${i}\t${i === 100 ? '"' : ''}${textOf(i)}\t${labelOf(i)}`);
    const r = memscore(['score', file('bare.tsv', `${lines.join('\n')}\n`), '--attribute', '0', '--strict']);
    ok(r);
    assert.match(r.stdout, /^300 rows scored, 0 skipped/m);
  });

  it('CSV: a quote never closed costs its own row only, reported with its line; --strict fails', () => {
    const lines = ['id,text,label'];
    for (let i = 0; i < 600; i++) lines.push(`r${i},${i === 300 ? '"' : ''}${textOf(i)},${labelOf(i)}`);
    const f = file('open.csv', `${lines.join('\n')}\n`);
    const r = memscore(['score', f, '--attribute', '0']);
    ok(r);
    assert.match(r.stdout, /^599 rows scored, 1 skipped/m);
    // The skipped row on stderr, named as --strict names it (file:line).
    assert.match(
      r.stderr,
      /open\.csv:302: skipped: unterminated quoted field: the quote opened on line 302 is never closed/,
    );
    fails(memscore(['score', f, '--strict']), 2, /open\.csv:302: unterminated quoted field/);
  });

  it('UTF-16: "this file is UTF-16 LE; save it as UTF-8", exit 2', () => {
    const text = `id,text,label\n${Array.from({ length: 30 }, (_, i) => `r${i},${textOf(i)},${labelOf(i)}`).join('\n')}\n`;
    const f = file('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    fails(memscore(['score', f]), 2, /u16\.csv: this file is UTF-16 LE; save it as UTF-8/);
  });
});

describe('what used to switch silently is said on stderr', () => {
  it('a NaN cell: the file stays numeric (same accuracy), with a warning', () => {
    const clean = memscore(['score', file('clean.csv', numericCsv(200)), '--attribute', '0']);
    ok(clean);
    const r = memscore([
      'score',
      file(
        'nan.csv',
        numericCsv(200, (l) => (l[5] = l[5].replace(/^[^,]+/, 'NaN'))),
      ),
      '--attribute',
      '0',
    ]);
    ok(r);
    assert.match(r.stdout, /^fields: label=label text=- numeric=3 columns/m);
    assert.match(r.stderr, /warning: column 'f1': 1 cell read as missing \(first: 'NaN' on line 6\)/);
    const acc = (s: string) => /accuracy: train ([\d.]+)%/.exec(s)?.[1];
    assert.equal(acc(r.stdout), acc(clean.stdout));
  });

  it('labels 1, true, 1.5e308 among spam/ham: a warning on stderr', () => {
    const rows = jsonlRows(60, (i) => ({
      text: textOf(i),
      label: i === 10 ? 1 : i === 20 ? true : i === 30 ? 1.5e308 : labelOf(i),
    }));
    const r = memscore(['score', file('labels.jsonl', rows), '--attribute', '0']);
    ok(r);
    assert.match(
      r.stderr,
      /warning: 3 classes have a single row in field 'label': '1' \(line 11\), 'true' \(line 21\)/,
    );
  });

  it('duplicate header names: each column its own, with a warning on stderr', () => {
    const s = join(dir, 'dup.summary.json');
    const r = memscore([
      'score',
      file(
        'dup.csv',
        numericCsv(100, (l) => (l[0] = 'f1,f2,f1,label')),
      ),
      '--attribute',
      '0',
      '--summary',
      s,
    ]);
    ok(r);
    assert.match(r.stderr, /warning: the header names 'f1' more than once; column 3 is read as 'f1\.1'/);
    assert.deepEqual(JSON.parse(readFileSync(s, 'utf8')).fields.numeric, ['f1', 'f2', 'f1.1']);
  });
});

describe('every failure is one line with exit 1 or 2', () => {
  it('an input that is a folder, unreadable, a FIFO, /dev/zero: exit 2 at once', () => {
    const folder = join(dir, 'folder.jsonl');
    mkdirSync(folder);
    fails(memscore(['score', folder]), 2, /folder\.jsonl: is a folder, not a data file/);
    // A folder named without a data extension is still named as a folder (not "unsupported file type").
    const plain = join(dir, 'plainfolder');
    mkdirSync(plain);
    fails(memscore(['score', plain]), 2, /plainfolder: is a folder, not a data file/);
    const secret = file('secret.jsonl', jsonlRows(20));
    chmodSync(secret, 0o000);
    fails(
      memscore(['score', secret], { asNobody: true }),
      2,
      /secret\.jsonl: cannot read the file: permission denied/,
    );
    const fifo = join(dir, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    fails(
      memscore(['score', fifo], { timeout: 20_000 }),
      2,
      /pipe\.jsonl: is a FIFO \(named pipe\), not a regular file/,
    );
    const zero = join(dir, 'zero.jsonl');
    symlinkSync('/dev/zero', zero);
    fails(
      memscore(['score', zero], { timeout: 20_000 }),
      2,
      /zero\.jsonl: is a character device, not a regular file/,
    );
  });

  it('bad flags are usage errors before reading: --steps 0/-1, --attribute -5, --l2 1e-300, given twice', () => {
    const f = file('flags.jsonl', jsonlRows(30));
    for (const [args, re] of [
      [['--steps', '0'], /--steps must be an integer from 1/],
      [['--steps', '-1'], /--steps must be an integer from 1/],
      [['--attribute', '-5'], /--attribute must be an integer of at least 0/],
      [['--l2', '1e-300'], /--l2 1e-300 is too small/],
      [['--l2', '-1'], /--l2 must be a positive number/],
      [['--seed', '1.5'], /--seed must be an integer/],
      [['--out', 'a.jsonl', '--out', 'b.jsonl'], /--out is given twice/],
      [['--out', '--summary', 's.json'], /--out needs a value/],
      [['--strict=yes'], /--strict takes no value/],
    ] as [string[], RegExp][]) {
      const r = memscore(['score', f, ...args]);
      fails(r, 1, re);
      assert.ok(
        !r.stderr.split('\n').some((l) => PROGRESS.test(l)),
        `refused before reading: ${args.join(' ')}`,
      );
    }
    // A missing input file with a bad flag: the flag is reported (nothing was read).
    fails(memscore(['score', join(dir, 'absent.jsonl'), '--steps', '0']), 1, /--steps/);
  });

  it('a 1e200 cell is named with its line and value (not "increase --l2")', () => {
    const f = file(
      'huge.csv',
      numericCsv(100, (l) => (l[7] = l[7].replace(/^[^,]+/, '1e200'))),
    );
    const r = memscore(['score', f, '--attribute', '0']);
    ok(r);
    assert.match(r.stderr, /huge\.csv:8: skipped: value '1e200' of column 'f1' is too large/);
    assert.doesNotMatch(r.stdout + r.stderr, /increase --l2/);
    fails(memscore(['score', f, '--strict']), 2, /huge\.csv:8: value '1e200' of column 'f1' is too large/);
  });

  it('"could not infer a text field" says what was found', () => {
    const same = jsonlRows(20, (i) => ({ text: 'same text', label: labelOf(i) }));
    fails(
      memscore(['score', file('same.jsonl', same)]),
      2,
      /could not infer a text field: 'text' has the same value \('same text'\) in 20 rows/,
    );
    const one = jsonlRows(1);
    fails(
      memscore(['score', file('one.jsonl', one)]),
      2,
      /could not infer a text field \(only 1 row to judge from\)/,
    );
  });
});

describe('terminal control characters are escaped in everything printed', () => {
  it('an id with OSC/CSI sequences and a bad line with ESC: no raw ESC or BEL reaches the terminal', () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        id: i === 0 ? 'evil\u001b]0;PWNED\u0007\u001b[31mred' : `r${i}`,
        text: textOf(i),
        // The evil row is mislabeled, so it ranks first and is printed.
        label: i === 0 ? 'ham' : labelOf(i),
      }),
    );
    rows.splice(3, 0, '\u001b]0;PWNED\u0007 not json');
    const f = file('evil\u001b[2J.jsonl', `${rows.join('\n')}\n`);
    const r = memscore(['score', f, '--attribute', '0']);
    ok(r);
    assert.ok(!hasControl(r.stdout + r.stderr), 'no raw ESC or BEL');
    assert.match(r.stdout, /evil\\x1b\]0;PWNED\\x07\\x1b\[31m/);
    assert.match(r.stderr, /\.jsonl:4: skipped: malformed JSON: .*\\x1b/);
    const bad = memscore(['score', f, '--strict']);
    assert.equal(bad.status, 2);
    assert.ok(!hasControl(bad.stderr), 'no raw ESC or BEL');
  });
});

describe('the ONNX feature cache', () => {
  const onnxRows = file('onnx.jsonl', jsonlRows(40));
  const scores = (out: string) =>
    readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { score: number }).score);
  const run = (cache: string, out: string) =>
    memscore(
      [
        'score',
        onnxRows,
        '--featurizer',
        `onnx:${TINY_BERT_DIR}`,
        '--cache-dir',
        cache,
        '--attribute',
        '0',
        '--out',
        out,
      ],
      {
        timeout: 300_000,
      },
    );

  it('8 flipped bytes in every entry: the same scores as a cold run, and a note', () => {
    const cache = join(dir, 'cache');
    const cold = join(dir, 'cold.jsonl');
    ok(run(cache, cold));
    const entries = readdirSync(cache, { recursive: true })
      .map(String)
      .filter((p) => p.endsWith('.e'));
    assert.ok(entries.length >= 30);
    for (const e of entries) {
      const b = readFileSync(join(cache, e));
      for (let j = 0; j < 8; j++) b[b.length - 1 - 4 * ((j * 3) % Math.floor((b.length - 40) / 4))] ^= 0x40;
      writeFileSync(join(cache, e), b);
    }
    const warm = join(dir, 'warm.jsonl');
    const r = run(cache, warm);
    ok(r);
    assert.deepEqual(scores(warm), scores(cold));
    assert.match(
      r.stdout + r.stderr,
      /feature cache: an entry under .* failed its checksum; corrupt entries are recomputed/,
    );
  });

  it('a cache folder that is a file does not fail the job', () => {
    const notDir = file('cache-file', 'x');
    const r = run(notDir, join(dir, 'nodir.jsonl'));
    ok(r);
    assert.match(r.stdout + r.stderr, /feature cache: cannot write under .*caching is off for this run/);
    assert.equal(readFileSync(notDir, 'utf8'), 'x');
  });
});

it('dist/cli.js exists (npm run compile)', () => assert.ok(existsSync(cli)));
