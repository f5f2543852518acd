/**
 * Float64 matrix products on onnxruntime-node's CPU kernels, called synchronously.
 *
 * onnxruntime's CPU `Gemm` for double (MLAS) runs multi-threaded SIMD code: about 100-130 GFLOP/s on a 512^3
 * product on a 2-core machine, against 1.5-3 for the blocked JavaScript kernel (scripts/bench-linalg.mjs). The
 * public `InferenceSession.run` is async only because its JS wrapper defers the native call with setImmediate; the
 * native session's `run` itself is synchronous, so this module drives the native binding directly
 * (`onnxruntime-node/dist/binding.js`, the module the wrapper itself uses) and keeps the heads' loops synchronous.
 * A self-test on load compares one product with the JS kernel; any failure (package missing, binding moved in a
 * later release, wrong numbers) disables this path with a reason and the callers use the JS kernel.
 */
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { loadOnnxRuntime } from '../featurize/onnx/runtime';

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, Ort.Tensor>,
    fetches: Record<string, Ort.Tensor | null>,
    options: object,
  ): unknown;
}
interface NativeBindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

export interface OrtGemmStatus {
  available: boolean;
  /** Why the onnxruntime path is off (package missing, self-test failed, disabled by MEMSCORE_LINALG=js). */
  reason?: string;
}

let state:
  { ort: typeof Ort; binding: NativeBindingModule; sessions: Map<string, NativeSession> } | undefined;
let failure: string | undefined;
let threads = 0;
const spinning = process.env.MEMSCORE_ORT_SPIN === '1';

/** Intra-op threads of the onnxruntime sessions (0: onnxruntime's default, one per physical core). */
export function setOrtGemmThreads(n: number): void {
  if (n !== threads) {
    threads = n;
    state?.sessions.clear();
  }
}

// --- a minimal protobuf writer for one-node ONNX graphs (field numbers from onnx/onnx.proto) ---
function varint(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const pInt = (field: number, v: number) => [...key(field, 0), ...varint(v)];
const pBytes = (field: number, b: number[]) => [...key(field, 2), ...varint(b.length), ...b];
const pStr = (field: number, s: string) => pBytes(field, [...Buffer.from(s, 'utf8')]);
const DOUBLE = 11;
/** ValueInfoProto of a rank-2 double tensor with symbolic dims. */
function valueInfo(name: string, d0: string, d1: string): number[] {
  const dim = (s: string) => pBytes(1, pStr(2, s));
  const shape = pBytes(2, [...dim(d0), ...dim(d1)]);
  return [...pStr(1, name), ...pBytes(2, pBytes(1, [...pInt(1, DOUBLE), ...shape]))];
}
/** ModelProto of Y = op(A) op(B) as one double Gemm node (opset 17). */
export function gemmModel(transA: boolean, transB: boolean): Uint8Array {
  const attr = (name: string, v: number) => pBytes(5, [...pStr(1, name), ...pInt(3, v), ...pInt(20, 2)]);
  const node = [...pStr(1, 'A'), ...pStr(1, 'B'), ...pStr(2, 'Y'), ...pStr(3, 'gemm'), ...pStr(4, 'Gemm')];
  node.push(...attr('transA', transA ? 1 : 0), ...attr('transB', transB ? 1 : 0));
  const [a0, a1] = transA ? ['k', 'm'] : ['m', 'k'];
  const [b0, b1] = transB ? ['n', 'k'] : ['k', 'n'];
  const graph = [
    ...pBytes(1, node),
    ...pStr(2, 'gemm'),
    ...pBytes(11, valueInfo('A', a0, a1)),
    ...pBytes(11, valueInfo('B', b0, b1)),
    ...pBytes(12, valueInfo('Y', 'm', 'n')),
  ];
  const model = [...pInt(1, 8), ...pStr(2, 'memorization-inspector/linalg'), ...pBytes(7, graph)];
  model.push(...pBytes(8, [...pStr(1, ''), ...pInt(2, 17)]));
  return Uint8Array.from(model);
}

function loadBinding(): NativeBindingModule {
  const ort = loadOnnxRuntime();
  const extra = process.env.MEMSCORE_ONNXRUNTIME;
  const errors: string[] = [];
  for (const id of extra ? [extra, 'onnxruntime-node'] : ['onnxruntime-node']) {
    try {
      const file = path.join(path.dirname(require.resolve(id)), 'binding.js');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(file) as NativeBindingModule;
      if (typeof mod.initOrt !== 'function' || typeof mod.binding?.InferenceSession !== 'function')
        throw new Error(`${file} does not export the native InferenceSession`);
      mod.initOrt();
      state = { ort, binding: mod, sessions: new Map() };
      return mod;
    } catch (err) {
      errors.push(err instanceof Error ? err.message.split('\n')[0] : String(err));
    }
  }
  throw new Error(errors.join('; '));
}

function session(transA: boolean, transB: boolean): NativeSession {
  const s = state!;
  const id = `${+transA}${+transB}`;
  let sess = s.sessions.get(id);
  if (!sess) {
    sess = new s.binding.binding.InferenceSession();
    const bytes = gemmModel(transA, transB);
    // No spin-waiting of the intra-op threads between calls: the products come one after another from a JS loop,
    // and on a busy machine spinning threads take the cores the JS between them needs.
    const opts: Record<string, unknown> = {
      executionProviders: [{ name: 'cpu' }],
      graphOptimizationLevel: 'all',
      extra: { 'session.intra_op.allow_spinning': spinning ? '1' : '0' },
    };
    if (threads > 0) opts.intraOpNumThreads = threads;
    sess.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, opts);
    s.sessions.set(id, sess);
  }
  return sess;
}

