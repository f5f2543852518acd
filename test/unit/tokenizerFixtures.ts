// Hand-written BPE tokenizer.json files for the tokenizer tests: a byte-level one (GPT-2 / RoBERTa style) and a
// Llama-2 style one (Prepend + Replace normalizer, byte fallback). Small vocabularies and merges, written out here.
type Json = Record<string, unknown>;

/** GPT-2's byte -> printable character table. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const out: string[] = new Array(256);
  bs.forEach((b, i) => (out[b] = String.fromCharCode(cs[i])));
  return out;
}

/** A special added token (not normalized; `lstrip`: it eats the whitespace before it). */
function added(id: number, content: string, lstrip = false): Json {
  return { id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true };
}

const BYTE_MERGES = [
  'Ġ t',
  'h e',
  'Ġt he',
  'Ġ w',
  'o r',
  'Ġw or',
  'l d',
  'Ġwor ld',
  'Ġ c',
  'a f',
  'Ġc af',
  'Ã ©', // é = C3 A9
  'Ġcaf Ã©',
  'l l',
  'he ll',
  'hell o',
  'H e',
  'He ll',
  'Hell o',
  'u n',
  'Ġ un',
  'b e',
  'Ġun be',
  'l i',
  'e v',
  'li ev',
  'Ġunbe liev',
  'a b',
  'ab ly',
  'l y',
  'ð Ł', // the first two bytes of 🙂 (F0 9F 99 82)
  'Ġ Ġ',
];

export function byteLevelTokenizer(addPrefixSpace = false): Json {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const ch of bytesToUnicode()) vocab[ch] = Object.keys(vocab).length;
  for (const m of BYTE_MERGES) {
    const t = m.split(' ').join('');
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  }
  const maskId = Object.keys(vocab).length;
  vocab['<mask>'] = maskId;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      added(0, '<s>'),
      added(1, '<pad>'),
      added(2, '</s>'),
      added(3, '<unk>'),
      added(maskId, '<mask>', true),
    ],
    normalizer: null,
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: addPrefixSpace,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: BYTE_MERGES,
    },
  };
}

/** A Llama-2 style tokenizer: Prepend + Replace normalizer, no pre-tokenizer, BPE with byte fallback and <unk>. */
export function llamaStyleTokenizer(): Json {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++)
    vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = Object.keys(vocab).length;
  const merges = [
    '▁ h',
    'e l',
    'el l',
    '▁h ell',
    '▁hell o',
    '▁ w',
    'o r',
    '▁w or',
    'l d',
    '▁wor ld',
    'é t',
    '▁ é',
  ];
  for (const ch of ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', 'é', 't', 'a', 'n'])
    vocab[ch] = Object.keys(vocab).length;
  for (const m of merges) {
    const tkn = m.split(' ').join('');
    if (!(tkn in vocab)) vocab[tkn] = Object.keys(vocab).length;
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
}
