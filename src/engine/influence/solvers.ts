/**
 * The solver registry: exact (dense Cholesky of the curvature), EK-FAC (Kronecker eigenbasis per layer with refitted
 * eigenvalues), LiSSA (the paper's stochastic baseline). Each declares the head capabilities it needs; a new solver is
 * one file with a SolverKind and one line in SOLVERS.
 */
import { type Head, type HeadData, missingCapabilities } from '../model/head';
import { UsageError } from '../types';
import { ekfacSolverKind } from './ekfac';
import { exactSolverKind } from './exact';
import { lissaSolverKind } from './lissa';
import type { InfluenceSolver, SolverKind, SolverOptions } from './solver';

export const SOLVERS = {
  exact: exactSolverKind,
  ekfac: ekfacSolverKind,
  lissa: lissaSolverKind,
} as const satisfies Record<string, SolverKind>;

export type SolverName = keyof typeof SOLVERS;
export const SOLVER_NAMES = Object.keys(SOLVERS) as SolverName[];

/**
 * Above this many parameters the default solver switches from the dense factorization to EK-FAC. The exact
 * solver holds one p x p matrix (8 p^2 bytes: 490 MB at the 784-column, 10-class head's 7,850) and factors it in
 * p^3 / 6 multiply-adds (about 10-20 s at 7,850 on two cores); at twice that p it needs 2 GB and 8 times the time.
 */
export const EXACT_PARAM_LIMIT = 8000;
/**
 * With the row count known, exact is the default only while building the dense curvature, about 5/8 n p^2
 * multiply-adds, stays affordable (5,000 x 7,850^2 = 3.1e11, 100,000 x 1,515^2 = 2.3e11: tens of seconds each).
 */
export const EXACT_WORK_LIMIT = 4e11;

/** exact while the dense curvature is affordable, else EK-FAC, else LiSSA: the first the head can serve. */
export function defaultSolver(head: Pick<Head, 'size' | 'capabilities'>, rows?: number): SolverName {
  const affordable =
    head.size <= EXACT_PARAM_LIMIT &&
    (rows === undefined || rows * head.size * head.size <= EXACT_WORK_LIMIT);
  if (affordable && !missingCapabilities(head, SOLVERS.exact.requires).length) return 'exact';
  if (!missingCapabilities(head, SOLVERS.ekfac.requires).length) return 'ekfac';
  return 'lissa';
}

// --- what a fit will cost, told (or refused) before any work ---

/** Multiply-adds per CPU second the estimates assume, in matrix products and in plain loops (measured on 2 cores). */
const PRODUCT_RATE = 1e10;
const LOOP_RATE = 4e8;
/** Curvature products a Newton-CG training takes, about (measured: 217 for 100k x 15 classes, 301 for 20k x 1,000). */
const TRAINING_PRODUCTS = 300;
/** A fit estimated above this is refused, not started: it would run for an hour or more. */
export const REFUSE_SECONDS = 3600;
/** A fit estimated above this gets a warning with the estimate before it starts. */
export const WARN_SECONDS = 120;

export interface FitEstimate {
  /** Rough seconds per stage, and their sum. */
  seconds: { training: number; factors: number; scoring: number; total: number };
  /** Largest arrays the solver and training hold at once, in bytes. */
  bytes: number;
}

/**
 * Order-of-magnitude cost of training a head (Newton-CG) on n rows, building `solver` and scoring every row, from the
 * layer shapes alone. Meant for "this will take an hour" decisions, not for progress bars.
 */
