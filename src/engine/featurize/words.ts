/**
 * The default text featurizer: frozen 100-d word vectors (bundled, see wordVectors.ts) per token, mean-pooled.
 *
 * Token vectors: exact word, then lowercase, then lowercase with non-alphanumerics removed ("don't" -> "dont"),
 * then letters only, then (for compounds like "linux.ie") the longest part that is in the vocabulary.
 * The vocabulary (GloVe-derived) has no single letters ("a", "i") and no pure numbers, so those are OOV.
 * Punctuation/symbol tokens ("!", "$") are looked up as themselves. Out-of-vocabulary tokens get the zero vector, i.e.
 * exactly the baseline, so they get zero attribution (use wordCoverage to report how many).
 *
 * pool() (every row) scans tokens as spans and looks them up without making strings or token objects; featurize()
 * (attributed rows only) builds the tokens with their raw-file ranges and the T x 100 matrix.
 */
import type { DatasetRow, SourceToken } from '../types';
import type {
  FeaturizeOptions,
  FieldPoolingFeaturizer,
  PoolOptions,
  PooledBatch,
  TokenFeatures,
} from './featurizer';
import { DEFAULT_MAX_TOKENS, WordScanner, tokenizeWords } from './tokenize';
import { loadWordVectors, SpanTable, type WordVectors } from './wordVectors';

export interface WordsFeaturizerOptions {
  /** Max tokens per row (over all its text fields together); the rest are dropped. Default 512. */
  maxTokens?: number;
  /** Vector table to use (default: the bundled asset, loaded lazily on first featurize). */
  vectors?: WordVectors;
}

export const WORDS_DIM = 100;

const MAX_CACHED_TOKENS = 1 << 20;

