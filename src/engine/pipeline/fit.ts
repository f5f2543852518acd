/**
 * Stage 2: train the head to a stationary point and build the solver (the factor stage). Every front end and every
 * experiment fits through here, so training tolerances, warm starts and option checks are the same everywhere.
 */
import { buildSolver, checkFitCost, checkSolver, defaultSolver, type SolverName } from '../influence/solvers';
import type { InfluenceSolver } from '../influence/solver';
import type { Head, HeadData } from '../model/head';
import type { HeadOptions, TrainReport } from '../model/headKind';
import { HEADS } from '../model/heads';
import type { Control, Prepared } from './prepare';
import { DEFAULT_L2, type HeadStageOptions, type SolverStageOptions } from './options';

export interface FitOptions {
  head?: HeadStageOptions;
  solver?: SolverStageOptions;
  /** Warm start (an experiment's retraining from the full model). */
  init?: Float64Array;
}

export interface TrainedHead {
  head: Head;
  training: TrainReport;
}

export interface Fitted extends TrainedHead {
  solverName: SolverName;
  solver: InfluenceSolver;
  /** Said before the fit ran (a long estimate); also in the summary's warnings. */
  warnings: string[];
  seconds: { training: number; hessian: number };
}

export function headOptions(o: HeadStageOptions = {}): HeadOptions {
  if (o.l2 === 'auto') throw new Error('l2 auto must be resolved (chooseL2) before a head is made');
  return {
    l2: o.l2 ?? DEFAULT_L2,
    hidden: o.hidden,
    activation: o.activation,
    curvature: o.curvature,
    damping: o.damping,
    seed: o.seed ?? 0,
  };
}

/** A fresh head of the configured kind for the prepared data's shape. */
export function makeHead(prep: Pick<Prepared, 'classes' | 'featurizer'>, o: HeadStageOptions = {}): Head {
  return HEADS[o.model ?? 'linear'].create(prep.classes.length, prep.featurizer.dim, headOptions(o));
}

/** Trains a head of the configured kind on data (default: all prepared rows). */
export function trainHead(
  prep: Pick<Prepared, 'classes' | 'featurizer' | 'data'>,
  opts: FitOptions = {},
  control: Control = {},
  data: HeadData = prep.data,
  head: Head = makeHead(prep, opts.head),
): TrainedHead {
  const kind = HEADS[opts.head?.model ?? 'linear'];
  const training = kind.train(head, data, {
    init: opts.init,
    signal: control.signal,
    onIteration: (it, value, g) =>
      control.onProgress?.({
        stage: 'training',
        done: it,
        total: it + 1,
        message: `objective ${value.toFixed(5)}, |grad| ${g.toExponential(1)}`,
      }),
  });
  return { head, training };
}

/** The solver for a head on n rows: the configured one (checked against the head first), else the default. */
export function solverFor(head: Head, o: SolverStageOptions = {}, rows?: number): SolverName {
  const name = o.solver ?? defaultSolver(head, rows);
  checkSolver(name, head);
  return name;
}

/**
 * Checks, before any reading, that the head kind can serve the chosen solver (a usage error naming both otherwise):
 * capabilities belong to the kind, so a 2-class, 1-input head of it answers.
 */
export function checkFitOptions(opts: FitOptions): void {
  if (opts.solver?.solver)
    checkSolver(
      opts.solver.solver,
      HEADS[opts.head?.model ?? 'linear'].create(2, 1, headOptions({ ...opts.head, l2: DEFAULT_L2 })),
    );
}

/** Trains the head and builds its solver on data (default: all prepared rows). */
export function fit(
  prep: Pick<Prepared, 'classes' | 'featurizer' | 'data'>,
  opts: FitOptions = {},
  control: Control = {},
  data: HeadData = prep.data,
): Fitted {
  const t0 = performance.now();
  const head = makeHead(prep, opts.head);
  const solverName = solverFor(head, opts.solver, data.n);
  // Before any work: a fit estimated at an hour is refused (a usage error saying what to change), a long one told.
  const estimate = checkFitCost(head, data.n, solverName);
  if (estimate) control.onWarning?.(estimate);
  const trained = trainHead(prep, opts, control, data, head);
  const t1 = performance.now();
  control.onProgress?.({ stage: 'hessian', done: 0, total: 1, message: solverName });
  const solver = buildSolver(solverName, trained.head, data, {
    seed: opts.solver?.seed,
    signal: control.signal,
  });
  return {
    ...trained,
    solverName,
    solver,
    warnings: estimate ? [estimate] : [],
    seconds: { training: (t1 - t0) / 1000, hessian: (performance.now() - t1) / 1000 },
  };
}
