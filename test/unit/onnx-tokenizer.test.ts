// The ONNX featurizer's tokenizer (src/engine/featurize/onnx/tokenizer/): tokens and ids equal
// @huggingface/tokenizers' encode(), and every offset slices the original text to the piece it came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, type Encoding, type OnnxTokenizer } from '../../src/engine/featurize/onnx/tokenizer';
import { AddedTokenSplitter, parseAddedTokens } from '../../src/engine/featurize/onnx/tokenizer/addedTokens';
import { decodeUtf8, WordDecoder } from '../../src/engine/featurize/onnx/tokenizer/byteLevel';
import { isSpaceCode } from '../../src/engine/featurize/onnx/tokenizer/chars';
import { pieceMarks } from '../../src/engine/featurize/onnx/tokenizer/config';
import { editDistanceAlign } from '../../src/engine/featurize/onnx/tokenizer/editDistance';
import {
  makeNormalize,
  Normalizer,
  perCharOnAscii,
} from '../../src/engine/featurize/onnx/tokenizer/normalize';
import { pieceRanges } from '../../src/engine/featurize/onnx/tokenizer/pieces';
import { cutAt, prefixTokenizable } from '../../src/engine/featurize/onnx/tokenizer/prefix';
import { rng } from './helpers';
import { byteLevelTokenizer, bytesToUnicode, llamaStyleTokenizer } from './tokenizerFixtures';

const BERT_DIR = path.resolve(__dirname, '../fixtures/tiny-bert');
type Json = Record<string, unknown>;

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Json;

