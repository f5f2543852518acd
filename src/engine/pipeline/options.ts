/**
 * The pipeline's options, one typed group per stage. They cross the worker boundary as they are (src/protocol), are
 * built from CLI flags and from VS Code settings in one place (src/engine/pipeline/optionSources.ts), and are
 * validated here, before any reading, each error naming its option.
 */
import { BACKEND_SETTINGS, type BackendSetting } from '../backends';
import { parseFeaturizerSpec } from '../featurize/registry';
import { type HeadName, HEAD_NAMES } from '../model/heads';
import type { Curvature } from '../model/head';
import { type SolverName, SOLVER_NAMES } from '../influence/solvers';
import { UsageError } from '../types';

export interface DataOptions {
  /** Text fields, in this order; inferred when absent. */
  text?: string[];
  label?: string;
  id?: string;
  /** The first bad row is fatal. */
  strict?: boolean;
}

export interface FeaturizerStageOptions {
  /** words | numeric | onnx:DIR | embeddings:FILE; undefined = numeric for an all-numeric CSV, else words. */
  featurizer?: string;
  /** Standardize the pooled features (column mean 0, std 1) in front of the head. Default true. */
  standardize?: boolean;
  onnxLayer?: string;
  onnxMaxLength?: number;
  onnxThreads?: number;
  backend?: BackendSetting;
  /** ONNX feature cache folder; false = no cache. */
  cacheDir?: string | false;
  /** embeddings:FILE: the file's id column (default `id`) and vector column (default: the only list column). */
  embeddingsId?: string;
  embeddingsVector?: string;
}

export interface HeadStageOptions {
  model?: HeadName;
  /** The L2 strength, or 'auto': chosen by cross-validated held-out log-likelihood (l2auto.ts). */
  l2?: number | 'auto';
  hidden?: number[];
  activation?: 'tanh' | 'gelu';
  curvature?: Curvature;
  damping?: number;
  seed?: number;
}

export interface SolverStageOptions {
  /** undefined = the default for the head (exact while affordable, else EK-FAC). */
  solver?: SolverName;
  seed?: number;
}

export interface AttributionOptions {
  /** How many of the top-ranked rows get token attributions. */
  top?: number;
  /** Also these row indices ("Explain this row"). */
  rows?: number[];
  steps?: number;
}

/** Why a row is memorized (src/engine/reasons) and memorization by group. */
export interface ReasonStageOptions {
  /** Reasons for every row (neighbours, text duplicates, the rules). Default true. */
  enabled?: boolean;
  /** A column whose values group the rows: a per-group table in the summary. */
  group?: string;
}

export interface PipelineOptions {
  data?: DataOptions;
  featurizer?: FeaturizerStageOptions;
  head?: HeadStageOptions;
  solver?: SolverStageOptions;
  attribution?: AttributionOptions;
  reasons?: ReasonStageOptions;
}

export const DEFAULT_L2 = 1e-3;
export const DEFAULT_ATTRIBUTE = 100;
export const DEFAULT_STEPS = 50;
export const ACTIVATIONS = ['tanh', 'gelu'] as const;
export const CURVATURES = ['hessian', 'gauss-newton'] as const;

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

