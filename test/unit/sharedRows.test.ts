// Rows that share X's rows (HeadData.of: prepare() stores each distinct (vector, label) once) must give exactly what
// a row of X per row gives: every head, solver, the reasons' neighbours and rules, subsets and accuracy. The two
// forms hold the same numbers (ownRows copies the shared rows out), so the results are compared bitwise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accuracy, scoreRows } from '../../src/engine/influence/scores';
import type { HeadData } from '../../src/engine/model/head';
import { featureBlock, featureRow, mergeIdenticalRows, ownRows } from '../../src/engine/model/identicalRows';
import { type FitOptions, fit } from '../../src/engine/pipeline/fit';
import { type Prepared, prepare, subset } from '../../src/engine/pipeline/prepare';
import { explainRows, reasonsOf, runScoreJob } from '../../src/engine/pipeline/scoreJob';
import { findNeighbours } from '../../src/engine/reasons/neighbours';
import { fixtureFolder, rng } from './helpers';

const { fixture } = fixtureFolder('memscore-shared-');

/** 360 rows of 40 texts (some with both labels) and 40 rows of their own: most rows repeat one. */
function repeatedFile(): string {
  const r = rng(7);
  const words = [
    'cheap',
    'offer',
    'meeting',
    'notes',
    'free',
    'money',
    'project',
    'lunch',
    'click',
    'report',
  ];
  const texts = Array.from({ length: 40 }, (_, t) => `${words[t % 10]} ${words[(3 * t + 1) % 10]} ${t}`);
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const own = i % 10 === 9;
    const t = Math.floor(r() * 40);
    const text = own ? `${words[i % 10]} unique ${i} ${words[(i * 7) % 10]}` : texts[t];
    const label = (t % 2 === 0) !== r() < 0.1 ? 'spam' : 'ham';
    lines.push(JSON.stringify({ id: `r${i}`, text, label }));
  }
  return fixture('jsonl', lines.join('\n') + '\n');
}

function withOwnRows(prep: Prepared): Prepared {
  return { ...prep, data: ownRows(prep.data, prep.featurizer.dim) };
}