/** Writes tokenizer files to a fresh temporary directory, loads them both ways, removes the directory. */
async function withTokenizer(
  files: { tokenizer: Json; config?: Json },
  fn: (t: OnnxTokenizer, lib: Tokenizer) => void | Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memtok-'));
  try {
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
    if (files.config) writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(files.config));
    const t = await loadTokenizer(dir);
    await fn(t, new Tokenizer(files.tokenizer, files.config ?? {}));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const slice = (text: string, r: [number, number] | null) => (r ? text.slice(r[0], r[1]) : null);

/** [token, text under its offsets] pairs (null for added specials). */
function pairs(text: string, e: Encoding): Array<[string, string | null]> {
  return e.tokens.map((t, i) => [t, slice(text, e.offsets[i])]);
}

/** Structural checks that hold for every encoding, and equality with the library's encode(). */
function checkEncoding(t: OnnxTokenizer, lib: Tokenizer, text: string, e: Encoding, maxLength: number): void {
  const n = e.ids.length;
  assert.equal(e.tokens.length, n);
  assert.equal(e.offsets.length, n);
  assert.equal(e.wordRanges.length, n);
  assert.ok(n <= maxLength);
  const want = lib.encode(text);
  if (e.truncatedAt === null) {
    assert.deepEqual(e.tokens, want.tokens, `tokens of ${JSON.stringify(text)}`);
    assert.deepEqual(e.ids, want.ids, `ids of ${JSON.stringify(text)}`);
  } else {
    assert.equal(n, maxLength);
    const k = n - t.numSuffixTokens;
    assert.deepEqual(e.tokens.slice(0, k), want.tokens.slice(0, k));
    assert.deepEqual(e.ids.slice(0, k), want.ids.slice(0, k));
    assert.deepEqual(e.tokens.slice(k), want.tokens.slice(want.tokens.length - t.numSuffixTokens));
  }
  let prevStart = 0;
  for (let i = 0; i < n; i++) {
    const o = e.offsets[i];
    const w = e.wordRanges[i];
    const special = i < t.numPrefixTokens || i >= n - t.numSuffixTokens;
    assert.equal(o === null, special, `offset of ${e.tokens[i]} (#${i})`);
    assert.equal(w === null, special);
    if (!o || !w) continue;
    assert.ok(0 <= o[0] && o[0] <= o[1] && o[1] <= text.length, `offset ${o} in bounds`);
    assert.ok(o[0] >= prevStart, `offsets in order at #${i}`);
    prevStart = o[0];
    // Never inside a surrogate pair.
    for (const p of o) {
      const c = text.charCodeAt(p);
      assert.ok(!(c >= 0xdc00 && c <= 0xdfff), `offset ${p} splits a surrogate pair`);
    }
    assert.ok(w[0] <= o[0] && o[1] <= w[1], `piece ${o} inside its word ${w}`);
  }
  if (e.truncatedAt !== null) {
    assert.ok(e.truncatedAt >= 0 && e.truncatedAt <= text.length);
    for (const o of e.offsets) if (o) assert.ok(o[0] <= e.truncatedAt, 'kept pieces start before the cut');
  }
}

// ------------------------------------------------------------------------------------------------------------
// WordPiece (the tiny-bert fixture: BertNormalizer lowercase + strip accents, BertPreTokenizer, [CLS] $A [SEP]).
// ------------------------------------------------------------------------------------------------------------

async function bert(): Promise<{ t: OnnxTokenizer; lib: Tokenizer }> {
  const lib = new Tokenizer(
    readJson(path.join(BERT_DIR, 'tokenizer.json')),
    readJson(path.join(BERT_DIR, 'tokenizer_config.json')),
  );
  return { t: await loadTokenizer(BERT_DIR), lib };
}

test('wordpiece: special ids, max length, vocabulary', async () => {
  const { t } = await bert();
  assert.equal(t.modelType, 'WordPiece');
  assert.deepEqual([t.padId, t.unkId, t.clsId, t.sepId, t.maskId], [0, 1, 2, 3, 4]);
  assert.equal(t.hasMaskToken, true);
  assert.equal(t.modelMaxLength, 64);
  assert.equal(t.numPrefixTokens, 1);
  assert.equal(t.numSuffixTokens, 1);
  assert.equal(t.vocabSize, readJson(path.join(BERT_DIR, 'config.json')).vocab_size);
  assert.equal(t.idToToken(4), '[MASK]');
  assert.equal(t.tokenToId('##ably'), t.encode('unbelievably').ids[3]);
});

test('wordpiece: offsets slice the original text (sub-words, accents, emoji, punctuation, CJK, spaces, [UNK])', async () => {
  const { t, lib } = await bert();
  /** Encodes, checks against the library, returns the [token, slice] pairs without [CLS]/[SEP]. */
  const enc = (text: string) => {
    const e = t.encode(text, 64);
    checkEncoding(t, lib, text, e, 64);
    assert.deepEqual([e.tokens[0], e.tokens[e.tokens.length - 1]], ['[CLS]', '[SEP]']);
    return { e, p: pairs(text, e).slice(1, -1) };
  };

  // Sub-words, and their shared word range.
  let text = 'Unbelievably good!';
  let { e, p } = enc(text);
  assert.deepEqual(p, [
    ['un', 'Un'],
    ['##believ', 'believ'],
    ['##ably', 'ably'],
    ['good', 'good'],
    ['!', '!'],
  ]);
  assert.deepEqual(
    e.wordRanges.map((r) => slice(text, r)),
    [null, 'Unbelievably', 'Unbelievably', 'Unbelievably', 'good', '!', null],
  );

  // Accents: precomposed (É, ñ, ï) and combining (e + U+0301, n + U+0303): the mark stays inside the piece.
  text = 'CAFÉ niño cafe\u0301 nin\u0303o naïve';
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['cafe', 'CAFÉ'],
    ['nino', 'niño'],
    ['cafe', 'cafe\u0301'],
    ['nino', 'nin\u0303o'],
    ['naive', 'naïve'],
  ]);
  // Sub-word pieces of an accented word: "e" + U+0301 + "x" -> e ##x.
  text = 'e\u0301x';
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['e', 'e\u0301'],
    ['##x', 'x'],
  ]);

  // Emoji (surrogate pairs, a ZWJ family, a skin tone, a flag) are [UNK] words covering all their code units.
  text = 'hi 🙂, 👨‍👩‍👧 x👍🏽 🇫🇷!';
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['hi', 'hi'],
    ['[UNK]', '🙂'],
    [',', ','],
    ['[UNK]', '👨‍👩‍👧'],
    ['[UNK]', 'x👍🏽'],
    ['[UNK]', '🇫🇷'],
    ['!', '!'],
  ]);

  // Punctuation: apostrophes, quotes, dashes, ellipsis, brackets are single-character words.
  text = `don't—"free"… (ok) a.b`;
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['do', 'do'],
    ['##n', 'n'],
    ["'", "'"],
    ['t', 't'],
    ['—', '—'],
    ['"', '"'],
    ['free', 'free'],
    ['"', '"'],
    ['…', '…'],
    ['(', '('],
    ['ok', 'ok'],
    [')', ')'],
    ['a', 'a'],
    ['.', '.'],
    ['b', 'b'],
  ]);
  assert.equal(slice(text, e.wordRanges[1]), 'don');

  // CJK: every ideograph is its own word (known ones, and [UNK]); kana are not ideographs.
  text = '中文テキスト日本語abc';
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['中', '中'],
    ['文', '文'],
    ['[UNK]', 'テキスト'],
    ['日', '日'],
    ['本', '本'],
    ['語', '語'],
    ['a', 'a'],
    ['##b', 'b'],
    ['##c', 'c'],
  ]);

  // Multiple spaces, tabs, newlines, CRLF, NUL and zero-width characters.
  text = '  the\t\tmovie\r\n\n  was \u0000 great\u200b  ';
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['the', 'the'],
    ['movie', 'movie'],
    ['was', 'was'],
    ['great', 'great'],
  ]);

  // Literal special-token strings in the text are those tokens (as in Hugging Face) and keep their offsets.
  text = 'a [MASK] b';
  ({ e, p } = enc(text));
  assert.deepEqual(p, [
    ['a', 'a'],
    ['[MASK]', '[MASK]'],
    ['b', 'b'],
  ]);

  // Empty and blank texts: only the specials.
  for (const s of ['', '   \n ']) assert.deepEqual(t.encode(s, 64).tokens, ['[CLS]', '[SEP]']);
});

