// Generates test/fixtures/tiny-bert/: a tiny BERT-architecture encoder with random (seeded) weights, exported as an
// ONNX model the way Optimum exports a BertModel with output_hidden_states, plus its Hugging Face tokenizer files.
// Deterministic: every run writes byte-identical files (only integer arithmetic and Math.fround drive the weights).
//   node scripts/make-tiny-bert.mjs [--check]     (--check: regenerate in memory and fail if a file differs)
//   node scripts/make-tiny-bert.mjs --out DIR --config '{"hidden":256}'   (another shape, for the benchmark)
//
// Files:
//   model.onnx             opset 17, IR 8. Inputs (int64, [batch_size, sequence_length]): input_ids, attention_mask,
//                          token_type_ids. Outputs (float32, [batch_size, sequence_length, hidden]): last_hidden_state
//                          and hidden_states.0 ... hidden_states.L (Optimum's names: hidden_states.0 is the embedding
//                          output, hidden_states.k the output of layer k-1 (0-based), hidden_states.L = last_hidden_state).
//   weights.json + .bin    the same weights with Hugging Face BertModel state-dict names and PyTorch layouts (Linear
//                          weights are [out, in]; the ONNX graph holds their transposes), raw float32 little-endian,
//                          so an independent reference (test/unit/tinyBertReference.ts) can recompute the network.
//   tokenizer.json         WordPiece (BertNormalizer lowercase + strip accents, BertPreTokenizer, "##" continuation,
//                          TemplateProcessing [CLS] $A [SEP]); [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4.
//   config.json, tokenizer_config.json, special_tokens_map.json, vocab.txt
//
// The graph is BERT's: embeddings (word + position + token type, LayerNorm), then per layer multi-head self-attention
// with the additive attention mask ((1 - mask) * float32 lowest), residual + LayerNorm, GELU (erf form) FFN, residual
// + LayerNorm. LayerNorm is spelled out (ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, Mul, Add) as in
// exports at older opsets.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './mulberry32.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// --out DIR and --config JSON (a partial CONFIG) make other shapes elsewhere, for the benchmark.
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const outDir = arg('--out') ?? path.join(here, '..', 'test', 'fixtures', 'tiny-bert');
const check = process.argv.includes('--check');

const SEED = 20240917;
const CONFIG = {
  hidden: 32,
  layers: 2,
  heads: 2,
  intermediate: 64,
  maxPosition: 64,
  typeVocab: 2,
  eps: 1e-12,
  ...JSON.parse(arg('--config') ?? '{}'),
};

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary: special tokens, punctuation, digits, letters (so every lowercase ASCII word is tokenizable), common
// English words, common word-initial pieces and "##" suffixes, a few accented-word/CJK entries for tests.
// ---------------------------------------------------------------------------------------------------------------
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const PUNCT = [...`!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`];
const DIGITS = [...'0123456789'];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
const WORDS = `the of and to in is was for on that with as it by at from his her he she they we you i be this are
have has had not but or an which their one all were there been would will can if more when who so what about out up
no do said my your our them than into its some could other then time only new like also just over any very after
most first these may two people see now well way good great bad best better worse worst love loved hate movie film
films story plot acting actor actors actress music scene scenes character characters director show book books read
day days year years week night life man men woman women child children world home house place work make made get got
go going went come came take took give gave know knew think thought look looked want wanted use used find found tell
told ask asked feel felt try tried leave left call called need needed seem seemed help keep kept let begin began
money free offer click here email mail message list send sent receive price buy sale order save cheap win winner
prize cash credit card bank account business company service product products quality phone computer software
free online web site page link internet number please thank thanks hello hi dear sir madam yes okay ok fine nice
happy sad funny boring beautiful terrible awful amazing excellent wonderful perfect poor cheap fast slow easy hard
big small long short high low old young real true false right wrong sure open close cold hot warm water food coffee
tea car cars road city country government state school student students teacher class test data model models train
training learning language text word words token tokens memory cafe nino resume naive fiance uber again never always
every each many much few less least still even back down off why how where because while though although until
before between under without through during against among however another such same own both those does did done
being having make making very really quite rather too enough almost already`;
// Word-initial pieces (no ##) and continuation pieces (##): chosen so that e.g. "unbelievably" -> un ##believ ##ably.
const PREFIXES = `un re in dis over pre non mis anti inter sub super trans`;
const SUFFIXES = `s es ed d ing ly er ers est ness ment ments tion tions sion able ably ible ful less ous ive ity al ic
ism ist ists ize ized ise y ies ied n t ve ll re m believ eve ieve ion ent ant ence ance ary ory ure age ship hood
dom ward wise like`;
const EXTRA = ['中', '文', '日', '本', '語', '€', '£', '…', '–', '—', '“', '”', '‘', '’', '©'];

