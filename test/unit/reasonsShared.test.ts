// duplicate / conflict evidence is built once per (text group, label) where it cannot depend on the row (reasons.ts
// shares it): checked here against the rule written out row by row, on groups larger than the listed rows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Neighbours } from '../../src/engine/reasons/neighbours';
import { DEFAULT_RULES, explainReasons } from '../../src/engine/reasons/reasons';
import { findTextDuplicates } from '../../src/engine/reasons/textDuplicates';
import { rng } from './helpers';

test('shared duplicate and conflict evidence equals the evidence of each row built on its own', async () => {
  const r = rng(3);
  const words = ['alpha beta gamma', 'delta epsilon zeta', 'eta theta iota kappa', 'lambda mu'];
  const n = 120;
  const texts: string[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = Math.floor(r() * words.length);
    texts.push(words[g]);
    // Group 0 mostly one label, the others mixed.
    y.push(g === 0 ? (r() < 0.05 ? 1 : 0) : r() < 0.5 ? 1 : 0);
  }
  const classes = ['ham', 'spam'];
  const lines = Array.from({ length: n }, (_, i) => i + 2);
  const neighbours: Neighbours = {
    n,
    k: 1,
    index: new Int32Array(n).fill(-1),
    similarity: new Float64Array(n).fill(NaN),
    engine: 'exact (js)',
    exact: true,
    note: 'none',
  };
  const duplicates = await findTextDuplicates(texts);
  const res = explainReasons({
    classes,
    y,
    pred: y,
    lines,
    X: new Float64Array(n),
    dim: 1,
    neighbours,
    duplicates,
  });
  const L = DEFAULT_RULES.listed;
  let shared = 0;
  const seen = new Set<object>();
  for (let i = 0; i < n; i++) {
    const copies = texts.flatMap((t, j) => (t === texts[i] && j !== i ? [j] : []));
    const same = copies.filter((j) => y[j] === y[i]);
    const other = copies.filter((j) => y[j] !== y[i]);
    const dup = res.rows[i].find((x) => x.kind === 'duplicate')?.evidence;
    const con = res.rows[i].find((x) => x.kind === 'conflict')?.evidence;
    if (same.length)
      assert.deepEqual(dup, {
        count: same.length,
        exact: same.length,
        near: 0,
        rows: same.slice(0, L).map((j) => ({ index: j, line: lines[j], exact: true, jaccard: 1 })),
      });
    else assert.equal(dup, undefined);
    if (other.length)
      assert.deepEqual(con, {
        count: other.length,
        labels: { [classes[1 - y[i]]]: other.length },
        rows: other
          .slice(0, L)
          .map((j) => ({ index: j, line: lines[j], label: classes[y[j]], exact: true, jaccard: 1 })),
      });
    else assert.equal(con, undefined);
    for (const e of [dup, con]) {
      if (e && seen.has(e)) shared++;
      if (e) seen.add(e);
    }
  }
  assert.ok(shared > n / 2, `evidence objects are shared (${shared} reuses)`);
});