test('wordpiece: context-dependent normalization (Greek final sigma) is aligned exactly', async () => {
  const tj = readJson(path.join(BERT_DIR, 'tokenizer.json'));
  const vocab = (tj.model as { vocab: Record<string, number> }).vocab;
  let next = Object.keys(vocab).length;
  for (const w of ['οδος', 'οδοσ', '##οδος', 'σ']) vocab[w] = next++;
  await withTokenizer({ tokenizer: tj }, (t, lib) => {
    // Lowercasing the whole text makes a word-final Σ "ς", but "σ" alone: per-character normalization differs
    // from the text's, and the alignment must still put every piece on its characters.
    const text = 'ΟΔΟΣ, Σ ΟΔΟΣΟΔΟΣ!';
    const e = t.encode(text, 64);
    checkEncoding(t, lib, text, e, 64);
    assert.deepEqual(pairs(text, e).slice(1, -1), [
      ['οδος', 'ΟΔΟΣ'],
      [',', ','],
      ['σ', 'Σ'],
      ['οδοσ', 'ΟΔΟΣ'],
      ['##οδος', 'ΟΔΟΣ'],
      ['!', '!'],
    ]);
    assert.equal(slice(text, e.wordRanges[4]), 'ΟΔΟΣΟΔΟΣ');
  });
});

test('wordpiece: truncation to maxLength, truncatedAt and the [MASK] baseline', async () => {
  const { t } = await bert();
  const text = 'the movie was unbelievably good, really';
  const full = t.encode(text, 64);
  assert.equal(full.truncatedAt, null);
  assert.equal(full.tokens.length, 11);
  for (const maxLength of [2, 3, 5, 6, 10]) {
    const e = t.encode(text, maxLength);
    assert.equal(e.ids.length, maxLength);
    assert.equal(e.tokens[0], '[CLS]');
    assert.equal(e.tokens[maxLength - 1], '[SEP]');
    assert.deepEqual(e.ids.slice(0, maxLength - 1), full.ids.slice(0, maxLength - 1));
    assert.deepEqual(e.offsets.slice(0, maxLength - 1), full.offsets.slice(0, maxLength - 1));
    // The cut is where the first dropped piece starts.
    assert.equal(e.truncatedAt, full.offsets[maxLength - 1]![0]);
  }
  // A cut inside a word: "unbelievably" -> un | ##believ ##ably dropped.
  const e6 = t.encode(text, 6);
  assert.deepEqual(e6.tokens, ['[CLS]', 'the', 'movie', 'was', 'un', '[SEP]']);
  assert.equal(text.slice(0, e6.truncatedAt!), 'the movie was un');
  assert.equal(t.encode(text, 11).truncatedAt, null); // exactly fits
  assert.equal(t.encode(text).ids.length, 11); // default: modelMaxLength
  assert.throws(() => t.encode(text, 1), RangeError);
  assert.equal(t.encode('', 2).truncatedAt, null);
  assert.equal(t.encode('  word', 2).truncatedAt, 2);

  // Baseline: same length, added specials kept, every text token (a literal [CLS] in the text too) -> [MASK].
  const b = t.encode('good [CLS] café', 64);
  assert.deepEqual(b.tokens, ['[CLS]', 'good', '[CLS]', 'cafe', '[SEP]']);
  assert.deepEqual(t.maskIds(b), [t.clsId, t.maskId, t.maskId, t.maskId, t.sepId]);
  assert.deepEqual(t.maskIds(t.encode('', 64)), [t.clsId, t.sepId]);
  assert.deepEqual(t.maskIds(e6), [2, 4, 4, 4, 4, 3]);
});