export function estimateFit(
  head: Pick<Head, 'layers' | 'size' | 'classes'>,
  n: number,
  solver: SolverName,
): FitEstimate {
  const P = head.size;
  const C = head.classes;
  const layerWork = head.layers.reduce((a, l) => a + l.out * l.in, 0);
  const training =
    (TRAINING_PRODUCTS * (2 * n * layerWork)) / PRODUCT_RATE + (TRAINING_PRODUCTS * 6 * n * C) / LOOP_RATE;
  let factors = 0;
  let scoring = 0;
  let bytes = 8 * 2 * n * C; // probabilities kept during training, and a copy
  if (solver === 'exact') {
    factors = ((5 / 8) * n * P * P + (P * P * P) / 6 + (n >= 2 * P ? (P * P * P) / 3 : 0)) / PRODUCT_RATE;
    scoring = (n * P * P) / 2 / PRODUCT_RATE;
    bytes += 8 * P * P + 8 * 1024 * P;
  } else if (solver === 'ekfac') {
    for (const { out: O, in: I } of head.layers) {
      // Eigendecompositions: 4/3 m^3 each, half of it matrix-vector loops; refit: 2 n O^2 + n O I + n I^2.
      factors += ((2 / 3) * (O ** 3 + I ** 3)) / LOOP_RATE + ((2 / 3) * (O ** 3 + I ** 3)) / PRODUCT_RATE;
      factors += (3 * n * O * O + n * O * I + 2 * n * I * I) / PRODUCT_RATE;
      scoring += (n * (O * O + I * I + O * I)) / PRODUCT_RATE;
      bytes += 8 * 5 * (O * O + I * I);
    }
  } else {
    // LiSSA: 1000 stochastic row products of O(p) each, per scored row.
    scoring = (n * 1000 * 4 * P) / LOOP_RATE;
  }
  return { seconds: { training, factors, scoring, total: training + factors + scoring }, bytes };
}

function minutes(s: number): string {
  return s < 90
    ? `${Math.round(s)} s`
    : s < 5400
      ? `${Math.round(s / 60)} min`
      : `${(s / 3600).toFixed(1)} h`;
}

/**
 * Before a fit: a refusal (thrown UsageError) when the estimate runs past REFUSE_SECONDS or memoryBytes, else a
 * warning with the estimate when it runs past WARN_SECONDS (returned, for the caller to say before starting).
 * Both name what to change; with many classes the cost grows with the classes squared (EK-FAC's class factor, its
 * eigendecomposition, each row's projection onto it), so grouping rare classes is the first suggestion.
 */
export function checkFitCost(
  head: Pick<Head, 'layers' | 'size' | 'classes' | 'dim'>,
  n: number,
  solver: SolverName,
  memoryBytes = 16 * 2 ** 30,
): string | undefined {
  const est = estimateFit(head, n, solver);
  const s = est.seconds;
  const what = `${n} rows, ${head.classes} classes, ${head.dim} features, ${head.size} parameters, solver ${solver}`;
  const parts = `training ~${minutes(s.training)}, ${solver} setup ~${minutes(s.factors)}, scoring ~${minutes(s.scoring)}`;
  const advice = [
    head.classes > 100 && n / head.classes < 20
      ? `only ${(n / head.classes).toFixed(1)} rows per class: group rare classes into one (e.g. keep the 100 most frequent labels and relabel the rest 'other')`
      : head.classes > 100
        ? 'group rare classes into one, or score a subset of the classes'
        : undefined,
    solver !== 'ekfac' && head.size > EXACT_PARAM_LIMIT ? '--solver ekfac' : undefined,
    'fewer features (a smaller embedding, fewer numeric columns)',
  ].filter(Boolean);
  if (s.total > REFUSE_SECONDS || est.bytes > memoryBytes)
    throw new UsageError(
      `refusing to fit ${what}: estimated ~${minutes(s.total)} of CPU time (${parts}) and ${(est.bytes / 2 ** 30).toFixed(1)} GB; ${advice.join('; or ')}`,
    );
  if (s.total > WARN_SECONDS)
    return `${what}: estimated ~${minutes(s.total)} of CPU time (${parts}), longer on a busy machine; to go faster: ${advice.join('; or ')}`;
  return undefined;
}

/** Checks that the head can serve the solver (a usage error naming both otherwise), before any work. */
export function checkSolver(name: SolverName, head: Pick<Head, 'kind' | 'capabilities'>): void {
  const missing = missingCapabilities(head, SOLVERS[name].requires);
  if (missing.length)
    throw new UsageError(
      `the ${name} solver needs ${missing.join(' and ')}, which the ${head.kind} head does not offer`,
      {
        option: 'solver',
      },
    );
}

export function buildSolver(
  name: SolverName,
  head: Head,
  data: HeadData,
  options: SolverOptions = {},
): InfluenceSolver {
  checkSolver(name, head);
  return SOLVERS[name].build(head, data, options);
}