function buildVocab() {
  const vocab = [];
  const seen = new Set();
  const add = (t) => {
    if (!seen.has(t)) {
      seen.add(t);
      vocab.push(t);
    }
  };
  for (const t of SPECIALS) add(t);
  for (const t of PUNCT) add(t);
  for (const t of DIGITS) add(t);
  for (const t of DIGITS) add('##' + t);
  for (const t of LETTERS) add(t);
  for (const t of LETTERS) add('##' + t);
  for (const t of WORDS.split(/\s+/).filter(Boolean)) add(t);
  for (const t of PREFIXES.split(/\s+/).filter(Boolean)) add(t);
  for (const t of SUFFIXES.split(/\s+/).filter(Boolean)) add('##' + t);
  for (const t of EXTRA) add(t);
  return vocab;
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded weights (mulberry32; uniform with the wanted standard deviation; rounded to float32).
// ---------------------------------------------------------------------------------------------------------------
function makeWeights(V) {
  const { hidden: H, layers: L, intermediate: I, maxPosition: P, typeVocab: T } = CONFIG;
  const rand = mulberry32(SEED);
  const SQRT3 = 1.7320508075688772;
  /** Tensor of the given shape, entries uniform with mean `mean` and standard deviation `std`, as float32. */
  const tensor = (shape, std, mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + (2 * rand() - 1) * SQRT3 * std;
    return { shape, data };
  };
  const w = new Map();
  w.set('embeddings.word_embeddings.weight', tensor([V, H], 1));
  w.set('embeddings.position_embeddings.weight', tensor([P, H], 0.5));
  w.set('embeddings.token_type_embeddings.weight', tensor([T, H], 0.5));
  w.set('embeddings.LayerNorm.weight', tensor([H], 0.1, 1));
  w.set('embeddings.LayerNorm.bias', tensor([H], 0.1));
  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      w.set(`${p}attention.self.${n}.weight`, tensor([H, H], 1 / Math.sqrt(H)));
      w.set(`${p}attention.self.${n}.bias`, tensor([H], 0.1));
    }
    w.set(`${p}attention.output.dense.weight`, tensor([H, H], 1 / Math.sqrt(H)));
    w.set(`${p}attention.output.dense.bias`, tensor([H], 0.1));
    w.set(`${p}attention.output.LayerNorm.weight`, tensor([H], 0.1, 1));
    w.set(`${p}attention.output.LayerNorm.bias`, tensor([H], 0.1));
    w.set(`${p}intermediate.dense.weight`, tensor([I, H], 1 / Math.sqrt(H)));
    w.set(`${p}intermediate.dense.bias`, tensor([I], 0.1));
    w.set(`${p}output.dense.weight`, tensor([H, I], 1 / Math.sqrt(I)));
    w.set(`${p}output.dense.bias`, tensor([H], 0.1));
    w.set(`${p}output.LayerNorm.weight`, tensor([H], 0.1, 1));
    w.set(`${p}output.LayerNorm.bias`, tensor([H], 0.1));
  }
  return w;
}

function transpose2d({ shape: [r, c], data }) {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j];
  return { shape: [c, r], data: out };
}

