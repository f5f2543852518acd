// Measurements of the reasons on the shared data (every file it writes goes to a temporary folder):
//  1. spam.train: reason counts, mean score percentile per reason, near-duplicate pairs at Jaccard 0.7 / 0.8 / 0.9,
//     the share of hard_ham vs easy_ham rows tagged `rare`, and the per-group table of the `group` field;
//  2. planted duplicates: a copy of spam.train plus 100 rows copied with the same label and 100 copied with the
//     other label (new ids; source rows chosen, seeded, among rows without any duplicate in the original file):
//     recall and precision of `duplicate` and `conflict` on the planted rows, and their score percentiles before
//     and after planting;
//  3. spam-noisy10: precision and recall of `mislabeled` against the flipped ids, next to the top rows by loss (and
//     by score) at the same number of rows.
// The pipeline featurizes and scores each file (runScoreJob); the reasons get its standardized features, labels,
// predictions, self-influence, and self-influence with another label from the fitted head and solver.
// Run: node --import tsx scripts/measure-reasons.ts [spam|planted|noisy ...] (default: all three).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runScoreJob, type ScoreState } from '../src/engine/pipeline/scoreJob';
import { permutation } from '../src/engine/random';
import { groupTable } from '../src/engine/reasons/groups';
import { type ReasonJob, computeReasons } from '../src/engine/reasons/index';
import { REASON_KINDS, type ReasonKind } from '../src/engine/reasons/reasons';
import { duplicateClusters, findTextDuplicates, linksOf } from '../src/engine/reasons/textDuplicates';

const data = resolve(process.env.MEMSCORE_DATA ?? '../shared/data');
const spamFile = join(data, 'spam.train.jsonl');
const noisyFile = join(data, 'spam-noisy10.train.jsonl');
const flippedFile = join(data, 'spam-noisy10.flipped.json');

interface Analysed {
  st: ScoreState;
  job: ReasonJob;
  texts: string[];
  ids: string[];
  /** The raw JSON object of each row (for fields the model never sees, such as `group`). */
  raw: Record<string, unknown>[];
  percentile: number[];
  maxCallbackError: number;
}

async function analyse(file: string): Promise<Analysed> {
  const st = await runScoreJob(file, { attribution: { top: 0 } });
  const { prep, fitted, scores } = st;
  const n = prep.data.n;
  const D = prep.featurizer.dim;
  const lines = readFileSync(file, 'utf8').split('\n');
  const raw = prep.rows.map((r) => JSON.parse(lines[r.line - 1]) as Record<string, unknown>);
  const texts = prep.rows.map((r) => r.fields.map((f) => f.value).join('\n'));
  // Self-influence of row i if its label were c: the fitted head's gradient for (x_i, c) through the same solver.
  const withLabel = (i: number, c: number) =>
    fitted.solver.selfInfluence(fitted.head.gradients(prep.data.X.subarray(i * D, i * D + D), [c], 1))[0];
  // Check the callback: with the row's own label it must give the pipeline's self-influence.
  let maxCallbackError = 0;
  for (let i = 0; i < n; i += 97)
    maxCallbackError = Math.max(
      maxCallbackError,
      Math.abs(withLabel(i, prep.data.y[i]) - scores.selfInfluence[i]) / Math.abs(scores.selfInfluence[i]),
    );
  const job = await computeReasons({
    X: prep.data.X,
    n,
    dim: D,
    classes: prep.classes,
    y: prep.data.y,
    pred: scores.pred,
    lines: prep.rows.map((r) => r.line),
    texts,
    selfInfluence: scores.selfInfluence,
    selfInfluenceWithLabel: withLabel,
  });
  return {
    st,
    job,
    texts,
    ids: prep.rows.map((r) => r.id),
    raw,
    percentile: st.result.rows.map((r) => r.percentile),
    maxCallbackError,
  };
}