/**
 * Y (m x n, contiguous, written in place) = op(A) op(B), with A and B contiguous row-major: A is m x k (k x m when
 * transA), B is k x n (n x k when transB). Throws when the onnxruntime path is unavailable; check ortGemmStatus().
 */
export function ortGemmInto(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  A: Float64Array,
  B: Float64Array,
  Y: Float64Array,
): void {
  const s = state!;
  const T = s.ort.Tensor;
  const feeds = {
    A: new T('float64', A, transA ? [k, m] : [m, k]),
    B: new T('float64', B, transB ? [n, k] : [k, n]),
  };
  session(transA, transB).run(feeds, { Y: new T('float64', Y, [m, n]) }, {});
}

/** Loads onnxruntime once and checks one product against a plain loop; the result is cached. */
export function ortGemmStatus(): OrtGemmStatus {
  if (state) return { available: true };
  if (failure) return { available: false, reason: failure };
  if (process.env.MEMSCORE_LINALG === 'js') {
    failure = 'MEMSCORE_LINALG=js';
    return { available: false, reason: failure };
  }
  try {
    loadBinding();
    // op(A) = A^T (3 x 4 from a 4 x 3 view at an offset), op(B) = B (4 x 2).
    const m = 3;
    const n = 2;
    const k = 4;
    const At = Float64Array.from({ length: k * m + 1 }, (_, i) => (i * 0.37) % 1.3).subarray(1);
    const B = Float64Array.from({ length: k * n }, (_, i) => 1 - i * 0.21);
    const Y = new Float64Array(m * n);
    ortGemmInto(true, false, m, n, k, At, B, Y);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let p = 0; p < k; p++) ref += At[p * m + i] * B[p * n + j];
        if (!(Math.abs(Y[i * n + j] - ref) <= 1e-12 * (1 + Math.abs(ref))))
          throw new Error(`self-test product differs (${Y[i * n + j]} vs ${ref})`);
      }
    return { available: true };
  } catch (err) {
    state = undefined;
    failure = `onnxruntime-node float64 Gemm unavailable: ${err instanceof Error ? err.message : String(err)}`;
    return { available: false, reason: failure };
  }
}
