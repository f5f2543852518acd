/**
 * A kind of head (linear, MLP): how to make one for a data shape and how to train it to a stationary point of its
 * objective. The registry (heads.ts) maps `--model` / `memorization.model` names to kinds; adding a head is one file
 * with a HeadKind and one line there.
 */
import type { Curvature, Head, HeadData } from './head';

/** The head options of `--model`, `--l2`, `--hidden`, `--activation`, `--curvature`, `--damping`, `--seed`. */
export interface HeadOptions {
  l2: number;
  /** Hidden layer widths (MLP). */
  hidden?: number[];
  activation?: 'tanh' | 'gelu';
  curvature?: Curvature;
  /** Added to the curvature before inverting; undefined = the kind's default. */
  damping?: number;
  /** Seeds the initialization (heads with a non-convex objective). */
  seed?: number;
}

export interface TrainOptions {
  /** Stop when |grad R| falls below this (influence functions assume a stationary point). */
  tolerance?: number;
  maxIterations?: number;
  /** Warm start (same layout as head.theta). */
  init?: Float64Array;
  onIteration?: (iteration: number, value: number, gradNorm: number) => void;
  signal?: AbortSignal;
}

export interface TrainReport {
  /** e.g. 'newton-cg', 'l-bfgs'. */
  method: string;
  iterations: number;
  value: number;
  gradNorm: number;
  /** Said to the user (summary warnings, CLI stderr): not converged, does not fit its training set... */
  warnings: string[];
}

export interface HeadKind {
  readonly name: string;
  /** One line for `--help` and the settings description. */
  readonly summary: string;
  /**
   * R has one optimum (strictly convex): a warm start reaches the same head as a cold one, so retraining experiments
   * may warm-start from the full model. Otherwise each retraining starts from its seeded initialization.
   */
  readonly convex?: boolean;
  create(classes: number, dim: number, options: HeadOptions): Head;
  /** Trains head (in place: head.theta) on data. */
  train(head: Head, data: HeadData, options?: TrainOptions): TrainReport;
}
