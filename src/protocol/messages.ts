/**
 * The JSON-RPC protocol between the extension host (client) and the worker process (server), over stdio with
 * vscode-jsonrpc's Content-Length framing. Shared by both sides; imports nothing from vscode or the engine runtime.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { FieldInspection } from '../engine/data/readDataset';
import type { ScoredRow, ScoreOptions, ScoreSummary } from '../engine/scoreDataset';
import type { BackendAvailability, StageBackends } from '../engine/backends';
import type { SuiteOptions, SuiteReport } from '../engine/experiments/suite';

export interface ScoreParams {
  /** Client-chosen id; progress notifications carry it so a second job's progress never mixes with the first. */
  jobId: string;
  file: string;
  options: Omit<ScoreOptions, 'onProgress' | 'signal'>;
}

export interface ScoreResponse {
  jobId: string;
  rows: ScoredRow[];
  summary: ScoreSummary;
}

export interface ExplainParams {
  jobId: string;
  file: string;
  options: Omit<ScoreOptions, 'onProgress' | 'signal'>;
  /** 0-based row indices to attribute. */
  rows: number[];
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
/** Re-scores with attributions for specific rows ("Explain this row"). */
export const ExplainRequest = new RequestType<ExplainParams, ScoreResponse, void>('memorization/explain');
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
export const ErrorCodes = { dataError: -32001, usageError: -32002, cancelled: -32800 } as const;

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
