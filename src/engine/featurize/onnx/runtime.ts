/**
 * onnxruntime-node, loaded lazily: it is a native module, kept external by the bundler. The platform-specific .vsix
 * (`npm run package`, scripts/package.mjs) ships its run-time files for one platform in dist/node_modules/, where the
 * bundles' plain `require('onnxruntime-node')` finds them; the CLI resolves the installed dependency. Only the ONNX
 * featurizer asks for it (the words and numeric featurizers never load it, so they work where it cannot be loaded),
 * and a clear error says what to do when it cannot be loaded.
 *
 * Execution providers: `cuda` is tried when the backend setting is `cuda` or `auto`; if creating the session with it
 * throws (no CUDA build of onnxruntime-node, no driver, ...), the session is created on the CPU and the reason is
 * returned as a message. onnxruntime-node does not fall back by itself.
 */
import type * as Ort from 'onnxruntime-node';
import { UsageError } from '../../types';

export type OrtModule = typeof Ort;
export type OrtSession = Ort.InferenceSession;
export type BackendChoice = 'auto' | 'cpu' | 'cuda';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'cpu', 'cuda'];

let cached: OrtModule | undefined;
let loadError: Error | undefined;

/** Where onnxruntime-node is looked for: MEMSCORE_ONNXRUNTIME (a folder holding it) first, then normal resolution. */
function candidates(): string[] {
  const extra = process.env.MEMSCORE_ONNXRUNTIME;
  return extra ? [extra, 'onnxruntime-node'] : ['onnxruntime-node'];
}

/** The onnxruntime-node module, or a UsageError that says how to get it. */
export function loadOnnxRuntime(): OrtModule {
  if (cached) return cached;
  if (loadError) throw loadError;
  const errors: string[] = [];
  for (const id of candidates()) {
    try {
      // A plain require, kept as such by esbuild (onnxruntime-node is external): resolved at run time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(id) as OrtModule;
      // Quiet native logging (a failed CUDA provider load prints a long error itself; we report it once, shorter).
      if (!process.env.MEMSCORE_ORT_LOG) cached.env.logLevel = 'fatal';
      return cached;
    } catch (err) {
      errors.push(`${id}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  loadError = new UsageError(
    `the ONNX featurizer needs the native package onnxruntime-node, which could not be loaded (${errors.join('; ')}). ` +
      `In VS Code, install the extension's package for this platform (${process.platform}-${process.arch}; ` +
      '`npm run package` builds one), which ships it. For the CLI, install it where memscore runs ' +
      '(ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node for the CPU build), or point MEMSCORE_ONNXRUNTIME ' +
      'at a folder holding it. The words and numeric featurizers work without it.',
  );
  throw loadError;
}

/** Whether onnxruntime-node can be loaded, without throwing; its version when it can. */
export function onnxRuntimeStatus(): { available: boolean; version?: string; error?: string } {
  try {
    const ort = loadOnnxRuntime();
    return { available: true, version: ort.env?.versions?.node ?? ort.env?.versions?.common };
  } catch (err) {
    return { available: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export interface SessionOptions {
  backend?: BackendChoice;
  /** Intra-op threads (0 or undefined: onnxruntime's default, one per physical core). */
  threads?: number;
}

export interface CreatedSession {
  session: OrtSession;
  /** The execution provider that runs the session. */
  provider: 'cpu' | 'cuda';
  /** Why a CUDA request ended on the CPU (or undefined). */
  fallback?: string;
}

/** Creates one inference session for a local model file, with the CUDA provider when asked and it works. */
export async function createSession(
  modelPath: string,
  options: SessionOptions = {},
): Promise<CreatedSession> {
  const ort = loadOnnxRuntime();
  const backend = options.backend ?? 'auto';
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    ...(options.threads && options.threads > 0 ? { intraOpNumThreads: options.threads } : {}),
  };
  let fallback: string | undefined;
  if (backend === 'cuda' || backend === 'auto') {
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        ...base,
        executionProviders: ['cuda', 'cpu'],
      });
      return { session, provider: 'cuda' };
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      fallback = `onnxruntime CUDA execution provider failed (${why}); running the encoder on the CPU`;
    }
  }
  const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  return { session, provider: 'cpu', fallback };
}
