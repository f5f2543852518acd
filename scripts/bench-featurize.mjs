// Featurizing benchmark: reading vs pooling (the head's input for every row) vs token features (attributed rows only),
// for the words featurizer on the 100,000-row file of `npm run bench:large` and on 1,000,000 two-word rows, and for
// the numeric featurizer on a synthetic 5,000 x 784 CSV (10 classes). Each case runs in its own process, so its peak
// RSS is its own. Figures are printed, never asserted (the machine is shared; rerun for stable numbers).
//   node --import tsx scripts/bench-featurize.mjs [words100k] [words1m] [numeric784]
// MEMSCORE_DATA points at the shared data (default ../shared/data); BENCH_VIA_TOKENS=0 skips the slow reference
// column (pooling through featurize(): per-token objects and token matrices for every row, as before the lean path);
// BENCH_SRC=DIR runs the featurizers of another source tree (e.g. a copy of an older commit's src/, for before/after).
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from './mulberry32.mjs';

const BATCH = 256; // as the pipeline's batches
const ATTRIBUTED = 100; // rows that get token features, as `--attribute 100`
const CASES = ['words100k', 'words1m', 'numeric784'];

const data = resolve(process.env.MEMSCORE_DATA ?? '../shared/data');
const src = process.env.BENCH_SRC
  ? resolve(process.env.BENCH_SRC)
  : fileURLToPath(new URL('../src', import.meta.url));
const load = (path) => import(pathToFileURL(join(src, path)).href);
const spam = join(data, 'spam.train.jsonl');

async function writeLines(file, n, line) {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    if (!out.write(line(i) + '\n')) await new Promise((res) => out.once('drain', res));
  }
  await new Promise((res) => out.end(res));
}

