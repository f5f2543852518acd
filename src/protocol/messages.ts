/**
 * The JSON-RPC protocol between the extension host (client) and the worker process (server), over stdio with
 * vscode-jsonrpc's Content-Length framing. Shared by both sides; imports nothing from vscode or the engine runtime.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { BackendAvailability } from '../engine/backends';
import type { SuiteOptions, SuiteReport } from '../engine/experiments/suite';
import type { DataOptions } from '../engine/pipeline/options';
import type { ScoreJobOptions } from '../engine/pipeline/scoreJob';
import type { ScoredRow, ScoreSummary, StageBackends } from './results';

export interface ScoreParams {
  /** Client-chosen id; progress notifications carry it so a second job's progress never mixes with the first. */
  jobId: string;
  file: string;
  /** Per stage: data, featurizer, head, solver, attribution (src/engine/pipeline/options.ts), and a test file. */
  options: ScoreJobOptions;
}

export interface ScoreResponse {
  jobId: string;
  rows: ScoredRow[];
  summary: ScoreSummary;
}

export interface ExplainParams {
  jobId: string;
  file: string;
  /** The options of the job whose rows are explained (the worker reuses that job's fit when they match). */
  options: ScoreJobOptions;
  /** 0-based row indices to attribute. */
  rows: number[];
}

export interface ExplainResponse {
  jobId: string;
  /** The asked rows, with their tokens. */
  rows: ScoredRow[];
  completeness: ScoreSummary['completeness'];
  /** Whether the worker had to score the file first (no fit for this file and these options was kept). */
  refit: boolean;
  seconds: number;
}

/** A row's decoded text as the engine read it, and where its characters sit in the raw file. */
export interface DecodedRowText {
  line: number;
  /** The text fields joined by FIELD_SEPARATOR (numeric columns as name=value). */
  text: string;
  /** Runs of decoded characters [v, v+n) on raw line `line`, character j at raw column raw + j*w. */
  segs: { v: number; line: number; raw: number; n: number; w: number; nl?: boolean }[];
}

export interface RowTextParams {
  file: string;
  /** The fields the results were scored with (their summary's fields). */
  data: DataOptions & { tabular?: boolean };
  /** 1-based lines where the rows start. */
  lines: number[];
}

export interface RowTextResponse {
  rows: DecodedRowText[];
}

export interface FindRowsParams {
  file: string;
  data: DataOptions & { tabular?: boolean };
  /** Case-insensitive substring of the decoded text or the id. */
  text: string;
}

export interface FindRowsResponse {
  /** Lines of the matching rows. */
  lines: number[];
}

export interface ProgressParams {
  jobId: string;
  stage: string;
  done: number;
  total: number;
  message?: string;
}

export interface WorkerInfo {
  version: string;
  backend: string;
  pid: number;
  /** The backend setting the worker was started with (MEMORIZATION_BACKEND: auto | cpu | cuda). */
  backendSetting?: string;
  /** What this worker can use: onnxruntime-node (and its providers), tfjs-node. */
  available?: BackendAvailability;
  /** Which backend ran each stage of the worker's last finished job (none before the first). */
  lastRun?: StageBackends;
}

/** Scores a file; cancellable through the request's cancellation token ($/cancelRequest). */
export const ScoreRequest = new RequestType<ScoreParams, ScoreResponse, void>('memorization/score');
/** Attributes specific rows ("Explain this row"), reusing the fit of the file's latest job with these options. */
export const ExplainRequest = new RequestType<ExplainParams, ExplainResponse, void>('memorization/explain');
/** The decoded text of rows, for the ranking panel (the worker reads and decodes; the host never parses files). */
export const RowTextRequest = new RequestType<RowTextParams, RowTextResponse, void>('memorization/rowText');
/** The rows whose decoded text or id contains a string (the ranking panel's text filter). */
export const FindRowsRequest = new RequestType<FindRowsParams, FindRowsResponse, void>(
  'memorization/findRows',
);
/** Which fields scoring would use for a file (inspectFields in src/engine/data/readDataset.ts fills it). */
export interface FieldInspection {
  /** All field names, in file order. */
  names: string[];
  /** What inference picks with the given options; absent when it cannot decide (see `error`). */
  inferred?: { label: string; text: string[]; id?: string; tabular: boolean };
  /** Why inference failed (e.g. no label-like field). */
  error?: string;
  /** Choices a person should confirm. Empty when inference is clear-cut. */
  ambiguities: string[];
}

export interface InspectParams {
  file: string;
  text?: string[];
  label?: string;
}

/** Which fields scoring would use, and whether that is a guess the user should confirm (reads ~1,000 rows). */
export const InspectRequest = new RequestType<InspectParams, FieldInspection, void>('memorization/inspect');
export const InfoRequest = new RequestType<void, WorkerInfo, void>('memorization/info');
export const ProgressNotification = new NotificationType<ProgressParams>('memorization/progress');

/** Error codes the worker returns in JSON-RPC errors. */
export const ErrorCodes = {
  dataError: -32001,
  usageError: -32002,
  invalidParams: -32602,
  cancelled: -32800,
} as const;

/** The data of a usage or data error: where it applies (the option by key; the file and line). */
export interface ErrorData {
  option?: string;
  /** The message with the option by its setting name (memorization.l2), for VS Code. */
  settingsMessage?: string;
  file?: string;
  line?: number;
}

export interface ExperimentsParams {
  /** Client-chosen id; progress notifications carry it. */
  jobId: string;
  file: string;
  /** Fields, model and which experiments to run (src/engine/experiments/suite.ts). */
  options: SuiteOptions;
}

export interface ExperimentsResponse {
  jobId: string;
  report: SuiteReport;
}

/**
 * Runs the memorization experiments (removal, reduction, stability, typicality, the likely-mislabeled summary and,
 * given flipped ids, label noise) on a file for the report panel;
 * progress as ProgressNotification, cancellable through the request's cancellation token.
 */
export const ExperimentsRequest = new RequestType<ExperimentsParams, ExperimentsResponse, void>(
  'memorization/experiments',
);
