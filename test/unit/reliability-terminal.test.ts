/**
 * Issue 13: control characters never reach the terminal raw (src/cli/terminal.ts), every failure maps to one line
 * and an exit code, 3 only for a bug and then with how to report it (src/cli/failure.ts), and the argument parser
 * refuses what used to slip through (src/cli/args.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intFlag, numberFlag, parseArgs } from '../../src/cli/args';
import { describeFailure, reportFailure } from '../../src/cli/failure';
import { OutputError } from '../../src/cli/outputFiles';
import { forTerminal } from '../../src/cli/terminal';
import { DataError, UsageError } from '../../src/engine/types';

describe('forTerminal', () => {
  it('shows C0, DEL, C1 and bidi controls as escapes; keeps plain text and Unicode', () => {
    assert.equal(forTerminal('evil\u001b]0;PWNED\u0007\u001b[31mred'), 'evil\\x1b]0;PWNED\\x07\\x1b[31mred');
    assert.equal(forTerminal('a\u0000b\u007fc\u009bd'), 'a\\x00b\\x7fc\\x9bd');
    assert.equal(forTerminal('abc\u202edcba\u2066x\u2069'), 'abc\\u202edcba\\u2066x\\u2069');
    assert.equal(forTerminal('café 😀 naïve — “ok”'), 'café 😀 naïve — “ok”');
    assert.equal(forTerminal('one\ntwo\tthree\r'), 'one\\ntwo\\tthree\\x0d');
    assert.equal(forTerminal('one\ntwo\tthree', { lines: true }), 'one\ntwo\tthree');
    // Nothing printable is left that a terminal would act on.
    const all = Array.from({ length: 0x250 }, (_, i) => String.fromCharCode(i)).join('');
    const left = [...forTerminal(all)].filter(
      (ch) => ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) <= 0x9f),
    );
    assert.deepEqual(left, []);
  });
});

describe('describeFailure', () => {
  it('usage errors exit 1, data errors 2, output errors 1 without the --help hint', () => {
    assert.deepEqual(describeFailure(new UsageError('--steps must be an integer from 1 to 10000, got 0')), {
      exitCode: 1,
      message: '--steps must be an integer from 1 to 10000, got 0; see memscore --help',
    });
    assert.deepEqual(describeFailure(new DataError('malformed JSON', '/d/x.jsonl', 3)), {
      exitCode: 2,
      message: '/d/x.jsonl:3: malformed JSON',
    });
    assert.equal(
      describeFailure(new OutputError('cannot write --out x: no space left on the device')).exitCode,
      1,
    );
    assert.doesNotMatch(describeFailure(new OutputError('x')).message, /--help/);
  });

  it('an untranslated file-system error is a data error naming the path, in words', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/x/y.jsonl'"), {
      code: 'EACCES',
      path: '/x/y.jsonl',
      syscall: 'open',
    });
    assert.deepEqual(describeFailure(err), { exitCode: 2, message: '/x/y.jsonl: permission denied' });
  });

  it('anything else is a bug: exit 3, one line saying how to report it, no stack unless MEMSCORE_DEBUG=1', () => {
    const bug = new TypeError(
      "Cannot read properties of undefined (reading 'quadForm')\n    at x (y.js:1:1)",
    );
    const f = describeFailure(bug);
    assert.equal(f.exitCode, 3);
    assert.match(
      f.message,
      /^internal error: Cannot read properties of undefined \(reading 'quadForm'\) \(this is a bug in memscore: please report it with the command you ran and the output of the same command run with MEMSCORE_DEBUG=1\)$/,
    );
    let out = '';
    const code = reportFailure(bug, { write: (s: string) => (out += s) }, {});
    assert.equal(code, 3);
    assert.equal(out.split('\n').filter(Boolean).length, 1);
    out = '';
    reportFailure(bug, { write: (s: string) => (out += s) }, { MEMSCORE_DEBUG: '1' });
    assert.match(out, /\n.*at /, 'the stack with MEMSCORE_DEBUG=1');
  });

  it('escapes control characters from the data in the message', () => {
    const f = describeFailure(
      new DataError('malformed JSON: Unexpected token \u001b]0;x\u0007', 'f.jsonl', 2),
    );
    assert.ok(!f.message.includes('\u001b') && !f.message.includes('\u0007'));
    assert.match(f.message, /\\x1b\]0;x\\x07/);
  });
});

describe('parseArgs', () => {
  const spec = { values: ['out', 'summary', 'steps', 'l2', 'seed'], booleans: ['strict'] };
  const usage = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parseArgs(argv, spec),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
    );

  it('reads values, flags and positionals; glues a negative number to its option', () => {
    const { positional, flags } = parseArgs(
      ['f.jsonl', '--out', 'o', '--l2=1e-3', '--seed', '-1', '--strict'],
      spec,
    );
    assert.deepEqual(positional, ['f.jsonl']);
    assert.deepEqual(
      [...flags],
      [
        ['out', 'o'],
        ['l2', '1e-3'],
        ['seed', '-1'],
        ['strict', true],
      ],
    );
    assert.deepEqual(parseArgs(['--', '--out'], spec).positional, ['--out']);
  });

  it('refuses unknown options, repeats, missing and empty values, values of flags', () => {
    usage(['--bogus'], /unknown option --bogus/);
    usage(['-x'], /unknown option -x/);
    usage(['--out', 'a', '--out', 'b'], /--out is given twice/);
    usage(['--out'], /--out needs a value/);
    usage(['--out', '--summary', 's'], /--out needs a value \(--summary follows it/);
    usage(['--out', ''], /--out needs a value \(got an empty one\)/);
    usage(['--out='], /--out needs a value/);
    usage(['--strict=yes'], /--strict takes no value/);
  });

  it('numberFlag and intFlag refuse empty, non-finite and out-of-range values', () => {
    const flags = (v: string) => new Map<string, string | boolean>([['steps', v]]);
    assert.throws(() => numberFlag(flags(' '), 'steps'), /--steps must be a number, got ' '/);
    assert.throws(() => numberFlag(flags('Infinity'), 'steps'), /must be a number/);
    assert.throws(() => numberFlag(flags('2.5'), 'steps', true), /must be an integer/);
    assert.throws(
      () => intFlag(flags('0'), 'steps', { min: 1, max: 10 }),
      /--steps must be an integer from 1 to 10, got 0/,
    );
    assert.throws(
      () => intFlag(flags('-5'), 'steps', { min: 0 }),
      /--steps must be an integer of at least 0, got -5/,
    );
    assert.equal(intFlag(flags('7'), 'steps', { min: 1 }), 7);
  });
});