/** The bench:large file: the shared spam rows resampled with fresh ids. */
async function buildSpam(dir, n) {
  const rows = readFileSync(spam, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const file = join(dir, `spam-${n}.jsonl`);
  await writeLines(file, n, (i) => {
    const r = rows[i % rows.length];
    return JSON.stringify({ ...r, id: `${r.id}-${Math.floor(i / rows.length)}` });
  });
  return file;
}

/** Two-word rows: words drawn from the spam subjects, label from the row they came from. */
async function buildTwoWords(dir, n) {
  const rows = readFileSync(spam, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const words = rows.map((r) => r.subject.split(/\s+/).filter((w) => /^[A-Za-z]{2,}$/.test(w)));
  const rand = mulberry32(7);
  const file = join(dir, `two-words-${n}.jsonl`);
  await writeLines(file, n, (i) => {
    let k = Math.floor(rand() * rows.length);
    while (words[k].length === 0) k = (k + 1) % rows.length;
    const w = words[k];
    const text = `${w[Math.floor(rand() * w.length)]} ${w[Math.floor(rand() * w.length)]}`;
    return JSON.stringify({ id: `r${i}`, text, label: rows[k].label });
  });
  return file;
}

/** MNIST-shaped CSV: 784 integer columns in 0..255 (mostly 0, a class-dependent blob), 10 classes, a few blanks. */
async function buildNumeric(dir, n, cols = 784, classes = 10) {
  const rand = mulberry32(11);
  const side = Math.round(Math.sqrt(cols));
  const file = join(dir, `numeric-${n}x${cols}.csv`);
  const header = ['label', ...Array.from({ length: cols }, (_, j) => `p${j}`)].join(',');
  await writeLines(file, n + 1, (i) => {
    if (i === 0) return header;
    const c = (i - 1) % classes;
    const cx = side * (0.25 + 0.5 * ((c % 5) / 4));
    const cy = side * (c < 5 ? 0.35 : 0.65);
    const cells = [`c${c}`];
    for (let j = 0; j < cols; j++) {
      const d2 = ((j % side) - cx) ** 2 + (Math.floor(j / side) - cy) ** 2;
      const v = Math.max(0, Math.round(255 * Math.exp(-d2 / 18) + 60 * (rand() - 0.5)));
      cells.push(rand() < 0.002 ? '' : String(v));
    }
    return cells.join(',');
  });
  return file;
}

const seconds = (t0) => (performance.now() - t0) / 1000;
/** CPU seconds of this process (all its threads) since c0: steadier than wall time on a shared machine. */
const cpuSince = (c0) => {
  const u = process.cpuUsage(c0);
  return (u.user + u.system) / 1e6;
};
const peakMB = () => process.resourceUsage().maxRSS / 1024;

/** Pools all rows in batches: through pool() (lean), or through featurize() + pooling over E (the reference). */
async function poolAll(featurizer, rows, viaTokens, poolViaTokens) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let checksum = 0;
  for (let b = 0; b < rows.length; b += BATCH) {
    const batch = rows.slice(b, b + BATCH);
    const { X } = viaTokens ? await poolViaTokens(featurizer, batch) : await featurizer.pool(batch);
    for (let i = 0; i < X.length; i += 97) checksum += X[i];
  }
  return { sec: seconds(t0), cpu: cpuSince(c0), checksum };
}

async function runCase(name) {
  const dir = mkdtempSync(join(tmpdir(), `memscore-bench-featurize-${name}-`));
  try {
    const { readDataset } = await load('engine/data/readDataset.ts');
    const { poolViaTokens } = await load('engine/featurize/tokenVectors.ts');
    const file =
      name === 'words100k'
        ? await buildSpam(dir, Number(process.env.BENCH_ROWS ?? 100_000))
        : name === 'words1m'
          ? await buildTwoWords(dir, 1_000_000)
          : await buildNumeric(dir, 5_000);
    const mb = statSync(file).size / 1024 / 1024;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const read = await readDataset(file);
    const readSec = seconds(t0);
    const readCpu = cpuSince(c0);
    const rows = read.rows;
    const readPeak = peakMB();
    let featurizer;
    if (name === 'numeric784') {
      const { NumericFeaturizer } = await load('engine/featurize/numeric.ts');
      featurizer = new NumericFeaturizer();
    } else {
      const { WordsFeaturizer } = await load('engine/featurize/words.ts');
      const { loadWordVectors } = await load('engine/featurize/wordVectors.ts');
      const t1 = performance.now();
      featurizer = new WordsFeaturizer({ vectors: loadWordVectors() });
      console.log(`  word vectors loaded in ${seconds(t1).toFixed(3)} s`);
    }
    const t2 = performance.now();
    featurizer.fit?.(rows);
    const fitSec = seconds(t2);
    const lean = await poolAll(featurizer, rows, false, poolViaTokens);
    const leanPeak = peakMB();
    const t3 = performance.now();
    const feats = await featurizer.featurize(rows.slice(0, ATTRIBUTED));
    const featSec = seconds(t3);
    const T = feats.reduce((s, f) => s + f.tokens.length, 0);
    const viaTokens = process.env.BENCH_VIA_TOKENS !== '0';
    const ref = viaTokens ? await poolAll(featurizer, rows, true, poolViaTokens) : undefined;

    const n = rows.length;
    const rate = (sec, cpu) => `${(n / sec).toFixed(0).padStart(9)} rows/s, ${cpu.toFixed(3)} s CPU`;
    console.log(
      `${name}: ${n} rows (${read.skipped.length} skipped), ${mb.toFixed(1)} MB, dim ${featurizer.dim}`,
    );
    console.log(`  reading              ${readSec.toFixed(3).padStart(8)} s ${rate(readSec, readCpu)}`);
    if (featurizer.fit) console.log(`  fit                  ${fitSec.toFixed(3).padStart(8)} s`);
    console.log(
      `  pool()               ${lean.sec.toFixed(3).padStart(8)} s ${rate(lean.sec, lean.cpu)}  (${(lean.sec / readSec).toFixed(2)} x reading)`,
    );
    console.log(`  featurize(${ATTRIBUTED} rows)   ${featSec.toFixed(3).padStart(8)} s  (${T} tokens)`);
    if (ref) {
      console.log(
        `  featurize+pool all   ${ref.sec.toFixed(3).padStart(8)} s ${rate(ref.sec, ref.cpu)}  (reference; same checksum: ${Math.abs(ref.checksum - lean.checksum) <= 1e-9 * Math.max(1, Math.abs(lean.checksum))})`,
      );
    }
    console.log(
      `  peak RSS             ${readPeak.toFixed(0).padStart(8)} MB after reading, ${leanPeak.toFixed(0)} MB after pool(), ${peakMB().toFixed(0)} MB at the end`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--case') {
  await runCase(args[1]);
} else if (!existsSync(spam)) {
  console.log(`bench-featurize: skipped, ${spam} not found (set MEMSCORE_DATA to the shared data folder)`);
} else {
  const self = fileURLToPath(import.meta.url);
  for (const name of args.length ? args : CASES) {
    if (!CASES.includes(name)) throw new Error(`unknown case ${name} (cases: ${CASES.join(', ')})`);
    execFileSync(process.execPath, ['--import', 'tsx', self, '--case', name], { stdio: 'inherit' });
  }
}
