/**
 * Shared setup of the evaluation experiments: the pipeline's prepared data (read and featurized once) plus the fit
 * options, so that every retraining on a subset trains the same head kind with the same settings as `memscore score`.
 */
import { type RowScores, scoreRows } from '../influence/scores';
import type { InfluenceSolver } from '../influence/solver';
import type { Head, HeadData } from '../model/head';
import { type FitOptions, fit, trainHead } from '../pipeline/fit';
import { type PipelineOptions, validateOptions } from '../pipeline/options';
import {
  type Control,
  type Prepared as PipelinePrepared,
  prepare as preparePipeline,
  prepareTest as pipelineTest,
  subset,
} from '../pipeline/prepare';
import { checkFitOptions } from '../pipeline/fit';
import { chooseL2 } from '../pipeline/l2auto';
import { permutation as seededPermutation } from '../random';

export { subset };

/** A featurized training set and how to fit it, reusable across retrainings. */
export interface Prepared extends PipelinePrepared {
  fit: FitOptions;
}

/** Reads and featurizes a training file once for the experiments (options checked before any reading). */
export async function prepare(
  file: string,
  opts: PipelineOptions = {},
  control: ExperimentControl = {},
): Promise<Prepared> {
  validateOptions(opts);
  checkFitOptions(opts);
  const prep = await preparePipeline(file, opts, control);
  let head = opts.head;
  // --l2 auto: chosen once on all rows; every retraining then uses it.
  if (head?.l2 === 'auto') head = { ...head, l2: (await chooseL2(prep, opts, control, head.seed ?? 0)).l2 };
  return { ...prep, fit: { head, solver: opts.solver } };
}

/** Reads and featurizes a test file with the training file's fields, featurizer and classes. */
export async function prepareTest(prep: Prepared, file: string, signal?: AbortSignal): Promise<HeadData> {
  return (await pipelineTest(prep, file, {}, { signal })).data;
}

/** All row indices except those in `removed`. */
export function complement(n: number, removed: Iterable<number>): Int32Array {
  const drop = new Uint8Array(n);
  for (const i of removed) drop[i] = 1;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!drop[i]) keep.push(i);
  return Int32Array.from(keep);
}

/** Trains the configured head on data (warm-started from init when given). */
export function fitHead(prep: Prepared, data: HeadData, init?: Float64Array, signal?: AbortSignal): Head {
  return trainHead(prep, { ...prep.fit, init }, { signal }, data).head;
}

export interface Scored {
  head: Head;
  solver: InfluenceSolver;
  scores: RowScores;
}

/** Trains the configured head and solver on data and scores every row of data. */
export async function fitAndScore(
  prep: Prepared,
  data: HeadData,
  init?: Float64Array,
  signal?: AbortSignal,
): Promise<Scored> {
  const fitted = fit(prep, { ...prep.fit, init }, { signal }, data);
  return {
    head: fitted.head,
    solver: fitted.solver,
    scores: await scoreRows(fitted.head, data, fitted.solver, { signal }),
  };
}
export { permutation, seededRandom } from '../random';

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (!n) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** Number of rows in a fraction of n, rounded, clamped to [0, n]. */
export function countOf(fraction: number, n: number): number {
  return Math.max(0, Math.min(n, Math.round(fraction * n)));
}

/** Progress and cancellation for the experiments (the worker passes both; the CLI passes progress only). */
export type ExperimentControl = Control;

/** Lets the event loop run between the synchronous retrainings of an experiment, then honours an abort. */
export { yieldToEventLoop as yieldNow } from '../pipeline/clock';

/**
 * Splits a prepared training set into a training part and a held-out test part (a seeded random `fraction` of the
 * rows), for the removal experiment when no test file is given.
 */
export function holdOut(prep: Prepared, fraction: number, seed = 0): { train: Prepared; test: HeadData } {
  const n = prep.data.n;
  const m = Math.min(n - 1, Math.max(1, countOf(fraction, n)));
  const perm = seededPermutation(n, seed);
  const held = Array.from(perm.subarray(0, m)).sort((a, b) => a - b);
  const kept = complement(n, held);
  const dim = prep.featurizer.dim;
  return {
    train: {
      ...prep,
      rows: Array.from(kept, (i) => prep.rows[i]),
      data: subset(prep.data, dim, kept),
      textGroups: prep.textGroups?.subset(kept),
    },
    test: subset(prep.data, dim, held),
  };
}