const has = (a: Analysed, i: number, kind: ReasonKind) => a.job.reasons.rows[i].some((r) => r.kind === kind);
const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN);
const median = (v: number[]) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length
    ? s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
    : NaN;
};
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function spam(a: Analysed): Promise<void> {
  const { job } = a;
  const n = a.texts.length;
  console.log(`\n== spam.train: ${n} rows; ${job.notes.join('; ')}`);
  console.log(
    `self-influence callback vs the pipeline's (own label): max relative difference ${a.maxCallbackError.toExponential(2)}`,
  );
  console.log(`seconds: ${JSON.stringify(job.seconds)}`);
  console.log(
    `rows per reason: ${JSON.stringify(job.reasons.counts)}; with any reason: ${job.reasons.withAnyReason}`,
  );
  for (const k of REASON_KINDS) {
    const p = a.percentile.filter((_, i) => has(a, i, k));
    console.log(
      `  ${k.padEnd(10)} ${String(p.length).padStart(5)} rows, mean score percentile ${mean(p).toFixed(1)}, median ${median(p).toFixed(1)}`,
    );
  }
  const none = a.percentile.filter((_, i) => !a.job.reasons.rows[i].length);
  console.log(
    `  (no reason) ${String(none.length).padStart(4)} rows, mean score percentile ${mean(none).toFixed(1)}`,
  );

  console.log(
    '\nnear-duplicates by threshold (exact groups of the normalized text are the same at every threshold):',
  );
  const labels = a.st.prep.rows.map((r) => r.label);
  for (const threshold of [0.7, 0.8, 0.9]) {
    const d = await findTextDuplicates(a.texts, { threshold });
    const nearRows = new Set<number>();
    d.members.forEach(
      (rows, g) => d.linkOffsets[g + 1] > d.linkOffsets[g] && rows.forEach((i) => nearRows.add(i)),
    );
    const clusters = duplicateClusters(d);
    const mixed = clusters.filter((c) => new Set(c.map((i) => labels[i])).size > 1).length;
    console.log(
      `  ${threshold}: ${d.stats.nearPairs} near pairs of distinct texts (${d.stats.candidates} LSH candidates, ${d.stats.bands} bands x ${d.stats.rowsPerBand}), ` +
        `${nearRows.size} rows with a near-duplicate, ${d.stats.exactDuplicateRows} rows with an exact one; ${clusters.length} clusters, ${mixed} with mixed labels`,
    );
  }
  // What pairs between 0.7 and 0.8 look like (the band the default leaves out).
  const d7 = await findTextDuplicates(a.texts, { threshold: 0.7 });
  let shown = 0;
  for (let g = 0; g < d7.members.length && shown < 3; g++)
    for (const l of linksOf(d7, g))
      if (l.group > g && l.jaccard < 0.8 && shown < 3 && (g * 7 + l.group) % 5 === 0) {
        shown++;
        const [x, y] = [d7.members[g][0], d7.members[l.group][0]];
        console.log(`  e.g. Jaccard ${l.jaccard.toFixed(3)}: lines ${x + 1} / ${y + 1}:`);
        console.log(`     ${a.texts[x].slice(0, 110).replace(/\s+/g, ' ')}`);
        console.log(`     ${a.texts[y].slice(0, 110).replace(/\s+/g, ' ')}`);
      }

  const groupOf = a.raw.map((r) => String(r.group ?? ''));
  const rare = (g: string) => {
    const rows = groupOf.map((x, i) => (x === g ? i : -1)).filter((i) => i >= 0);
    return { rows: rows.length, rare: rows.filter((i) => has(a, i, 'rare')).length };
  };
  const hard = rare('hard_ham');
  const easy = rare('easy_ham');
  console.log(
    `\nrare: hard_ham ${hard.rare}/${hard.rows} = ${pct(hard.rare / hard.rows)}, easy_ham ${easy.rare}/${easy.rows} = ${pct(easy.rare / easy.rows)}`,
  );
  const t = groupTable(groupOf, a.percentile, job.reasons.rows);
  console.log('\nper group (--group group):');
  console.log(
    `  ${'group'.padEnd(10)} ${'rows'.padStart(5)} ${'mean pct'.padStart(8)} ${'top 10%'.padStart(8)}  ${REASON_KINDS.map((k) => k.padStart(10)).join(' ')}`,
  );
  for (const g of [...t.groups, t.all])
    console.log(
      `  ${g.group.padEnd(10)} ${String(g.rows).padStart(5)} ${g.meanPercentile.toFixed(1).padStart(8)} ${pct(g.top10Share).padStart(8)}  ${REASON_KINDS.map((k) => pct(g.reasons[k]).padStart(10)).join(' ')}`,
    );
}

