/**
 * Tokenizing only as much of a text as truncation keeps. A row of 5,000 characters cut at 128 tokens needs only its
 * first few hundred characters normalized, pre-tokenized and modeled; the rest would be thrown away.
 *
 * That is exact only where the pipeline is local at a whitespace character: the pieces of text[0, c) are those of the
 * whole text up to c. It holds when the normalizers act per character or per unit (BERT's, lowercasing, Unicode
 * forms, accent stripping, Strip, Prepend, the library's Precompiled, Replace of literal non-whitespace strings), the
 * pre-tokenizer splits at whitespace before anything else (BERT's, Whitespace, WhitespaceSplit, byte-level with its
 * regex), the added tokens hold no whitespace and unknown pieces are not fused across words. Other pipelines (no
 * pre-tokenizer, Metaspace alone, regex Split or Replace) are tokenized whole. The cut is made at an ASCII space,
 * tab or line break that follows a non-space (every normalizer here keeps such a character as whitespace), and the
 * prefix's last word, which the text after the cut could still change, is never kept.
 */
import { isSpaceCode } from './chars';
import type { Json } from './config';

const LOCAL_NORMALIZERS = new Set([
  'BertNormalizer',
  'Lowercase',
  'NFC',
  'NFD',
  'NFKC',
  'NFKD',
  'StripAccents',
  'Strip',
  'Prepend',
  'Precompiled',
  'Replace',
]);

const WS = /\s/u;

function localNormalizer(cfg: unknown): boolean {
  if (cfg === null || cfg === undefined) return true;
  if (typeof cfg !== 'object') return false;
  const c = cfg as Json;
  if (c.type === 'Sequence')
    return Array.isArray(c.normalizers) && c.normalizers.every((n) => localNormalizer(n));
  if (!LOCAL_NORMALIZERS.has(String(c.type))) return false;
  if (c.type === 'Replace') {
    // A literal string, without whitespace on either side (a regex, or replacing spaces, is not local).
    const pattern = c.pattern as Json | undefined;
    const lit = pattern?.String;
    const content = c.content;
    return (
      typeof lit === 'string' &&
      lit.length > 0 &&
      !WS.test(lit) &&
      typeof content === 'string' &&
      !WS.test(content)
    );
  }
  return true;
}

/** Pre-tokenizers that split at every whitespace (and only ever cut more finely). */
function splitsAtWhitespace(c: Json): boolean {
  if (c.type === 'ByteLevel') return c.use_regex !== false;
  return c.type === 'BertPreTokenizer' || c.type === 'Whitespace' || c.type === 'WhitespaceSplit';
}

/** Pre-tokenizers that act on each word on its own, or partition the text without touching whitespace. */
function wordLocal(c: Json): boolean {
  if (splitsAtWhitespace(c) || c.type === 'ByteLevel' || c.type === 'Punctuation' || c.type === 'Digits')
    return true;
  if (c.type === 'Metaspace') return true; // after a whitespace split: words hold no space to replace
  return false;
}

function localPreTokenizer(cfg: unknown): boolean {
  if (!cfg || typeof cfg !== 'object') return false; // none: the whole text is one word
  const c = cfg as Json;
  if (c.type !== 'Sequence') return splitsAtWhitespace(c);
  const list = Array.isArray(c.pretokenizers) ? (c.pretokenizers as Json[]) : [];
  // Partitions that keep whitespace (Punctuation, Digits) may come first; then a whitespace split; then word-local.
  let k = 0;
  while (k < list.length && (list[k]?.type === 'Punctuation' || list[k]?.type === 'Digits')) k++;
  if (k >= list.length || !splitsAtWhitespace(list[k])) return false;
  return list.slice(k + 1).every((p) => p && wordLocal(p));
}

/** Whether texts of this tokenizer may be tokenized by prefix (see the file comment). */
export function prefixTokenizable(tokenizerJson: Json, addedTokensHoldWhitespace: boolean): boolean {
  const model = (tokenizerJson.model ?? {}) as Json;
  return (
    !addedTokensHoldWhitespace &&
    model.fuse_unk !== true &&
    localNormalizer(tokenizerJson.normalizer) &&
    localPreTokenizer(tokenizerJson.pre_tokenizer)
  );
}

/** An ASCII space, tab, CR or LF. */
const isCut = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The first cut position at or after `from`: text[c] is an ASCII space / tab / line break and text[c - 1] is not
 * whitespace. text.length when there is none.
 */
export function cutAt(text: string, from: number): number {
  for (let c = Math.max(1, from); c < text.length; c++)
    if (isCut(text.charCodeAt(c)) && !isSpaceCode(text.charCodeAt(c - 1))) return c;
  return text.length;
}