// ---------------------------------------------------------------------------------------------------------------
// Minimal protobuf writer for the ONNX messages we need (field numbers from onnx/onnx.proto).
// ---------------------------------------------------------------------------------------------------------------
function varint(v) {
  let n = BigInt.asUintN(64, BigInt(v));
  const bytes = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n !== 0n) b |= 0x80;
    bytes.push(b);
  } while (n !== 0n);
  return Buffer.from(bytes);
}
const key = (field, wire) => varint((field << 3) | wire);
const pInt = (field, v) => Buffer.concat([key(field, 0), varint(v)]);
const pBytes = (field, buf) => Buffer.concat([key(field, 2), varint(buf.length), buf]);
const pStr = (field, s) => pBytes(field, Buffer.from(s, 'utf8'));
const pMsg = (field, parts) => pBytes(field, Buffer.concat(parts));
const pFloat = (field, f) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(f);
  return Buffer.concat([key(field, 5), b]);
};

const DT = { FLOAT: 1, INT64: 7 };
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 };

/** TensorProto: dims=1, data_type=2, name=8, raw_data=9. */
function tensorProto(name, dataType, dims, raw) {
  return [...dims.map((d) => pInt(1, d)), pInt(2, dataType), pStr(8, name), pBytes(9, raw)];
}
function floatRaw(data) {
  const b = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) b.writeFloatLE(data[i], i * 4);
  return b;
}
function int64Raw(values) {
  const b = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) b.writeBigInt64LE(BigInt(values[i]), i * 8);
  return b;
}
/** AttributeProto: name=1, f=2, i=3, ints=8, type=20. */
function attribute(name, value) {
  if (Array.isArray(value)) return [pStr(1, name), ...value.map((v) => pInt(8, v)), pInt(20, ATTR.INTS)];
  if (value.float !== undefined) return [pStr(1, name), pFloat(2, value.float), pInt(20, ATTR.FLOAT)];
  return [pStr(1, name), pInt(3, value), pInt(20, ATTR.INT)];
}
/** ValueInfoProto { name=1, type=2 { tensor_type=1 { elem_type=1, shape=2 { dim=1 { dim_value=1 | dim_param=2 }}}}}. */
function valueInfo(name, elemType, dims) {
  const shape = dims.map((d) => pMsg(1, [typeof d === 'string' ? pStr(2, d) : pInt(1, d)]));
  return [pStr(1, name), pMsg(2, [pMsg(1, [pInt(1, elemType), pMsg(2, shape)])])];
}

