/**
 * The JSON-RPC protocol between the extension host (client) and the worker process (server), over stdio with
 * vscode-jsonrpc's Content-Length framing. Shared by both sides; imports nothing from vscode or the engine runtime.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { FieldInspection } from '../engine/data/readDataset';
import type { ScoredRow, ScoreOptions, ScoreSummary } from '../engine/scoreDataset';

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
