/**
 * Which compute backend runs each stage, and what is available. The dense math (training the head, the exact
 * Hessian, scores, attributions) runs in float64, its matrix products on onnxruntime-node's CPU Gemm when that
 * loads (linalg/gemm.ts) and in a blocked JavaScript kernel otherwise: denseBackend() says which.
 * @tensorflow/tfjs-node(-gpu) cannot be installed everywhere (its install downloads libtensorflow), so it is
 * never a dependency: when one of them happens to be resolvable at run time it is reported as available, and not used
 * (the engine has no tfjs code path; tfjs second-order gradients are not trustworthy, see the README).
 */
import type { StageBackends } from '../protocol/results';
import { onnxRuntimeStatus } from './featurize/onnx/runtime';
import { linalgBackend } from './linalg/gemm';

export type BackendSetting = 'auto' | 'cpu' | 'cuda';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', 'cpu', 'cuda'];

/** The JavaScript dense-math backend's name in summaries (the fallback when onnxruntime cannot run the products). */
export const DENSE_BACKEND = 'js-float64';

/** The dense-math backend of this process, for summaries: 'onnxruntime-float64' or 'js-float64'. */
export function denseBackend(): string {
  return linalgBackend().engine === 'onnxruntime' ? 'onnxruntime-float64' : DENSE_BACKEND;
}

/** Per-stage backends of one run (summary.backends). */
export type { StageBackends };

export interface BackendAvailability {
  onnxruntime: string;
  tfjs: string;
}

/** Resolves (never loads) a package by name; undefined when it is not installed. */
function resolvable(id: string): string | undefined {
  try {
    return require.resolve(id);
  } catch {
    return undefined;
  }
}

/** @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node when resolvable at run time. */
export function tfjsNodeStatus(): { package?: string } {
  for (const id of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'])
    if (resolvable(id)) return { package: id };
  return {};
}

let availability: BackendAvailability | undefined;

/** What this process could use (onnxruntime-node loaded once to tell; tfjs only resolved). */
export function backendAvailability(): BackendAvailability {
  if (availability) return availability;
  const ort = onnxRuntimeStatus();
  const tf = tfjsNodeStatus();
  availability = {
    onnxruntime: ort.available
      ? `onnxruntime-node ${ort.version ?? ''} (cpu; cuda tried when the backend is auto or cuda)`.replace(
          '  ',
          ' ',
        )
      : 'onnxruntime-node not loadable (the onnx featurizer is unavailable)',
    tfjs: tf.package
      ? `${tf.package} available, not used (the dense math runs in ${denseBackend()})`
      : `tfjs-node not installed (dense math: ${denseBackend()})`,
  };
  return availability;
}

/** Notes for a run: what the backend setting asked for that the dense math cannot do. */
export function denseBackendNotes(setting: BackendSetting | undefined): string[] {
  if (setting !== 'cuda') return [];
  const tf = tfjsNodeStatus();
  return [
    `backend cuda: the dense math (training, Hessian, scores, attributions) has no GPU path and ran in ${denseBackend()}${
      tf.package ? ` (${tf.package} is installed but not used)` : ''
    }`,
  ];
}

/** "featurizing onnxruntime-node 1.30.0 cpu; training/hessian/scoring/attributing js-float64". */
export function describeBackends(b: StageBackends): string {
  const dense = [b.training, b.hessian, b.scoring, b.attributing];
  const same = dense.every((d) => d === dense[0]);
  return same
    ? `featurizing ${b.featurizing}; training/hessian/scoring/attributing ${dense[0]}`
    : Object.entries(b)
        .map(([k, v]) => `${k} ${v}`)
        .join('; ');
}
