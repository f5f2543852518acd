/**
 * Validation of every worker request's params at the protocol edge, before any work: the shape (an object where
 * one is expected, a list of strings and not a string, integers for row indices), the choices (solver, model,
 * backend...) and no unknown keys. A client bug or a hand-written request gets one clear message, for a JSON-RPC
 * invalid-params error (-32602), instead of a job that trains fully and then fails on `undefined`.
 *
 * The ranges of the pipeline options (l2 > 0, steps >= 1...) are not repeated here: validateOptions
 * (src/engine/pipeline/options.ts) checks them before reading too, and names the VS Code setting.
 *
 * Each shape is typed against the params' TypeScript type (`satisfies Shape<T>`), so a new option that the protocol
 * gains without a check here fails the type check.
 */
import { BACKEND_SETTINGS } from '../engine/backends';
import type { SuiteOptions } from '../engine/experiments/suite';
import { SOLVER_NAMES } from '../engine/influence/solvers';
import { HEAD_NAMES } from '../engine/model/heads';
import {
  ACTIVATIONS,
  type AttributionOptions,
  CURVATURES,
  type DataOptions,
  type FeaturizerStageOptions,
  type HeadStageOptions,
  type PipelineOptions,
  type ReasonStageOptions,
  type SolverStageOptions,
} from '../engine/pipeline/options';
import type { ScoreJobOptions } from '../engine/pipeline/scoreJob';
import type {
  ExperimentsParams,
  ExplainParams,
  FindRowsParams,
  InspectParams,
  RowTextParams,
  ScoreParams,
} from './messages';

/** Checks a value; returns what is wrong with it (to follow its path), or undefined. */
type Check = ((v: unknown, path: string) => string | undefined) & { required?: boolean };
type Shape<T> = { [K in keyof Required<T>]: Check };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}" (a string)`;
  if (typeof v === 'object') return 'an object';
  return `${String(v)} (a ${typeof v})`;
}

const must = (path: string, what: string, v: unknown) => `${path} must be ${what}, got ${describe(v)}`;

const string: Check = (v, p) => (typeof v === 'string' ? undefined : must(p, 'a string', v));
const nonEmpty: Check = (v, p) =>
  typeof v === 'string' && v !== '' ? undefined : must(p, 'a non-empty string', v);
const boolean: Check = (v, p) => (typeof v === 'boolean' ? undefined : must(p, 'true or false', v));
const number: Check = (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? undefined : must(p, 'a number', v);
const integer: Check = (v, p) => (Number.isInteger(v) ? undefined : must(p, 'an integer', v));
const index: Check = (v, p) =>
  Number.isInteger(v) && (v as number) >= 0
    ? undefined
    : must(p, 'a row index (an integer of at least 0)', v);
const lineNumber: Check = (v, p) =>
  Number.isInteger(v) && (v as number) >= 1
    ? undefined
    : must(p, 'a line number (an integer of at least 1)', v);
const stringOrFalse: Check = (v, p) =>
  v === false || (typeof v === 'string' && v !== '') ? undefined : must(p, 'a folder or false', v);

function oneOf(choices: readonly string[]): Check {
  return (v, p) =>
    typeof v === 'string' && choices.includes(v) ? undefined : must(p, `one of ${choices.join('|')}`, v);
}

function listOf(item: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return must(p, 'a list', v);
    for (let i = 0; i < v.length; i++) {
      const why = item(v[i], `${p}[${i}]`);
      if (why) return why;
    }
    return undefined;
  };
}

function required(check: Check): Check {
  const c: Check = (v, p) => check(v, p);
  c.required = true;
  return c;
}

function object<T>(shape: Shape<T>): Check {
  const known = Object.keys(shape);
  return (v, p) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return must(p, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!known.includes(k)) return `${p}.${k} is not known here (known: ${known.join(', ')})`;
    for (const k of known) {
      const check = (shape as Record<string, Check>)[k];
      if (o[k] === undefined) {
        if (check.required) return `${p}.${k} is missing`;
        continue;
      }
      const why = check(o[k], `${p}.${k}`);
      if (why) return why;
    }
    return undefined;
  };
}