async function planted(before: Analysed, dir: string): Promise<void> {
  const n = before.texts.length;
  const d = before.job.duplicates!;
  // Sources: rows with no exact or near duplicate in the original file, so every planted tag is attributable.
  const singles = Array.from(permutation(n, 11)).filter((i) => {
    const g = d.group[i];
    return g >= 0 && d.members[g].length === 1 && d.linkOffsets[g + 1] === d.linkOffsets[g];
  });
  const same = singles.slice(0, 100);
  const other = singles.slice(100, 200);
  const classes = before.st.prep.classes;
  const lines = readFileSync(spamFile, 'utf8').split('\n').filter(Boolean);
  const extra = [...same, ...other].map((i, t) => {
    const row = { ...before.raw[i] };
    row.id = `${String(row.id)}-planted`;
    if (t >= 100) row.label = classes.find((c) => c !== row.label);
    return JSON.stringify(row);
  });
  const file = join(dir, 'spam-planted.train.jsonl');
  writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
  const after = await analyse(file);
  const copyOf = new Map<number, number>(); // row in the planted file -> its partner
  [...same, ...other].forEach((i, t) => {
    copyOf.set(i, n + t);
    copyOf.set(n + t, i);
  });
  const sameRows = [...same, ...same.map((_, t) => n + t)];
  const otherRows = [...other, ...other.map((_, t) => n + 100 + t)];
  const planted = [...sameRows, ...otherRows];
  const names = (i: number, kind: 'duplicate' | 'conflict') => {
    const r = after.job.reasons.rows[i].find((x) => x.kind === kind);
    return !!r && (r.evidence as { rows: { index: number }[] }).rows.some((x) => x.index === copyOf.get(i));
  };
  console.log(`\n== planted duplicates: ${file} (${n} + 200 rows); ${after.job.notes.join('; ')}`);
  for (const [kind, truth] of [
    ['duplicate', sameRows],
    ['conflict', otherRows],
  ] as const) {
    const tagged = planted.filter((i) => has(after, i, kind));
    const right = truth.filter((i) => names(i, kind));
    console.log(
      `  ${kind}: recall ${right.length}/${truth.length} = ${pct(right.length / truth.length)} (tagged, naming the planted partner); ` +
        `precision on the 400 planted rows ${right.length}/${tagged.length} = ${pct(right.length / Math.max(1, tagged.length))}`,
    );
  }
  const outside = (a: Analysed, kind: ReasonKind, m: number) =>
    Array.from({ length: m }, (_, i) => i).filter((i) => !copyOf.has(i) && has(a, i, kind)).length;
  for (const kind of ['duplicate', 'conflict'] as const)
    console.log(
      `  ${kind} on the other ${n - 200} original rows: ${outside(before, kind, n)} before, ${outside(after, kind, n)} after planting (natural duplicates)`,
    );
  const show = (label: string, rows: number[], a: Analysed) => {
    const p = rows.map((i) => a.percentile[i]);
    return `${label} mean ${mean(p).toFixed(1)} / median ${median(p).toFixed(1)}`;
  };
  console.log('  score percentile (100 = most memorized):');
  console.log(
    `    same label:  ${show('originals before', same, before)}; ${show('originals after', same, after)}; ${show(
      'copies',
      same.map((_, t) => n + t),
      after,
    )}`,
  );
  console.log(
    `    other label: ${show('originals before', other, before)}; ${show('originals after', other, after)}; ${show(
      'copies',
      other.map((_, t) => n + 100 + t),
      after,
    )}`,
  );
  const mis = otherRows.filter((i) => has(after, i, 'mislabeled'));
  console.log(
    `    conflicting pairs also tagged mislabeled: ${mis.length}/200 rows (${mis.filter((i) => i >= n).length} of them the relabelled copies)`,
  );
}

function noisy(a: Analysed): void {
  const flipped = new Set(JSON.parse(readFileSync(flippedFile, 'utf8')) as string[]);
  const n = a.ids.length;
  const isFlipped = a.ids.map((id) => flipped.has(id));
  const nFlipped = isFlipped.filter(Boolean).length;
  const tagged = a.ids.map((_, i) => i).filter((i) => has(a, i, 'mislabeled'));
  const m = tagged.length;
  const prf = (rows: number[]) => {
    const tp = rows.filter((i) => isFlipped[i]).length;
    return `precision ${pct(tp / Math.max(1, rows.length))}, recall ${pct(tp / nFlipped)} (${tp} of ${rows.length})`;
  };
  const topBy = (v: ArrayLike<number>) =>
    Array.from({ length: n }, (_, i) => i)
      .sort((x, y) => v[y] - v[x] || x - y)
      .slice(0, m);
  console.log(`\n== spam-noisy10: ${n} rows, ${nFlipped} flipped; ${a.job.notes.join('; ')}`);
  console.log(`  mislabeled:          ${prf(tagged)}`);
  console.log(`  top ${m} by loss:     ${prf(topBy(a.st.scores.loss))}`);
  console.log(`  top ${m} by score:    ${prf(topBy(a.st.scores.score))}`);
  const conflict = a.ids.map((_, i) => i).filter((i) => has(a, i, 'conflict'));
  console.log(`  conflict:            ${prf(conflict)}`);
  const drops = tagged.map((i) => {
    const r = a.job.reasons.rows[i].find((x) => x.kind === 'mislabeled')!;
    return (r.evidence as { selfInfluenceDrop?: number }).selfInfluenceDrop ?? NaN;
  });
  const dropOf = (want: boolean) => drops.filter((_, t) => isFlipped[tagged[t]] === want);
  console.log(
    `  self-influence fall if relabelled to the prediction: median ${pct(median(dropOf(true)))} on flipped, ${pct(median(dropOf(false)))} on the others; ` +
      `rows where it falls: ${drops.filter((x) => x > 0).length}/${m}`,
  );
  console.log(
    `  self-influence callback vs the pipeline's (own label): max relative difference ${a.maxCallbackError.toExponential(2)}`,
  );
}

async function main(): Promise<void> {
  for (const f of [spamFile, noisyFile, flippedFile])
    if (!existsSync(f)) {
      console.log(`measure-reasons: skipped, ${f} not found (set MEMSCORE_DATA to the shared data folder)`);
      return;
    }
  const parts = process.argv.slice(2);
  const want = (p: string) => !parts.length || parts.includes(p);
  const dir = mkdtempSync(join(tmpdir(), 'memscore-reasons-'));
  if (want('spam') || want('planted')) {
    const a = await analyse(spamFile);
    if (want('spam')) await spam(a);
    if (want('planted')) await planted(a, dir);
  }
  if (want('noisy')) noisy(await analyse(noisyFile));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