test('wordpiece: random texts match the library, and each piece is the normalization of its slice', async () => {
  const { t, lib } = await bert();
  const alphabet = [
    ...'abcdefghij klmnop qrstuvwxyz  ABCXYZ 0123 ',
    ...',.!?\'"-()',
    ...['é', 'É', 'e\u0301', 'ñ', 'ü', 'ß', 'Σ', 'σ', 'ﬁ', 'İ', '中', '文', '語', 'テ', '🙂', '👍🏽'],
    ...['\u200d', '\u200b', '\u0000', '\ufffd', '\n', '\t', '\r\n', '\u00a0', '\u3000'],
    ...['[MASK]', '[UNK]', 'the', 'un', 'believ', 'ably', 'movie'],
  ];
  const norm = lib.normalizer!;
  const r = rng(11);
  for (let k = 0; k < 400; k++) {
    const len = Math.floor(r() * 30);
    let text = '';
    for (let i = 0; i < len; i++) text += alphabet[Math.floor(r() * alphabet.length)];
    const maxLength = k % 3 === 0 ? 8 : 64;
    const e = t.encode(text, maxLength);
    checkEncoding(t, lib, text, e, maxLength);
    for (let i = 1; i < e.ids.length - 1; i++) {
      const tok = e.tokens[i];
      const s = slice(text, e.offsets[i])!;
      const where = `piece #${i} ${tok} of ${JSON.stringify(text)}`;
      if (tok === '[UNK]') assert.ok(s.trim().length > 0, where);
      else if (tok === '[MASK]') assert.equal(s, tok, where);
      else assert.equal(norm(s).replace(/\s/g, ''), tok.replace(/^##/, ''), where);
    }
  }
});

// ------------------------------------------------------------------------------------------------------------
// BPE: a hand-written byte-level (GPT-2 / RoBERTa style) tokenizer, and a Llama-2 style one with byte fallback.
// ------------------------------------------------------------------------------------------------------------

test('bpe (byte-level, RoBERTa style): tokens, ids, offsets, word ranges, baseline', async () => {
  await withTokenizer({ tokenizer: byteLevelTokenizer(), config: { model_max_length: 512 } }, (t, lib) => {
    assert.equal(t.modelType, 'BPE');
    assert.equal(t.modelMaxLength, 512);
    assert.deepEqual([t.clsId, t.padId, t.sepId, t.unkId], [0, 1, 2, 3]);
    assert.equal(t.maskId, t.tokenToId('<mask>'));
    assert.equal(t.hasMaskToken, true);

    const text = 'Hello world, the café! 🙂 unbelievably   spaced\nnew line <mask> end';
    const e = t.encode(text, 512);
    checkEncoding(t, lib, text, e, 512);
    const rows = e.tokens.map((tok, i) => [tok, slice(text, e.offsets[i]), slice(text, e.wordRanges[i])]);
    assert.deepEqual(rows, [
      ['<s>', null, null],
      ['Hello', 'Hello', 'Hello'],
      ['Ġworld', 'world', 'world'],
      [',', ',', ','],
      ['Ġthe', 'the', 'the'],
      ['ĠcafÃ©', 'café', 'café'],
      ['!', '!', '!'],
      ['Ġ', ' ', ' '],
      // 🙂 (F0 9F 99 82) in three pieces: each covers the whole character.
      ['ðŁ', '🙂', '🙂'],
      ['Ļ', '🙂', '🙂'],
      ['Ĥ', '🙂', '🙂'],
      ['Ġunbeliev', 'unbeliev', 'unbelievably'],
      ['ably', 'ably', 'unbelievably'],
      ['ĠĠ', '  ', '  '],
      ['Ġ', ' ', ' '],
      ['s', 's', 'spaced'],
      ['p', 'p', 'spaced'],
      ['a', 'a', 'spaced'],
      ['c', 'c', 'spaced'],
      ['e', 'e', 'spaced'],
      ['d', 'd', 'spaced'],
      ['Ċ', '\n', '\n'],
      ['n', 'n', 'new'],
      ['e', 'e', 'new'],
      ['w', 'w', 'new'],
      // The space before <mask> is eaten by its lstrip, as in the library.
      ['Ġ', ' ', ' '],
      ['li', 'li', 'line'],
      ['n', 'n', 'line'],
      ['e', 'e', 'line'],
      ['<mask>', '<mask>', '<mask>'],
      ['Ġ', ' ', ' '],
      ['e', 'e', 'end'],
      ['n', 'n', 'end'],
      ['d', 'd', 'end'],
      ['</s>', null, null],
    ]);
    const m = t.maskIds(e);
    assert.equal(m.length, e.ids.length);
    assert.deepEqual([m[0], m[m.length - 1]], [0, 2]);
    assert.ok(m.slice(1, -1).every((id) => id === t.maskId));
    const cut = t.encode(text, 10);
    assert.equal(cut.ids.length, 10);
    assert.deepEqual(cut.tokens.slice(-3), ['Ġ', 'ðŁ', '</s>']);
    // The cut falls inside 🙂 (its last two bytes dropped): truncatedAt is where that character starts.
    assert.equal(cut.truncatedAt, text.indexOf('🙂'));
  });
});

test('bpe (byte-level): added prefix space, and random texts', async () => {
  await withTokenizer({ tokenizer: byteLevelTokenizer(true) }, (t, lib) => {
    const text = 'hello world';
    const e = t.encode(text, 64);
    checkEncoding(t, lib, text, e, 64);
    // The pre-tokenizer's prefix space is not in the text: a zero-width piece at the start of "hello".
    assert.deepEqual(e.tokens, ['<s>', 'Ġ', 'hello', 'Ġworld', '</s>']);
    assert.deepEqual(e.offsets, [null, [0, 0], [0, 5], [6, 11], null]);
    assert.deepEqual(e.wordRanges, [null, [0, 5], [0, 5], [6, 11], null]);
  });
  await withTokenizer({ tokenizer: byteLevelTokenizer() }, (t, lib) => {
    const alphabet = [
      ..."abcdefghlorwy HW  .,!?'",
      ...['é', 'e\u0301', 'ß', '中', '🙂', '👍🏽', '\n', '\t', '\r\n', '<mask>', ' <mask>', 'the', 'world'],
    ];
    const byteOf = new Map(bytesToUnicode().map((c, b) => [c, b]));
    const r = rng(5);
    for (let k = 0; k < 400; k++) {
      const len = Math.floor(r() * 25);
      let text = '';
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(r() * alphabet.length)];
      const maxLength = k % 4 === 0 ? 6 : 128;
      const e = t.encode(text, maxLength);
      checkEncoding(t, lib, text, e, maxLength);
      for (let i = 1; i < e.ids.length - 1; i++) {
        const tok = e.tokens[i];
        const s = slice(text, e.offsets[i])!;
        if (tok === '<mask>') {
          assert.equal(s, '<mask>');
          continue;
        }
        // The piece's bytes are those of its slice, give or take the trimmed spaces and, for a piece holding
        // part of a character, the rest of that character's bytes.
        const pieceBytes = Buffer.from([...tok].map((c) => byteOf.get(c)!));
        const sliceBytes = Buffer.from(s, 'utf8');
        const where = `piece #${i} ${JSON.stringify(tok)} -> ${JSON.stringify(s)} in ${JSON.stringify(text)}`;
        const pieceText = pieceBytes.toString('utf8');
        if (!pieceText.includes('\ufffd')) assert.equal(pieceText.trim() || pieceText, s, where);
        else assert.ok(sliceBytes.includes(pieceBytes) && s.length <= 2, where);
      }
    }
  });
});

test('bpe (Llama style): Prepend/Replace normalizer, no pre-tokenizer, byte fallback, no suffix special', async () => {
  await withTokenizer({ tokenizer: llamaStyleTokenizer(), config: { model_max_length: 4096 } }, (t, lib) => {
    assert.equal(t.modelMaxLength, 4096);
    assert.equal(t.numPrefixTokens, 1);
    assert.equal(t.numSuffixTokens, 0);
    assert.deepEqual([t.clsId, t.unkId], [1, 0]);
    assert.equal(t.hasMaskToken, false);
    assert.equal(t.maskId, t.unkId);
    const text = 'hello  world 🙂 été';
    const e = t.encode(text, 64);
    checkEncoding(t, lib, text, e, 64);
    const rows = e.tokens.map((tok, i) => [tok, slice(text, e.offsets[i]), slice(text, e.wordRanges[i])]);
    assert.deepEqual(rows, [
      ['<s>', null, null],
      ['▁hello', 'hello', 'hello'],
      ['▁', ' ', ' '],
      ['▁world', 'world', 'world'],
      ['▁', ' ', ' '],
      // Not in the vocabulary: the emoji falls back to its 4 UTF-8 bytes, each covering the whole emoji.
      ['<0xF0>', '🙂', '🙂'],
      ['<0x9F>', '🙂', '🙂'],
      ['<0x99>', '🙂', '🙂'],
      ['<0x82>', '🙂', '🙂'],
      ['▁', ' ', ' '],
      ['ét', 'ét', 'été'],
      ['é', 'é', 'été'],
    ]);
    assert.deepEqual(t.maskIds(e), [1, ...new Array(e.ids.length - 1).fill(t.maskId)]);
  });
});

// ------------------------------------------------------------------------------------------------------------
// The tokenizer's parts (src/engine/featurize/onnx/tokenizer/*), and tokenizing truncated texts by prefix.
// ------------------------------------------------------------------------------------------------------------

test('chars: isSpaceCode is exactly /\\s/ on every UTF-16 code unit', () => {
  const diff: number[] = [];
  for (let c = 0; c < 0x10000; c++) if (isSpaceCode(c) !== /\s/u.test(String.fromCharCode(c))) diff.push(c);
  assert.deepEqual(diff, []);
});

test('addedTokens: the longest literal at the leftmost position; lstrip / rstrip eat the whitespace beside it', () => {
  const specs = parseAddedTokens([
    { id: 1, content: '[M]', special: true },
    { id: 2, content: '[MASK]', special: true, lstrip: true },
    { id: 3, content: '<x>', special: false, rstrip: true },
  ]);
  assert.deepEqual(
    specs.map((s) => [s.content, s.normalized, s.lstrip, s.rstrip]),
    [
      ['[M]', false, false, false],
      ['[MASK]', false, true, false],
      ['<x>', true, false, true],
    ],
  );
  const by = new Map(specs.map((s) => [s.content, s]));
  const sp = new AddedTokenSplitter(['[M]', '[MASK]', '<x>'], by);
  const s = 'a  [MASK]b[M] <x>  c.*';
  const parts = sp.split(s).map(([a, b, added]) => [s.slice(a, b), added]);
  assert.deepEqual(parts, [
    ['a', false], // lstrip of [MASK] ate the two spaces
    ['[MASK]', true],
    ['b', false],
    ['[M]', true],
    [' ', false],
    ['<x>', true],
    ['c.*', false], // rstrip of <x> ate the spaces; regex characters in the text are plain text
  ]);
  assert.equal(sp.spansWhitespace, false);
  assert.equal(new AddedTokenSplitter(['a b'], by).spansWhitespace, true);
  assert.deepEqual(new AddedTokenSplitter([], by).split('abc'), [[0, 3, false]]);
  assert.deepEqual(new AddedTokenSplitter([], by).split(''), []);
});

test('normalize: per-unit origins, the edit-distance fallback (final sigma), and the identity', () => {
  const lib = new Tokenizer(readJson(path.join(BERT_DIR, 'tokenizer.json')), {});
  const norm = new Normalizer(makeNormalize({}, (s) => lib.normalizer!(s)));
  const origin = (src: string) => {
    const al = norm.align(src);
    assert.equal(al.text, lib.normalizer!(src));
    return [...al.text].map((ch, k) => [ch, src.slice(al.start[k], al.end[k])]);
  };
  // Combining marks stay with their base: "e" + U+0301 normalizes to "e", which comes from both units.
  assert.deepEqual(origin('Ée\u0301中'), [
    ['e', 'É'],
    ['e', 'e\u0301'],
    [' ', '中'],
    ['中', '中'],
    [' ', '中'],
  ]);
  // Lowercasing the whole text makes a word-final Σ "ς", the unit alone "σ": aligned by edit distance.
  assert.deepEqual(origin('ΟΣ Σ'), [
    ['ο', 'Ο'],
    ['ς', 'Σ'],
    [' ', ' '],
    ['σ', 'Σ'],
  ]);
  // Control characters are removed: nothing points at them.
  assert.deepEqual(origin('a\u0000b'), [
    ['a', 'a'],
    ['b', 'b'],
  ]);
  const id = new Normalizer(null).align('x🙂');
  assert.deepEqual([id.text, Array.from(id.start), Array.from(id.end)], ['x🙂', [0, 1, 2], [1, 2, 3]]);
  // Edit distance on its own: an inserted character is a point where the next source character starts.
  const out = { text: 'abXc', start: new Int32Array(4), end: new Int32Array(4) };
  editDistanceAlign('abc', Int32Array.from([0, 1, 2]), Int32Array.from([1, 2, 3]), out);
  assert.deepEqual(
    [Array.from(out.start), Array.from(out.end)],
    [
      [0, 1, 2, 2],
      [1, 2, 2, 3],
    ],
  );
});

test('byteLevel: UTF-8 decoding with per-byte ranges; byte-level and Metaspace words back to text', () => {
  const d = decodeUtf8([0x61, 0xc3, 0xa9, 0xf0, 0x9f, 0x99, 0x82, 0xff, 0xc3]);
  assert.equal(d.text, 'aé🙂\ufffd\ufffd');
  assert.deepEqual(Array.from(d.start), [0, 1, 1, 2, 2, 2, 2, 4, 5]);
  assert.deepEqual(Array.from(d.end), [1, 2, 2, 4, 4, 4, 4, 5, 6]);
  const table = bytesToUnicode();
  const word = [...Buffer.from(' café', 'utf8')].map((b) => table[b]).join('');
  assert.equal(word, 'ĠcafÃ©');
  const bl = new WordDecoder(true, null).decode(word);
  assert.equal(bl.text, ' café');
  assert.deepEqual(Array.from(bl.start!), [0, 1, 2, 3, 4, 4]);
  // A word with a character outside the byte table is left as it is.
  assert.deepEqual(new WordDecoder(true, null).decode('中'), { text: '中', start: null, end: null });
  assert.deepEqual(new WordDecoder(false, '▁').decode('▁hi▁x'), { text: ' hi x', start: null, end: null });
  assert.deepEqual(new WordDecoder(false, '<sp>').decode('<sp>hi'), {
    text: '<sp>hi',
    start: null,
    end: null,
  });
});

test('pieces: continuation marks, unknown gaps, byte fallback runs', () => {
  const wp = pieceMarks({ continuing_subword_prefix: '##' }, 'WordPiece', '[UNK]');
  assert.deepEqual(pieceRanges('unbelievably', ['un', '##believ', '##ably'], wp), [
    [0, 2],
    [2, 8],
    [8, 12],
  ]);
  assert.deepEqual(pieceRanges('x👍🏽', ['[UNK]'], wp), [[0, 5]]);
  // Unknown pieces share the gap before the next matched piece: one code point each, the last takes the rest.
  assert.deepEqual(pieceRanges('🙂🙂ab', ['[UNK]', '[UNK]', '##ab'], wp), [
    [0, 2],
    [2, 4],
    [4, 6],
  ]);
  const bpe = pieceMarks({ end_of_word_suffix: '</w>' }, 'BPE', '<unk>');
  assert.deepEqual(pieceRanges('lower', ['low', 'er</w>'], bpe), [
    [0, 3],
    [3, 5],
  ]);
  const fallback = pieceMarks({}, 'BPE', '<unk>');
  assert.deepEqual(pieceRanges('▁🙂é', ['▁', '<0xF0>', '<0x9F>', '<0x99>', '<0x82>', 'é'], fallback), [
    [0, 1],
    [1, 3],
    [1, 3],
    [1, 3],
    [1, 3],
    [3, 4],
  ]);
});

test('prefix: which pipelines may be tokenized by prefix, and where a text is cut', () => {
  const bertJson = readJson(path.join(BERT_DIR, 'tokenizer.json'));
  assert.equal(prefixTokenizable(bertJson, false), true);
  assert.equal(prefixTokenizable(bertJson, true), false, 'an added token holding whitespace');
  assert.equal(prefixTokenizable(byteLevelTokenizer(), false), true);
  assert.equal(prefixTokenizable(llamaStyleTokenizer(), false), false, 'no pre-tokenizer: one word per text');
  const withPre = (pre_tokenizer: unknown, normalizer: unknown = null) => ({
    ...bertJson,
    pre_tokenizer,
    normalizer,
  });
  assert.equal(prefixTokenizable(withPre({ type: 'Metaspace', replacement: '▁' }), false), false);
  assert.equal(prefixTokenizable(withPre({ type: 'Split', pattern: { Regex: '\\s+' } }), false), false);
  assert.equal(prefixTokenizable(withPre({ type: 'ByteLevel', use_regex: false }), false), false);
  const seq = (...pretokenizers: unknown[]) => withPre({ type: 'Sequence', pretokenizers });
  assert.equal(prefixTokenizable(seq({ type: 'WhitespaceSplit' }, { type: 'Metaspace' }), false), true);
  assert.equal(prefixTokenizable(seq({ type: 'Digits' }, { type: 'Whitespace' }), false), true);
  assert.equal(prefixTokenizable(seq({ type: 'Metaspace' }, { type: 'WhitespaceSplit' }), false), false);
  const ws = { type: 'Whitespace' };
  const replace = (pattern: unknown, content: string) => withPre(ws, { type: 'Replace', pattern, content });
  assert.equal(prefixTokenizable(replace({ String: '``' }, '"'), false), true);
  assert.equal(prefixTokenizable(replace({ String: ' ' }, '▁'), false), false, 'replacing spaces');
  assert.equal(prefixTokenizable(replace({ Regex: 'a+' }, 'a'), false), false, 'a regex');
  const nfc = { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] };
  assert.equal(prefixTokenizable(withPre(ws, nfc), false), true);
  assert.equal(prefixTokenizable({ ...withPre(ws), model: { type: 'BPE', fuse_unk: true } }, false), false);

  // Cuts: at an ASCII space / tab / line break after a non-space.
  assert.equal(cutAt('abc def', 0), 3);
  assert.equal(cutAt('abc  def', 4), 8, 'a second space follows a space: no cut there');
  assert.equal(cutAt('ab\u00a0cd\tef', 0), 5, 'a no-break space is not a cut');
  assert.equal(cutAt('ab\u000bcd ef', 0), 5, 'nor a vertical tab (BERT removes it)');
  assert.equal(cutAt('abcdef', 0), 6);
});

