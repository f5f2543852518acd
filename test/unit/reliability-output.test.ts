/**
 * Issue 13, src/cli/outputFiles.ts: outputs are checked before any work (never an input, never twice, a folder that
 * exists and can be written) and written atomically (a temporary file in the same folder, renamed), so a failed or
 * killed run leaves the previous file whole and no temporary file behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  OutputError,
  checkOutputs,
  openOutput,
  pendingTemporaryFiles,
  writeOutput,
} from '../../src/cli/outputFiles';

const dir = mkdtempSync(join(tmpdir(), 'memscore-rel-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const temporaries = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

function refused(fn: () => void, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OutputError, String(err));
    assert.match(err.message, re);
    return true;
  });
}

describe('checkOutputs', () => {
  const input = join(dir, 'train.jsonl');
  writeFileSync(input, '{"text": "x", "label": "a"}\n');

  it('refuses the input by path, by symlink, by hard link and by a path that resolves to it', () => {
    const link = join(dir, 'link.jsonl');
    symlinkSync(input, link);
    const hard = join(dir, 'hard.jsonl');
    linkSync(input, hard);
    mkdirSync(join(dir, 'sub'));
    for (const p of [
      input,
      link,
      hard,
      join(dir, 'sub', '..', 'train.jsonl'),
      relative(process.cwd(), input),
    ])
      refused(
        () => checkOutputs([{ flag: '--out', path: p }], [input]),
        /is the input file .*never overwrites its input/,
      );
    // Also when the input is given through the symlink.
    refused(
      () => checkOutputs([{ flag: '--summary', path: input }], [link]),
      /--summary .* is the input file/,
    );
  });

  it('refuses one file for two outputs, existing or not', () => {
    const o = join(dir, 'both.json');
    refused(
      () =>
        checkOutputs(
          [
            { flag: '--out', path: o },
            { flag: '--summary', path: resolve(o) },
          ],
          [input],
        ),
      /--summary .* is also --out/,
    );
    writeFileSync(o, '');
    refused(
      () =>
        checkOutputs(
          [
            { flag: '--out', path: o },
            { flag: '--png', path: o },
          ],
          [input],
        ),
      /--png .* is also --out/,
    );
  });

  it('refuses an empty name, a folder, a missing folder, a path through a file', () => {
    refused(() => checkOutputs([{ flag: '--out', path: '' }], []), /--out needs a file name/);
    refused(() => checkOutputs([{ flag: '--out', path: dir }], []), /is a folder; give a file name/);
    refused(
      () => checkOutputs([{ flag: '--out', path: join(dir, 'nope', 'x') }], []),
      /the folder .*nope does not exist/,
    );
    refused(() => checkOutputs([{ flag: '--out', path: join(input, 'x') }], []), /cannot write --out/);
  });

  it('accepts new files, existing outputs, /dev/null twice and /dev/stdout', () => {
    const existing = join(dir, 'old.jsonl');
    writeFileSync(existing, 'old');
    assert.doesNotThrow(() =>
      checkOutputs(
        [
          { flag: '--out', path: join(dir, 'new.jsonl') },
          { flag: '--summary', path: existing },
          { flag: '--png', path: '/dev/null' },
          undefined,
        ],
        [input, undefined],
      ),
    );
    assert.doesNotThrow(() =>
      checkOutputs(
        [
          { flag: '--out', path: '/dev/null' },
          { flag: '--summary', path: '/dev/null' },
        ],
        [input],
      ),
    );
  });
});

describe('openOutput / writeOutput', () => {
  it('replaces a file whole, keeps its mode, writes through a symlink (the link stays)', () => {
    const target = join(dir, 'target.json');
    writeFileSync(target, 'old content that is longer than the new one');
    chmodSync(target, 0o604);
    const link = join(dir, 'target-link.json');
    symlinkSync(target, link);
    writeOutput({ flag: '--summary', path: link }, 'new');
    assert.equal(readFileSync(target, 'utf8'), 'new');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), target);
    assert.equal(statSync(target).mode & 0o777, 0o604);
    assert.deepEqual(temporaries(), []);
  });

  it('a discarded (failed) output leaves the previous file and no temporary file', () => {
    const target = join(dir, 'rows.jsonl');
    writeFileSync(target, 'previous\n');
    const w = openOutput({ flag: '--out', path: target });
    for (let i = 0; i < 5000; i++) w.write(`{"row": ${i}, "pad": "${'x'.repeat(300)}"}\n`);
    assert.equal(temporaries().length, 1, 'written to a temporary file beside the target');
    w.discard();
    assert.equal(readFileSync(target, 'utf8'), 'previous\n');
    assert.deepEqual(temporaries(), []);
    assert.deepEqual(pendingTemporaryFiles(), []);
  });

  it('/dev/full: an OutputError in words; nothing is left behind', () => {
    assert.throws(
      () => writeOutput({ flag: '--out', path: '/dev/full' }, 'x'.repeat(10)),
      (err: unknown) =>
        err instanceof OutputError &&
        /cannot write --out \/dev\/full: no space left on the device/.test(err.message),
    );
  });

  it('a run killed while writing leaves the previous file whole and no temporary file', async () => {
    const target = join(dir, 'killed.jsonl');
    writeFileSync(target, 'previous\n');
    const script = `
      const { openOutput } = require(${JSON.stringify(resolve(__dirname, '../../src/cli/outputFiles.ts'))});
      const w = openOutput({ flag: '--out', path: ${JSON.stringify(target)} });
      w.write('x'.repeat(3 << 20));
      process.stdout.write('writing\\n');
      setInterval(() => w.write('y'.repeat(1 << 20)), 5);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    assert.equal(temporaries().length, 1);
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, string | null]>((res) =>
      child.once('exit', (c, s) => res([c, s])),
    );
    assert.equal(signal, 'SIGTERM', `killed by the signal (code ${code})`);
    assert.equal(readFileSync(target, 'utf8'), 'previous\n');
    assert.deepEqual(temporaries(), []);
  });
});
