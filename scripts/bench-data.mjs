// The scale benchmarks' input files, each written exactly as its own benchmark writes it (same seeds, same bytes):
// the 1,000,000 two-word rows of bench-million.mjs, the resampled spam rows of bench-large.mjs and the MNIST-shaped
// 784-column CSV of bench-wide.mjs. Used by bench-memory.mjs.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from './mulberry32.mjs';

export const dataDir = resolve(process.env.MEMSCORE_DATA ?? '../shared/data');
export const spamFile = join(dataDir, 'spam.train.jsonl');

const spamRows = () =>
  readFileSync(spamFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** Writes line(i) for i < n, in chunks of about 1 MB. */
async function writeLines(file, n, line) {
  const out = createWriteStream(file);
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk += line(i) + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((res) => out.once('drain', res));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise((res) => out.end(res));
  return file;
}

/** bench-million.mjs: two consecutive words of a random spam row, with its label. */
export async function buildMillion(dir, n = 1_000_000) {
  if (!existsSync(spamFile)) return undefined;
  const rows = spamRows()
    .map((r) => ({
      label: r.label,
      words: `${r.subject ?? ''} ${r.text ?? ''}`.split(/\s+/).filter((w) => /\w/.test(w)),
    }))
    .filter((r) => r.words.length >= 2);
  const rand = mulberry32(1);
  return writeLines(join(dir, `short-${n}.jsonl`), n, (i) => {
    const r = rows[Math.floor(rand() * rows.length)];
    const k = Math.floor(rand() * (r.words.length - 1));
    return JSON.stringify({ id: `s${i}`, text: `${r.words[k]} ${r.words[k + 1]}`, label: r.label });
  });
}

/** bench-large.mjs: the shared spam rows resampled with fresh ids. */
export async function buildLarge(dir, n = 100_000) {
  if (!existsSync(spamFile)) return undefined;
  const rows = spamRows();
  return writeLines(join(dir, `spam-${n}.jsonl`), n, (i) => {
    const r = rows[i % rows.length];
    return JSON.stringify({ ...r, id: `${r.id}-${Math.floor(i / rows.length)}` });
  });
}

/**
 * bench-wide.mjs: 28 x 28 "images", each class a few smooth random strokes, rows its noisy shifted copies in 0..255
 * (most pixels 0), 3% mislabeled; a label column and p0..p783. With testRows, also wide-test.csv: as many more rows
 * from the same stream, classes shifted by 3. Returns the training file.
 */
export async function buildWide(dir, n = 5000, testRows = 0) {
  const side = 28;
  const classes = 10;
  const rand = mulberry32(784);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const protos = Array.from({ length: classes }, () => {
    const img = new Float64Array(side * side);
    for (let s = 0; s < 3; s++) {
      const [x0, y0, x1, y1] = [4 + 20 * rand(), 4 + 20 * rand(), 4 + 20 * rand(), 4 + 20 * rand()];
      for (let t = 0; t <= 1; t += 0.05) {
        const cx = x0 + t * (x1 - x0);
        const cy = y0 + t * (y1 - y0);
        for (let y = 0; y < side; y++)
          for (let x = 0; x < side; x++) img[y * side + x] += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3);
      }
    }
    const max = Math.max(...img);
    return img.map((v) => v / max);
  });
  const header = ['label', ...Array.from({ length: side * side }, (_, j) => `p${j}`)].join(',');
  const row = (c) => {
    const label = rand() < 0.03 ? (c + 1 + Math.floor(rand() * (classes - 1))) % classes : c;
    const dx = Math.round(2 * gauss());
    const dy = Math.round(2 * gauss());
    const cells = [String(label)];
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const sx = x - dx;
        const sy = y - dy;
        const v = sx >= 0 && sx < side && sy >= 0 && sy < side ? protos[c][sy * side + sx] : 0;
        const p = Math.round(255 * Math.min(1, Math.max(0, v * (0.8 + 0.4 * rand()) + 0.15 * gauss())));
        cells.push(p < 20 ? '0' : String(p));
      }
    return cells.join(',');
  };
  const rowsFrom = (shift) => (i) => (i === 0 ? header : row((i - 1 + shift) % classes));
  const train = await writeLines(join(dir, `wide-${n}.csv`), n + 1, rowsFrom(0));
  if (testRows) await writeLines(join(dir, 'wide-test.csv'), testRows + 1, rowsFrom(3));
  return train;
}
