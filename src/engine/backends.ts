/**
 * Which compute backend runs each stage, and what is available. The dense math (training the head, the exact
 * Hessian, scores, attributions) runs in JavaScript float64: it is exact and, for a linear head on pooled features,
 * small. @tensorflow/tfjs-node(-gpu) cannot be installed everywhere (its install downloads libtensorflow), so it is
 * never a dependency: when one of them happens to be resolvable at run time it is reported as available, and not used
 * (the engine has no tfjs code path; tfjs second-order gradients are not trustworthy, see the README).
 */
import { onnxRuntimeStatus } from './featurize/onnx/runtime';

export type BackendSetting = 'auto' | 'cpu' | 'cuda';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', 'cpu', 'cuda'];

/** The dense-math backend name used in summaries. */
export const DENSE_BACKEND = 'js-float64';

/** Per-stage backends of one run (summary.backends). */
export interface StageBackends {
  featurizing: string;
  training: string;
  hessian: string;
  scoring: string;
  attributing: string;
}

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
      ? `${tf.package} available, not used (the dense math runs in ${DENSE_BACKEND})`
      : `tfjs-node not installed (dense math: ${DENSE_BACKEND})`,
  };
  return availability;
}

/** Notes for a run: what the backend setting asked for that the dense math cannot do. */
export function denseBackendNotes(setting: BackendSetting | undefined): string[] {
  if (setting !== 'cuda') return [];
  const tf = tfjsNodeStatus();
  return [
    `backend cuda: the dense math (training, Hessian, scores, attributions) has no GPU path and ran in ${DENSE_BACKEND}${
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