describe('rows sharing their features (HeadData.of)', () => {
  it('prepare() shares repeated rows, and the accessors read the same numbers as a copy with a row each', async () => {
    const prep = await prepare(repeatedFile(), {});
    const { data } = prep;
    const D = prep.featurizer.dim;
    assert.ok(data.of, 'repeated rows are shared');
    assert.equal(data.of.length, data.n);
    assert.ok(data.X.length / D < 0.5 * data.n, `${data.X.length / D} rows of X for ${data.n} rows`);
    const own = ownRows(data, D);
    assert.equal(own.of, undefined);
    assert.equal(own.X.length, data.n * D);
    assert.equal(ownRows(data, D), own, 'the copy is made once');
    for (const i of [0, 1, 57, data.n - 1]) {
      const r = featureRow(data, i);
      assert.deepEqual(data.X.subarray(r * D, (r + 1) * D), own.X.subarray(i * D, (i + 1) * D));
    }
    assert.deepEqual(featureBlock(data, D, 10, 5), own.X.subarray(10 * D, 15 * D));
    const idx = [3, 0, 99, 250];
    assert.deepEqual(subset(data, D, idx), subset(own, D, idx));
    // Every row of X is used, by rows of one label; the merged rows are X itself with the copy counts.
    const merged = mergeIdenticalRows(data, D)!;
    assert.equal(merged.X, data.X);
    assert.equal(
      merged.w.reduce((a, b) => a + b, 0),
      data.n,
    );
    assert.ok(merged.w.every((w) => w >= 1));
    for (let i = 0; i < data.n; i++) assert.equal(merged.y[data.of[i]], data.y[i]);
  });

  const combos: [string, FitOptions][] = [
    ['linear, exact', {}],
    ['linear, ekfac', { solver: { solver: 'ekfac' } }],
    ['linear, lissa', { solver: { solver: 'lissa', seed: 3 } }],
    ['mlp, exact', { head: { model: 'mlp', hidden: [4], seed: 1 } }],
  ];
  for (const [name, opts] of combos)
    it(`${name}: the same head, scores and accuracy as a row of X per row`, async () => {
      const prep = await prepare(repeatedFile(), {});
      const dense = withOwnRows(prep);
      const a = fit(prep, opts);
      const b = fit(dense, opts);
      assert.deepEqual(a.head.theta, b.head.theta, 'the same trained parameters');
      const sa = await scoreRows(a.head, prep.data, a.solver);
      const sb = await scoreRows(b.head, dense.data, b.solver);
      assert.deepEqual(sa, sb);
      assert.equal(accuracy(a.head, prep.data), accuracy(b.head, dense.data));
    });

  it('the reasons (neighbours, duplicates, rules) are the same', async () => {
    const prep = await prepare(repeatedFile(), {});
    const dense = withOwnRows(prep);
    const fitted = fit(prep, {});
    const scores = await scoreRows(fitted.head, prep.data, fitted.solver);
    const a = await reasonsOf(prep, fitted, scores, {});
    const b = await reasonsOf({ ...dense, textGroups: prep.textGroups }, fitted, scores, {});
    assert.deepEqual(a.neighbours.index, b.neighbours.index);
    assert.deepEqual(a.neighbours.similarity, b.neighbours.similarity);
    assert.deepEqual(a.reasons.rows, b.reasons.rows);
    assert.ok(
      a.reasons.counts.duplicate > 0 && a.reasons.counts.conflict > 0,
      JSON.stringify(a.reasons.counts),
    );
  });

  it("a row's reasons built alone equal those of all rows built at once, and the counts count them", async () => {
    const prep = await prepare(repeatedFile(), {});
    const fitted = fit(prep, {});
    const scores = await scoreRows(fitted.head, prep.data, fitted.solver);
    const { reasons } = await reasonsOf(prep, fitted, scores, {});
    const one = Array.from({ length: prep.data.n }, (_, i) => reasons.reasonsOf(i));
    const all = reasons.rows;
    assert.deepEqual(one, all);
    assert.notEqual(one[0], all[0], 'built apart, before rows');
    assert.equal(reasons.reasonsOf(5), all[5], 'after rows: its entries');
    const recount = Object.fromEntries(Object.keys(reasons.counts).map((k) => [k, 0])) as Record<
      string,
      number
    >;
    for (const r of all) for (const x of r) recount[x.kind]++;
    assert.deepEqual(recount, reasons.counts);
    assert.equal(reasons.withAnyReason, all.filter((r) => r.length).length);
    // Shared evidence in rows: the copies of a text past the listed ones share one duplicate list.
    const lists = new Set(all.flatMap((r) => r.filter((x) => x.kind === 'duplicate').map((x) => x.evidence)));
    assert.ok(
      lists.size < reasons.counts.duplicate,
      `${lists.size} lists for ${reasons.counts.duplicate} rows`,
    );
  });

  it('neighbours of shared rows: zero rows stay unmatched, as when each row has its own', async () => {
    const D = 3;
    const distinct = Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0.5, 0.2, 0.1, 1]);
    const of = Int32Array.from([0, 1, 0, 2, 3, 1, 0, 4, 2, 0]);
    const data: HeadData = { X: distinct, y: new Int32Array(of.length), n: of.length, of };
    const own = ownRows(data, D);
    for (const k of [2, 4]) {
      const a = await findNeighbours(distinct, data.n, D, { k, of, method: 'exact' });
      const b = await findNeighbours(own.X, data.n, D, { k, method: 'exact' });
      assert.deepEqual(a.index, b.index, `k=${k}`);
      assert.deepEqual(a.similarity, b.similarity, `k=${k}`);
    }
  });
});

describe('the score job keeps its rows as columns (ScoredRows)', () => {
  it('builds each row on request as result.rows does, and keeps both in step when rows are explained later', async () => {
    const state = await runScoreJob(repeatedFile(), { attribution: { top: 3 } });
    const { rows } = state;
    const one = Array.from({ length: rows.length }, (_, i) => rows.at(i));
    assert.ok(one.every((r) => Array.isArray(r.reasons)));
    assert.equal(one.filter((r) => r.tokens).length, 3);
    // The same rows, and the most memorized first.
    const top = rows.top(5);
    assert.deepEqual(
      top.map((r) => r.rank),
      [1, 2, 3, 4, 5],
    );
    assert.ok(top.slice(1).every((r, k) => r.score <= top[k].score));
    const all = state.result.rows;
    assert.deepEqual(all, one);
    assert.equal(state.result.rows, all, 'built once');
    assert.equal(rows.at(7), all[7]);
    // "Explain this row" after the rows were sent: the sent objects get the attributions too.
    const i = one.findIndex((r) => !r.tokens);
    const [explained] = await explainRows(state, [i]);
    assert.ok(explained.tokens?.length);
    assert.equal(all[i], explained);
    assert.equal(state.result.summary.completeness?.rows, 4);
  });

  it('TextGroups.release() lets the signatures go: no subset or result after', async () => {
    const prep = await prepare(repeatedFile(), {});
    const groups = prep.textGroups!;
    groups.release();
    assert.throws(() => groups.subset([0, 1]), /release/);
    assert.throws(() => groups.result(), /release/);
  });
});