// ---------------------------------------------------------------------------------------------------------------
// The graph.
// ---------------------------------------------------------------------------------------------------------------
function buildGraph(weights) {
  const { hidden: H, layers: L, heads: NH, eps } = CONFIG;
  const DH = H / NH;
  const nodes = [];
  const inits = [];
  const ops = new Set();
  let counter = 0;
  const node = (op, inputs, attrs = {}, name) => {
    const id = counter++;
    const out = name ?? `/${op}_${id}_output_0`;
    ops.add(op);
    const parts = [
      ...inputs.map((i) => pStr(1, i)),
      pStr(2, out),
      pStr(3, `/${op}_${id}`),
      pStr(4, op),
      ...Object.entries(attrs).map(([k, v]) => pMsg(5, attribute(k, v))),
    ];
    nodes.push(pMsg(1, parts));
    return out;
  };
  const initFloat = (name, shape, data) => {
    inits.push(pMsg(5, tensorProto(name, DT.FLOAT, shape, floatRaw(data))));
    return name;
  };
  const initInt64 = (name, shape, values) => {
    inits.push(pMsg(5, tensorProto(name, DT.INT64, shape, int64Raw(values))));
    return name;
  };
  const weight = (n) => {
    const t = weights.get(n);
    return initFloat(n, t.shape, t.data);
  };
  /** Linear layer: x @ W^T + b, with W^T stored as an initializer (as torch.onnx does for nn.Linear). */
  const linear = (x, prefix) => {
    const t = transpose2d(weights.get(`${prefix}.weight`));
    const wt = initFloat(`onnx::MatMul_${prefix}.weight.T`, t.shape, t.data);
    return node('Add', [weight(`${prefix}.bias`), node('MatMul', [x, wt])]);
  };

  const cOne = initFloat('const_one_f', [], [1]);
  const cHalf = initFloat('const_half_f', [], [0.5]);
  const cTwo = initFloat('const_two_f', [], [2]);
  const cEps = initFloat('const_layer_norm_eps', [], [eps]);
  const cSqrt2 = initFloat('const_sqrt2', [], [Math.SQRT2]);
  const cSqrtDh = initFloat('const_sqrt_head_dim', [], [Math.sqrt(DH)]);
  const cMaskValue = initFloat('const_mask_value', [], [-3.4028234663852886e38]);
  const cZeroI = initInt64('const_zero_i64', [], [0]);
  const cOneI = initInt64('const_one_i64', [], [1]);
  const cMaskAxes = initInt64('const_unsqueeze_axes_1_2', [2], [1, 2]);
  const cSplitShape = initInt64('const_shape_heads', [4], [0, 0, NH, DH]);
  const cMergeShape = initInt64('const_shape_hidden', [3], [0, 0, H]);

  const layerNorm = (x, prefix, outName) => {
    const mean = node('ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const d = node('Sub', [x, mean]);
    const v = node('ReduceMean', [node('Pow', [d, cTwo])], { axes: [-1], keepdims: 1 });
    const den = node('Sqrt', [node('Add', [v, cEps])]);
    const y = node('Mul', [node('Div', [d, den]), weight(`${prefix}.weight`)]);
    return node('Add', [y, weight(`${prefix}.bias`)], {}, outName);
  };

  // Embeddings.
  const we = node('Gather', [weight('embeddings.word_embeddings.weight'), 'input_ids'], { axis: 0 });
  const seqLen = node('Gather', [node('Shape', ['input_ids']), cOneI], { axis: 0 });
  const posIds = node('Range', [cZeroI, seqLen, cOneI]);
  const pe = node('Gather', [weight('embeddings.position_embeddings.weight'), posIds], { axis: 0 });
  const te = node('Gather', [weight('embeddings.token_type_embeddings.weight'), 'token_type_ids'], {
    axis: 0,
  });
  let h = layerNorm(node('Add', [node('Add', [we, pe]), te]), 'embeddings.LayerNorm', 'hidden_states.0');

  // Extended attention mask [batch, 1, 1, seq]: 0 where attended, float32 lowest where masked.
  const maskF = node('Cast', ['attention_mask'], { to: DT.FLOAT });
  const maskU = node('Unsqueeze', [maskF, cMaskAxes]);
  const extMask = node('Mul', [node('Sub', [cOne, maskU]), cMaskValue]);

  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}`;
    const heads = (x, perm) => node('Transpose', [node('Reshape', [x, cSplitShape])], { perm });
    const q = heads(linear(h, `${p}.attention.self.query`), [0, 2, 1, 3]);
    const k = heads(linear(h, `${p}.attention.self.key`), [0, 2, 3, 1]);
    const v = heads(linear(h, `${p}.attention.self.value`), [0, 2, 1, 3]);
    const scores = node('Add', [node('Div', [node('MatMul', [q, k]), cSqrtDh]), extMask]);
    const probs = node('Softmax', [scores], { axis: -1 });
    const ctx = node('Reshape', [
      node('Transpose', [node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }),
      cMergeShape,
    ]);
    const attn = node('Add', [linear(ctx, `${p}.attention.output.dense`), h]);
    const a = layerNorm(attn, `${p}.attention.output.LayerNorm`);
    const inter = linear(a, `${p}.intermediate.dense`);
    // GELU, erf form: x * 0.5 * (1 + erf(x / sqrt 2)).
    const erf = node('Erf', [node('Div', [inter, cSqrt2])]);
    const gelu = node('Mul', [node('Mul', [inter, node('Add', [erf, cOne])]), cHalf]);
    const out = node('Add', [linear(gelu, `${p}.output.dense`), a]);
    h = layerNorm(out, `${p}.output.LayerNorm`, `hidden_states.${l + 1}`);
  }
  node('Identity', [h], {}, 'last_hidden_state');

  const dyn = ['batch_size', 'sequence_length'];
  const inputs = ['input_ids', 'attention_mask', 'token_type_ids'].map((n) =>
    pMsg(11, valueInfo(n, DT.INT64, dyn)),
  );
  const outNames = ['last_hidden_state', ...Array.from({ length: L + 1 }, (_, i) => `hidden_states.${i}`)];
  const outputs = outNames.map((n) => pMsg(12, valueInfo(n, DT.FLOAT, [...dyn, H])));
  // GraphProto: node=1, name=2, initializer=5, input=11, output=12.
  const graph = [...nodes, pStr(2, 'tiny_bert'), ...inits, ...inputs, ...outputs];
  return { graph, ops: [...ops].sort(), outNames };
}

function buildModel(weights) {
  const { graph, ops, outNames } = buildGraph(weights);
  // ModelProto: ir_version=1, producer_name=2, producer_version=3, doc_string=6, graph=7, opset_import=8.
  const model = Buffer.concat([
    pInt(1, 8),
    pStr(2, 'memorization-inspector/scripts/make-tiny-bert.mjs'),
    pStr(3, '1'),
    pStr(6, `Tiny random BERT test fixture (seed ${SEED}); not a trained model.`),
    pMsg(7, graph),
    pMsg(8, [pStr(1, ''), pInt(2, 17)]),
  ]);
  return { model, ops, outNames };
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer and config files.
// ---------------------------------------------------------------------------------------------------------------
function tokenizerJson(vocab) {
  const id = (t) => vocab.indexOf(t);
  const special = (t) => ({
    id: id(t),
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const st = (t) => ({ SpecialToken: { id: t, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: true,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [st('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, st('[SEP]')],
      pair: [
        st('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        st('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

function configJson(V) {
  return {
    _name_or_path: 'tiny-bert (test fixture)',
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: V,
    hidden_size: CONFIG.hidden,
    num_hidden_layers: CONFIG.layers,
    num_attention_heads: CONFIG.heads,
    intermediate_size: CONFIG.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: CONFIG.maxPosition,
    type_vocab_size: CONFIG.typeVocab,
    initializer_range: 0.02,
    layer_norm_eps: CONFIG.eps,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    use_cache: true,
  };
}

function main() {
  const vocab = buildVocab();
  const V = vocab.length;
  const weights = makeWeights(V);
  const { model, ops, outNames } = buildModel(weights);

  // weights.bin: tensors concatenated in manifest order, float32 little-endian.
  const manifest = [];
  const chunks = [];
  let offset = 0;
  for (const [name, t] of weights) {
    const raw = floatRaw(t.data);
    manifest.push({ name, shape: t.shape, offset, length: t.data.length });
    chunks.push(raw);
    offset += raw.length;
  }
  const weightsJson = {
    description:
      'Weights of model.onnx with Hugging Face BertModel state-dict names; PyTorch layouts (Linear weight = [out, in]). ' +
      'Data: weights.bin, float32 little-endian; offset in bytes, length in elements.',
    seed: SEED,
    config: { ...CONFIG, vocabSize: V, maskValue: -3.4028234663852886e38 },
    outputs: outNames,
    tensors: manifest,
  };

  const json = (o) => JSON.stringify(o, null, 2) + '\n';
  const files = {
    'model.onnx': model,
    'weights.bin': Buffer.concat(chunks),
    'weights.json': json(weightsJson),
    'tokenizer.json': json(tokenizerJson(vocab)),
    'config.json': json(configJson(V)),
    'tokenizer_config.json': json({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      strip_accents: null,
      tokenize_chinese_chars: true,
      model_max_length: CONFIG.maxPosition,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
      clean_up_tokenization_spaces: true,
    }),
    'special_tokens_map.json': json({
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
    }),
    'vocab.txt': vocab.join('\n') + '\n',
  };

  let differ = 0;
  if (!check) mkdirSync(outDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(outDir, name);
    const buf = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    if (check) {
      const same = existsSync(file) && Buffer.compare(readFileSync(file), buf) === 0;
      if (!same) {
        differ++;
        console.error(`differs: ${file}`);
      }
    } else writeFileSync(file, buf);
  }
  console.error(
    `tiny-bert: vocab ${V}, hidden ${CONFIG.hidden}, ${CONFIG.layers} layers, model.onnx ${model.length} bytes, ` +
      `ops ${ops.join(' ')}; outputs ${outNames.join(' ')}${check ? (differ ? `; ${differ} file(s) differ` : '; all files identical') : ''}`,
  );
  if (differ) process.exit(1);
}

main();
