/**
 * The solver seam: inverse-curvature operations at the trained parameters, built from what a head offers
 * (Head.capabilities). Each solver kind declares the capabilities it requires; asking for one a head cannot serve
 * is a usage error before any work (influence/solvers.ts). Kronfluence's factor / score split has the same shape:
 * `build` is the factor stage (once per fit), `selfInfluence` / `solve` the score stage.
 */
import type { GradientBatch, Head, HeadCapability, HeadData } from '../model/head';

export interface InfluenceSolver {
  readonly name: string;
  /** (C + damping I)^-1 v, C the head's curvature of R at theta. */
  solve(v: Float64Array): Float64Array;
  /**
   * solve() for each row of V (m x size, row-major) at once, where the solver can do better than m calls (the exact
   * solver: one blocked pass over its factor instead of m memory-bound ones).
   */
  solveRows?(V: Float64Array, m: number): Float64Array;
  /** g_i^T (C + damping I)^-1 g_i for every row i of the batch (the rows' self-influence of the loss). */
  selfInfluence(batch: GradientBatch): Float64Array;
}

export interface SolverOptions {
  /** LiSSA's random row order. */
  seed?: number;
  signal?: AbortSignal;
}

export interface SolverKind {
  readonly name: string;
  /** One line for `--help` and the settings description. */
  readonly summary: string;
  readonly requires: readonly HeadCapability[];
  build(head: Head, data: HeadData, options?: SolverOptions): InfluenceSolver;
}
