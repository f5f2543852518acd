// explainReasons asks the self-influences of the mislabeled rows in one batch when the input offers
// selfInfluenceWithLabels; the reasons must be those of the row-by-row selfInfluenceWithLabel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findNeighbours } from '../../src/engine/reasons/neighbours';
import { explainReasons } from '../../src/engine/reasons/reasons';
import { rng } from './helpers';

test('batched self-influences with another label give the row-by-row reasons', async () => {
  const r = rng(21);
  const n = 400;
  const D = 4;
  const C = 3;
  const X = Float64Array.from({ length: n * D }, () => r() * 2 - 1);
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * C));
  const pred = Int32Array.from(y, (c) => (r() < 0.4 ? Math.floor(r() * C) : c));
  const neighbours = await findNeighbours(X, n, D, { method: 'exact' });
  const si = (i: number, c: number) => Math.sin(i + 1) * (c + 2) + 3;
  const base = {
    classes: ['a', 'b', 'c'],
    y,
    pred,
    lines: Int32Array.from(y, (_, i) => i + 1),
    X,
    dim: D,
    neighbours,
  };
  for (const own of [true, false]) {
    const selfInfluence = own ? Float64Array.from(y, (c, i) => si(i, c)) : undefined;
    const one = explainReasons({ ...base, selfInfluence, selfInfluenceWithLabel: si });
    let calls = 0;
    const many = explainReasons({
      ...base,
      selfInfluence,
      selfInfluenceWithLabels: (rows, cs) => {
        calls++;
        return Float64Array.from(rows, (i, t) => si(i, cs[t]));
      },
    });
    assert.ok(one.counts.mislabeled > 10, `mislabeled rows: ${one.counts.mislabeled}`);
    // Everything the result holds (reasonsOf is a function of it, so compared through rows).
    const content = (x: typeof one) => ({
      rows: x.rows,
      counts: x.counts,
      withAnyReason: x.withAnyReason,
      rules: x.rules,
    });
    assert.deepEqual(content(many), content(one));
    assert.equal(calls, own ? 1 : 2);
    const ev = one.rows.flat().find((x) => x.kind === 'mislabeled');
    assert.ok(ev && ev.kind === 'mislabeled' && ev.evidence.selfInfluenceIfPredicted !== undefined);
  }
});