/** Long random texts: the prefix path's encodings equal the whole-text path's, for many maximum lengths. */
async function checkPrefixEqualsWhole(
  files: { tokenizer: Json; config?: Json },
  alphabet: string[],
  seed: number,
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'memtok-prefix-'));
  try {
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
    if (files.config) writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(files.config));
    const byPrefix = await loadTokenizer(dir);
    const whole = await loadTokenizer(dir, { prefix: false });
    assert.equal(byPrefix.tokenizesByPrefix, true);
    assert.equal(whole.tokenizesByPrefix, false);
    const lib = new Tokenizer(files.tokenizer, files.config ?? {});
    const r = rng(seed);
    let truncated = 0;
    for (let k = 0; k < 150; k++) {
      const len = 100 + Math.floor(r() * 900);
      let text = '';
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(r() * alphabet.length)];
      for (const maxLength of [3, 4 + Math.floor(r() * 12), 16 + Math.floor(r() * 100)]) {
        const a = byPrefix.encode(text, maxLength);
        const b = whole.encode(text, maxLength);
        assert.deepEqual(a, b, `maxLength ${maxLength}, text ${JSON.stringify(text)}`);
        checkEncoding(byPrefix, lib, text, a, maxLength);
        if (a.truncatedAt !== null) truncated++;
      }
    }
    assert.ok(truncated > 300, `${truncated} truncated encodings`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('prefix: truncated texts tokenized by prefix equal the whole-text tokenization (wordpiece, byte-level)', async () => {
  const nasty = [
    ...['é', 'É', 'e\u0301', '\u0301', 'ñ', 'ß', 'Σ', 'ΟΔΟΣ', 'σ', 'ﬁ', 'İ', '中', '文', 'テ', '🙂', '👍🏽'],
    ...['\u200d', '\u200b', '\u0000', '\u000b', '\u000c', '\u0085', '\ufeff', '\ufffd', '\u00a0', '\u3000'],
    ...[' ', ' ', ' ', '  ', '\n', '\t', '\r\n', ',', '.', '!', "'", '"', '-', '(', ')'],
  ];
  const words = [
    'the',
    'movie',
    'unbelievably',
    'good',
    'hello',
    'world',
    'café',
    'x'.repeat(120),
    'ab',
    'cd',
  ];
  await checkPrefixEqualsWhole(
    {
      tokenizer: readJson(path.join(BERT_DIR, 'tokenizer.json')),
      config: readJson(path.join(BERT_DIR, 'tokenizer_config.json')),
    },
    [...nasty, ...words, ...words, '[MASK]', '[UNK]'],
    21,
  );
  await checkPrefixEqualsWhole(
    { tokenizer: byteLevelTokenizer() },
    [...nasty, ...words, ...words, '<mask>', ' <mask>', ' <mask> '],
    22,
  );
});

test('normalize: ASCII texts (every ASCII character) align as the library normalizes them', async () => {
  const tj = readJson(path.join(BERT_DIR, 'tokenizer.json'));
  const lib = new Tokenizer(tj, {});
  assert.equal(perCharOnAscii(tj.normalizer, {}), true);
  assert.equal(perCharOnAscii({ type: 'Sequence', normalizers: [{ type: 'Strip' }] }, {}), false);
  assert.equal(perCharOnAscii({ type: 'Prepend', prepend: '▁' }, {}), false);
  assert.equal(perCharOnAscii(tj.normalizer, { remove_space: true }), false);
  const norm = new Normalizer(
    makeNormalize({}, (s) => lib.normalizer!(s)),
    true,
  );
  const { t } = await bert();
  const r = rng(3);
  for (let k = 0; k < 300; k++) {
    let text = '';
    const len = Math.floor(r() * 60);
    for (let i = 0; i < len; i++)
      text += String.fromCharCode(r() < 0.7 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 128));
    const al = norm.align(text);
    assert.equal(al.text, lib.normalizer!(text), JSON.stringify(text));
    for (let q = 0; q < al.text.length; q++) {
      const src = text.slice(al.start[q], al.end[q]);
      assert.equal(lib.normalizer!(src), al.text[q], `origin of #${q} in ${JSON.stringify(text)}`);
    }
    checkEncoding(t, lib, text, t.encode(text, 64), 64);
  }
});