const dataShape = {
  text: listOf(nonEmpty),
  label: nonEmpty,
  id: nonEmpty,
  strict: boolean,
} satisfies Shape<DataOptions>;

const featurizerShape = {
  featurizer: nonEmpty,
  standardize: boolean,
  onnxLayer: string,
  onnxMaxLength: integer,
  onnxThreads: integer,
  backend: oneOf(BACKEND_SETTINGS),
  cacheDir: stringOrFalse,
  embeddingsId: nonEmpty,
  embeddingsVector: nonEmpty,
} satisfies Shape<FeaturizerStageOptions>;

const headShape = {
  model: oneOf(HEAD_NAMES),
  l2: number,
  hidden: listOf(integer),
  activation: oneOf(ACTIVATIONS),
  curvature: oneOf(CURVATURES),
  damping: number,
  seed: integer,
} satisfies Shape<HeadStageOptions>;

const solverShape = { solver: oneOf(SOLVER_NAMES), seed: integer } satisfies Shape<SolverStageOptions>;

const attributionShape = {
  top: integer,
  rows: listOf(index),
  steps: integer,
} satisfies Shape<AttributionOptions>;

const pipelineShape = {
  data: object(dataShape),
  featurizer: object(featurizerShape),
  head: object(headShape),
  solver: object(solverShape),
  attribution: object(attributionShape),
  reasons: object({ enabled: boolean, group: nonEmpty } satisfies Shape<ReasonStageOptions>),
} satisfies Shape<PipelineOptions>;

const scoreJobShape = { ...pipelineShape, test: nonEmpty } satisfies Shape<ScoreJobOptions>;

const fractions = listOf(number);
const suiteShape = {
  ...pipelineShape,
  test: nonEmpty,
  holdout: number,
  seed: integer,
  removal: object<NonNullable<SuiteOptions['removal']>>({
    fractions: required(fractions),
    seeds: required(integer),
  }),
  reduction: object<NonNullable<SuiteOptions['reduction']>>({
    top: required(number),
    ks: required(fractions),
    steps: integer,
  }),
  stability: object<NonNullable<SuiteOptions['stability']>>({ seeds: required(integer), fraction: number }),
  typicality: object<NonNullable<SuiteOptions['typicality']>>({ field: required(nonEmpty) }),
  mislabeled: object<NonNullable<SuiteOptions['mislabeled']>>({ top: integer }),
  noise: object<NonNullable<SuiteOptions['noise']>>({
    flipped: required(listOf(string)),
    file: string,
    folds: integer,
  }),
  memorization: object<NonNullable<SuiteOptions['memorization']>>({
    retrainings: required(integer),
    subset: number,
  }),
} satisfies Shape<SuiteOptions>;

const job = { jobId: required(nonEmpty), file: required(nonEmpty) };
const rowData = object<RowTextParams['data']>({ ...dataShape, tabular: boolean });

const checks = {
  score: object<ScoreParams>({ ...job, options: required(object(scoreJobShape)) }),
  explain: object<ExplainParams>({
    ...job,
    options: required(object(scoreJobShape)),
    rows: required(listOf(index)),
  }),
  experiments: object<ExperimentsParams>({ ...job, options: required(object(suiteShape)) }),
  inspect: object<InspectParams>({ file: required(nonEmpty), text: listOf(nonEmpty), label: nonEmpty }),
  rowText: object<RowTextParams>({
    file: required(nonEmpty),
    data: required(rowData),
    lines: required(listOf(lineNumber)),
  }),
  findRows: object<FindRowsParams>({
    file: required(nonEmpty),
    data: required(rowData),
    text: required(string),
  }),
};

export type RequestKind = keyof typeof checks;

/** What is wrong with a request's params ("invalid params: options.head.solver must be ..."), or undefined. */
export function invalidParams(kind: RequestKind, params: unknown): string | undefined {
  const why = checks[kind](params, 'params');
  return why && `invalid params of memorization/${kind}: ${why.replace(/^params\./, '')}`;
}