/** Candidate vocabulary keys for a token, most specific first. */
export function lookupKeys(token: string): string[] {
  const keys: string[] = [];
  const add = (k: string) => {
    if (k && !keys.includes(k)) keys.push(k);
  };
  const t = token.normalize('NFC');
  add(t);
  const lower = t.toLowerCase();
  add(lower);
  add(lower.replace(/’/g, "'"));
  add(lower.replace(/[^\p{L}\p{M}\p{N}]/gu, ''));
  add(lower.replace(/[^\p{L}\p{M}]/gu, ''));
  // Compounds the vocabulary lacks ("linux.ie", "rpm-list"): their parts, longest first (ties: leftmost).
  const parts = lower.split(/['’\-.]+/).filter((p) => p.length > 1);
  if (parts.length > 1) for (const p of parts.sort((a, b) => b.length - a.length)) add(p);
  return keys;
}

function rowTokens(row: DatasetRow, maxTokens: number): SourceToken[] {
  const tokens: SourceToken[] = [];
  for (let f = 0; f < row.fields.length && tokens.length < maxTokens; f++) {
    const fv = row.fields[f];
    for (const w of tokenizeWords(fv.value, { maxTokens: maxTokens - tokens.length })) {
      const r = fv.rangeOf(w.start, w.end);
      tokens.push({ text: w.text, field: f, line: r.line, start: r.start, end: r.end });
    }
  }
  return tokens;
}

export class WordsFeaturizer implements FieldPoolingFeaturizer {
  readonly name = 'words';
  readonly poolsFrom = 'fields' as const;
  readonly dim = WORDS_DIM;
  readonly pooling = 'mean' as const;
  readonly tokenLevel = true;
  private readonly maxTokens: number;
  private wv: WordVectors | undefined;
  /** token text -> vocabulary row (-1 for OOV): lookupKeys' fallbacks run once per distinct token. */
  private readonly cache = new SpanTable();
  private readonly scanner = new WordScanner();
  /**
   * Scratch for pool(): ids, the vocabulary row of each token of the current row; counts, per vocabulary row, how
   * often it occurs in the current row (all 0 between rows); distinct and weights, the rows that occur and their counts.
   */
  private ids = new Int32Array(64);
  private counts: Int32Array | undefined;
  private distinct: Int32Array | undefined;
  private weights: Float64Array | undefined;

  constructor(options: WordsFeaturizerOptions = {}) {
    this.maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.wv = options.vectors;
  }

  private vectors(): WordVectors {
    if (!this.wv) this.wv = loadWordVectors();
    if (this.wv.dim !== this.dim)
      throw new Error(`word vectors have dim ${this.wv.dim}, expected ${this.dim}`);
    return this.wv;
  }

  /** Vocabulary row of a token, or -1 if out of vocabulary. */
  lookup(token: string): number {
    return this.lookupSpan(token, 0, token.length);
  }

  /** Vocabulary row of the token s[start, end): no string is made unless it is new. */
  private lookupSpan(s: string, start: number, end: number): number {
    const hit = this.cache.get(s, start, end);
    if (hit !== undefined) return hit;
    const wv = this.vectors();
    let idx = -1;
    for (const k of lookupKeys(s.slice(start, end))) {
      idx = wv.indexOf(k);
      if (idx >= 0) break;
    }
    // Past a million distinct tokens, stop caching OOV ones (ids, numbers, URLs: mostly seen once), so the cache
    // stays bounded by the vocabulary's spellings rather than growing with the file.
    if (idx >= 0 || this.cache.size < MAX_CACHED_TOKENS) this.cache.set(s, start, end, idx);
    return idx;
  }

  /**
   * The vocabulary rows (-1: OOV) of the row's tokens, in order, into this.ids; returns how many (T). The same tokens
   * as featurize() gives the row, without token objects, ranges or (for tokens seen before) strings.
   */
  private tokenIds(row: DatasetRow): number {
    const sc = this.scanner;
    let T = 0;
    for (let f = 0; f < row.fields.length && T < this.maxTokens; f++) {
      const value = row.fields[f].value;
      sc.reset(value);
      while (T < this.maxTokens && sc.next()) {
        if (T === this.ids.length) {
          const grown = new Int32Array(2 * T);
          grown.set(this.ids);
          this.ids = grown;
        }
        this.ids[T++] = this.lookupSpan(value, sc.start, sc.end);
      }
    }
    return T;
  }

  /**
   * Mean word vector per row: the mean over featurize()'s E (OOV tokens count, with their zero vector), summed per
   * distinct word (count times vector) straight from the table.
   */
  async pool(rows: readonly DatasetRow[], options: PoolOptions = {}): Promise<PooledBatch> {
    options.signal?.throwIfAborted();
    const wv = this.vectors();
    const D = this.dim;
    const counts = (this.counts ??= new Int32Array(wv.count));
    const distinct = (this.distinct ??= new Int32Array(wv.count));
    const weights = (this.weights ??= new Float64Array(wv.count));
    const X = new Float64Array(rows.length * D);
    for (let i = 0; i < rows.length; i++) {
      const T = this.tokenIds(rows[i]);
      const ids = this.ids;
      let m = 0;
      for (let t = 0; t < T; t++) {
        const id = ids[t];
        if (id >= 0 && counts[id]++ === 0) distinct[m++] = id;
      }
      if (m === 0) continue;
      for (let k = 0; k < m; k++) {
        weights[k] = counts[distinct[k]];
        counts[distinct[k]] = 0;
      }
      const o = i * D;
      wv.accumulate(distinct, weights, m, X, o);
      const w = 1 / T;
      for (let d = 0; d < D; d++) X[o + d] *= w;
    }
    return { X };
  }

  async featurize(rows: readonly DatasetRow[], options: FeaturizeOptions = {}): Promise<TokenFeatures[]> {
    options.signal?.throwIfAborted();
    const wv = this.vectors();
    const V = wv.vectors;
    const dim = this.dim;
    const out: TokenFeatures[] = [];
    for (const row of rows) {
      const tokens = rowTokens(row, this.maxTokens);
      const E = new Float64Array(tokens.length * dim);
      for (let t = 0; t < tokens.length; t++) {
        const idx = this.lookup(tokens[t].text);
        if (idx < 0) continue; // OOV: zero vector (= baseline), so zero attribution.
        E.set(V.subarray(idx * dim, (idx + 1) * dim), t * dim);
      }
      // Baseline E' = zeros: the uninformative "[MASK]" for word vectors. Replacing every token by the zero vector
      // makes the mean-pooled input zero, so the head sees only its bias, i.e. the prior with no information from
      // the text; attributions then measure what each token's actual vector adds over knowing nothing.
      const Ebase = new Float64Array(options.baseline === false ? 0 : tokens.length * dim);
      out.push({ tokens, dim, E, Ebase });
    }
    return out;
  }

  /** How many tokens the row has (after the maxTokens cap) and how many of them are out of vocabulary. */
  coverage(row: DatasetRow): { tokens: number; oov: number } {
    const T = this.tokenIds(row);
    let oov = 0;
    for (let t = 0; t < T; t++) if (this.ids[t] < 0) oov++;
    return { tokens: T, oov };
  }
}

/** How many tokens the rows have (after the maxTokens cap) and how many of them are out of vocabulary. */
export function wordCoverage(
  rows: readonly DatasetRow[],
  featurizer: WordsFeaturizer = new WordsFeaturizer(),
): { tokens: number; oov: number } {
  let tokens = 0;
  let oov = 0;
  for (const row of rows) {
    const c = featurizer.coverage(row);
    tokens += c.tokens;
    oov += c.oov;
  }
  return { tokens, oov };
}
