import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { spearman } from '../../src/engine/stats';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli.js');
const shared = resolve(root, '../shared/data');
const dir = mkdtempSync(join(tmpdir(), 'memscore-cli-'));

function memscore(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const readJsonl = (f: string) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

test('score: output contract, exact token ranges, bad rows reported, input untouched', () => {
  assert.ok(existsSync(cli), 'npm run compile first');
  const file = join(dir, 'train.jsonl');
  const good = [
    'free money now, click here to win cash',
    'meeting moved to tuesday, see the agenda attached',
    'cheap pills \\"limited\\" offer caf\\u00e9 deals',
    'lunch with the team tomorrow at noon',
  ];
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const k = i % 4;
    lines.push(`{"id": "r${i}", "text": "${good[k]} ${i}", "label": "${k % 2 === 0 ? 'spam' : 'ham'}"}`);
  }
  lines.splice(5, 0, '{"id": "bad", "text": "oops"'); // malformed JSON at line 6
  lines.splice(9, 0, '{"id": "nolabel", "text": "no label here"}'); // missing label at line 10
  writeFileSync(file, `${lines.join('\n')}\n`);
  const before = sha(file);
  const out = join(dir, 'scores.jsonl');
  const summary = join(dir, 'summary.json');
  const r = memscore('score', file, '--out', out, '--summary', summary, '--attribute', '3');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sha(file), before, 'the input file is never modified');
  const rows = readJsonl(out);
  assert.equal(rows.length, 40);
  for (const key of [
    'index',
    'line',
    'id',
    'label',
    'pred',
    'prob',
    'loss',
    'score',
    'selfInfluence',
    'rank',
    'percentile',
  ])
    assert.ok(key in rows[0], `field ${key}`);
  assert.deepEqual(
    rows.map((x) => x.index),
    rows.map((_, i) => i),
  );
  assert.equal(rows.filter((x) => x.tokens).length, 3);
  assert.deepEqual(new Set(rows.map((x) => x.rank)).size, 40);
  const raw = readFileSync(file, 'utf8').split('\n');
  for (const row of rows.filter((x) => x.tokens))
    for (const t of row.tokens) {
      const slice = raw[t.line - 1].slice(t.start, t.end);
      assert.equal(JSON.parse(`"${slice}"`), t.text, `token ${t.text} at ${t.line}:${t.start}`);
    }
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  assert.equal(s.counts.skipped, 2);
  assert.deepEqual(
    s.skipped.map((x: { line: number }) => x.line),
    [6, 10],
  );
  assert.ok(s.training.gradNorm < 1e-8);
  assert.ok(s.completeness.maxGap < 0.01);
  assert.match(r.stdout, /most memorized rows/);
});

test('score: usage errors exit 1, data errors exit 2 naming the file', () => {
  assert.equal(memscore('score').status, 1);
  assert.equal(memscore('score', 'x.jsonl', '--solver', 'nope').status, 1);
  assert.equal(memscore('frobnicate').status, 1);
  const one = join(dir, 'one.jsonl');
  writeFileSync(one, '{"text": "a b c", "label": "x"}\n{"text": "d e f", "label": "x"}\n');
  const r = memscore('score', one);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /one\.jsonl/);
  assert.match(r.stderr, /two classes/);
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  assert.equal(memscore('score', empty).status, 2);
  const strict = join(dir, 'strict.jsonl');
  writeFileSync(strict, '{"text": "a", "label": "x"}\nnot json\n{"text": "b", "label": "y"}\n');
  const rs = memscore('score', strict, '--strict');
  assert.equal(rs.status, 2);
  assert.match(rs.stderr, /strict\.jsonl:2/);
});

test('score: tabular CSV with the numeric featurizer', () => {
  const file = join(dir, 'tab.csv');
  const rows = ['a,b,c,label'];
  for (let i = 0; i < 60; i++) {
    const y = i % 2;
    rows.push(
      `${(y * 2 + Math.sin(i)).toFixed(3)},${Math.cos(i * 1.7).toFixed(3)},${(i % 7) - 3},${y ? 'pos' : 'neg'}`,
    );
  }
  writeFileSync(file, `${rows.join('\r\n')}\r\n`);
  const out = join(dir, 'tab.jsonl');
  const r = memscore('score', file, '--out', out, '--attribute', '2');
  assert.equal(r.status, 0, r.stderr);
  const scored = readJsonl(out);
  assert.equal(scored.length, 60);
  const t = scored.find((x) => x.tokens);
  assert.deepEqual(
    t.tokens.map((k: { text: string }) => k.text),
    rows[t.line - 1].split(',').slice(0, 3),
  );
});

test('shared spam data: hard_ham ranks above easy_ham, completeness < 1%, EK-FAC agrees with exact', (t) => {
  const train = join(shared, 'spam.train.jsonl');
  if (!existsSync(train)) {
    t.skip(`shared data not found at ${shared}`);
    return;
  }
  const exact = join(dir, 'spam-exact.jsonl');
  const ekfac = join(dir, 'spam-ekfac.jsonl');
  const summary = join(dir, 'spam-summary.json');
  const r1 = memscore('score', train, '--out', exact, '--summary', summary);
  assert.equal(r1.status, 0, r1.stderr);
  const r2 = memscore('score', train, '--solver', 'ekfac', '--attribute', '0', '--out', ekfac);
  assert.equal(r2.status, 0, r2.stderr);
  const group = new Map(readJsonl(train).map((x) => [x.id, x.group]));
  const a = readJsonl(exact);
  const b = readJsonl(ekfac);
  const meanPct = (g: string) => {
    const v = a.filter((x) => group.get(x.id) === g).map((x) => x.percentile);
    return v.reduce((s, x) => s + x, 0) / v.length;
  };
  const hard = meanPct('hard_ham');
  const easy = meanPct('easy_ham');
  console.log(`mean percentile: hard_ham ${hard.toFixed(1)}, easy_ham ${easy.toFixed(1)}`);
  assert.ok(hard > easy + 20, `hard_ham ${hard} vs easy_ham ${easy}`);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  assert.equal(s.counts.rows, 4000);
  assert.ok(s.completeness.maxGap < 0.01, `completeness gap ${s.completeness.maxGap}`);
  const rho = spearman(
    a.map((x) => x.score),
    b.map((x) => x.score),
  );
  console.log(`EK-FAC vs exact Spearman on spam: ${rho.toFixed(5)}`);
  assert.ok(rho >= 0.99, `Spearman ${rho}`);
});