/** Checks every option's type and range; throws a UsageError naming the first bad one. Nothing is read. */
export function validateOptions(o: PipelineOptions): void {
  const { data = {}, featurizer = {}, head = {}, solver = {}, attribution = {}, reasons = {} } = o;
  if (reasons.group !== undefined && (typeof reasons.group !== 'string' || !reasons.group))
    throw new UsageError('must be a field name', { option: 'group' });
  if (reasons.enabled !== undefined && typeof reasons.enabled !== 'boolean')
    throw new UsageError('must be true or false', { option: 'reasons' });
  const strings = (xs: unknown, option: 'text') => {
    if (xs !== undefined && (!Array.isArray(xs) || !xs.length || xs.some((x) => typeof x !== 'string' || !x)))
      throw new UsageError('must be a non-empty list of field names', { option });
  };
  strings(data.text, 'text');
  for (const k of ['label', 'id'] as const)
    if (data[k] !== undefined && (typeof data[k] !== 'string' || !data[k]))
      throw new UsageError('must be a field name', { option: k });
  if (featurizer.featurizer !== undefined) {
    if (typeof featurizer.featurizer !== 'string')
      throw new UsageError('must be a string', { option: 'featurizer' });
    parseFeaturizerSpec(featurizer.featurizer);
  }
  if (featurizer.backend !== undefined && !BACKEND_SETTINGS.includes(featurizer.backend))
    throw new UsageError(
      `must be one of ${BACKEND_SETTINGS.join('|')}, got '${String(featurizer.backend)}'`,
      {
        option: 'backend',
      },
    );
  if (featurizer.standardize !== undefined && typeof featurizer.standardize !== 'boolean')
    throw new UsageError('must be true or false', { option: 'standardize' });
  if (
    featurizer.onnxMaxLength !== undefined &&
    !(isInt(featurizer.onnxMaxLength) && featurizer.onnxMaxLength >= 3)
  )
    throw new UsageError(`must be an integer of at least 3, got ${String(featurizer.onnxMaxLength)}`, {
      option: 'onnxMaxLength',
    });
  if (featurizer.onnxThreads !== undefined && !(isInt(featurizer.onnxThreads) && featurizer.onnxThreads >= 0))
    throw new UsageError('must be 0 (default) or more', { option: 'onnxThreads' });
  if (head.model !== undefined && !HEAD_NAMES.includes(head.model))
    throw new UsageError(`must be one of ${HEAD_NAMES.join('|')}, got '${String(head.model)}'`, {
      option: 'model',
    });
  if (
    head.l2 !== undefined &&
    head.l2 !== 'auto' &&
    !(typeof head.l2 === 'number' && head.l2 > 0 && Number.isFinite(head.l2))
  )
    throw new UsageError(
      `must be a positive number or auto (the influence function needs a strictly convex objective), got ${String(head.l2)}`,
      { option: 'l2' },
    );
  if (typeof head.l2 === 'number' && head.l2 < 1e-12)
    throw new UsageError(
      `${head.l2} is too small to keep the curvature invertible in float64 (use 1e-12 or more)`,
      {
        option: 'l2',
      },
    );
  if (head.hidden !== undefined) {
    if (!Array.isArray(head.hidden) || !head.hidden.length || head.hidden.length > 2)
      throw new UsageError('takes the widths of one or two hidden layers, e.g. 64 or 64,32', {
        option: 'hidden',
      });
    if (head.hidden.some((w) => !(isInt(w) && w >= 1 && w <= 4096)))
      throw new UsageError(`widths must be integers from 1 to 4096, got ${head.hidden.join(',')}`, {
        option: 'hidden',
      });
    if ((head.model ?? 'linear') === 'linear')
      throw new UsageError('needs --model mlp (the linear head has no hidden layers)', { option: 'hidden' });
  }
  if (head.activation !== undefined && !ACTIVATIONS.includes(head.activation))
    throw new UsageError(`must be one of ${ACTIVATIONS.join('|')}, got '${String(head.activation)}'`, {
      option: 'activation',
    });
  if (head.curvature !== undefined && !CURVATURES.includes(head.curvature))
    throw new UsageError(`must be one of ${CURVATURES.join('|')}, got '${String(head.curvature)}'`, {
      option: 'curvature',
    });
  if (
    head.damping !== undefined &&
    !(typeof head.damping === 'number' && head.damping >= 0 && Number.isFinite(head.damping))
  )
    throw new UsageError(`must be a number of at least 0, got ${String(head.damping)}`, {
      option: 'damping',
    });
  for (const seed of [head.seed, solver.seed])
    if (seed !== undefined && !(isInt(seed) && seed >= 0))
      throw new UsageError(`must be an integer of at least 0, got ${String(seed)}`, { option: 'seed' });
  if (solver.solver !== undefined && !SOLVER_NAMES.includes(solver.solver))
    throw new UsageError(`must be one of ${SOLVER_NAMES.join('|')}, got '${String(solver.solver)}'`, {
      option: 'solver',
    });
  if (attribution.top !== undefined && !(isInt(attribution.top) && attribution.top >= 0))
    throw new UsageError(`must be an integer of at least 0, got ${String(attribution.top)}`, {
      option: 'attribute',
    });
  if (
    attribution.steps !== undefined &&
    !(isInt(attribution.steps) && attribution.steps >= 1 && attribution.steps <= 10000)
  )
    throw new UsageError(`must be an integer from 1 to 10000, got ${String(attribution.steps)}`, {
      option: 'steps',
    });
  if (
    attribution.rows !== undefined &&
    (!Array.isArray(attribution.rows) || attribution.rows.some((r) => !(isInt(r) && r >= 0)))
  )
    throw new UsageError('rows to attribute must be row indices (integers of at least 0)', {
      option: 'attribute',
    });
}
