/**
 * The default text featurizer: frozen 100-d word vectors (bundled, see wordVectors.ts) per token, mean-pooled.
 *
 * Token vectors: exact word, then lowercase, then lowercase with non-alphanumerics removed ("don't" -> "dont"),
 * then letters only, then (for compounds like "linux.ie") the longest part that is in the vocabulary.
 * The vocabulary (GloVe-derived) has no single letters ("a", "i") and no pure numbers, so those are OOV. Punctuation/symbol tokens ("!", "$") are looked up as themselves. Out-of-vocabulary tokens get
 * the zero vector, i.e. exactly the baseline, so they get zero attribution (use wordCoverage to report how many).
 */
import type { DatasetRow, SourceToken } from '../types';
import type { Featurizer, TokenFeatures } from './featurizer';
import { DEFAULT_MAX_TOKENS, tokenizeWords } from './tokenize';
import { loadWordVectors, type WordVectors } from './wordVectors';

export interface WordsFeaturizerOptions {
  /** Max tokens per row (over all its text fields together); the rest are dropped. Default 512. */
  maxTokens?: number;
  /** Vector table to use (default: the bundled asset, loaded lazily on first featurize). */
  vectors?: WordVectors;
}

export const WORDS_DIM = 100;

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

interface RowTokens {
  tokens: SourceToken[];
}

function rowTokens(row: DatasetRow, maxTokens: number): RowTokens {
  const tokens: SourceToken[] = [];
  for (let f = 0; f < row.fields.length && tokens.length < maxTokens; f++) {
    const fv = row.fields[f];
    for (const w of tokenizeWords(fv.value, { maxTokens: maxTokens - tokens.length })) {
      const r = fv.rangeOf(w.start, w.end);
      tokens.push({ text: w.text, field: f, line: r.line, start: r.start, end: r.end });
    }
  }
  return { tokens };
}

export class WordsFeaturizer implements Featurizer {
  readonly name = 'words';
  readonly dim = WORDS_DIM;
  readonly pooling = 'mean' as const;
  private readonly maxTokens: number;
  private wv: WordVectors | undefined;
  /** token text -> vocabulary row (-1 for OOV). */
  private readonly cache = new Map<string, number>();

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
    const hit = this.cache.get(token);
    if (hit !== undefined) return hit;
    const wv = this.vectors();
    let idx = -1;
    for (const k of lookupKeys(token)) {
      idx = wv.indexOf(k);
      if (idx >= 0) break;
    }
    this.cache.set(token, idx);
    return idx;
  }

  tokens(row: DatasetRow): SourceToken[] {
    return rowTokens(row, this.maxTokens).tokens;
  }

  async featurize(rows: readonly DatasetRow[]): Promise<TokenFeatures[]> {
    const wv = this.vectors();
    const dim = this.dim;
    const out: TokenFeatures[] = [];
    for (const row of rows) {
      const { tokens } = rowTokens(row, this.maxTokens);
      const E = new Float64Array(tokens.length * dim);
      for (let t = 0; t < tokens.length; t++) {
        const idx = this.lookup(tokens[t].text);
        if (idx < 0) continue; // OOV: zero vector (= baseline), so zero attribution.
        const v = wv.vectorAt(idx);
        for (let d = 0; d < dim; d++) E[t * dim + d] = v[d];
      }
      // Baseline E' = zeros: the uninformative "[MASK]" for word vectors. Replacing every token by the zero vector
      // makes the mean-pooled input zero, so the head sees only its bias, i.e. the prior with no information from
      // the text; attributions then measure what each token's actual vector adds over knowing nothing.
      const Ebase = new Float64Array(tokens.length * dim);
      out.push({ tokens, dim, E, Ebase });
    }
    return out;
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
    for (const t of featurizer.tokens(row)) {
      tokens++;
      if (featurizer.lookup(t.text) < 0) oov++;
    }
  }
  return { tokens, oov };
}
