/**
 * The worker process: serves the JSON-RPC protocol of src/protocol/messages.ts over stdio (vscode-jsonrpc's
 * Content-Length framing). stdout carries protocol messages only; every log line goes to stderr.
 */
import { ResponseError, type CancellationToken } from 'vscode-jsonrpc';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import {
  ErrorCodes,
  type ErrorData,
  ExperimentsRequest,
  type ExperimentsParams,
  type ExperimentsResponse,
  ExplainRequest,
  type ExplainParams,
  type ExplainResponse,
  FindRowsRequest,
  InfoRequest,
  InspectRequest,
  ProgressNotification,
  RowTextRequest,
  ScoreRequest,
  type ProgressParams,
  type ScoreParams,
  type ScoreResponse,
  type WorkerInfo,
} from '../protocol/messages';
import { inspectFields } from '../engine/data/readDataset';
import { runExperimentSuite } from '../engine/experiments/suite';
import { explainRows, runScoreJob } from '../engine/pipeline/scoreJob';
import { BACKEND_SETTINGS, type BackendSetting, backendAvailability, denseBackend } from '../engine/backends';
import type { StageBackends } from '../protocol/results';
import { MemorizationError } from '../engine/types';
import { JobRegistry, Superseded } from './jobs';
import { progressThrottle } from './progress';
import { FittedStates, RowTexts } from './state';
import { type RequestKind, invalidParams } from '../protocol/validate';
import { version } from '../../package.json';

/** What runs the dense math here (onnxruntime's float64 products, or plain JavaScript where it cannot load). */
export const BACKEND = `cpu (${denseBackend()})`;

/** The extension's memorization.backend setting (auto | cpu | cuda), passed at spawn; a job's options override it. */
const envBackend = process.env.MEMORIZATION_BACKEND;
const BACKEND_SETTING: BackendSetting = (BACKEND_SETTINGS as readonly string[]).includes(envBackend ?? '')
  ? (envBackend as BackendSetting)
  : 'auto';
/** Where the ONNX featurizer caches encoder outputs: the extension's global storage (default: the OS cache folder). */
const CACHE_DIR = process.env.MEMORIZATION_CACHE_DIR || undefined;
let lastRun: StageBackends | undefined;

function log(message: string): void {
  process.stderr.write(`[worker ${process.pid}] ${message}\n`);
}

function fatal(kind: string, err: unknown): void {
  log(`${kind}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  // The client notices the exit and starts a fresh worker.
  process.exit(1);
}
process.on('uncaughtException', (err) => fatal('uncaught exception', err));
process.on('unhandledRejection', (err) => fatal('unhandled rejection', err));

const connection = createMessageConnection(
  new StreamMessageReader(process.stdin),
  new StreamMessageWriter(process.stdout),
);
const jobs = new JobRegistry();

/** The fit of each file's latest scoring job, for "Explain this row"; the decoded rows, for the ranking panel. */
const fitted = new FittedStates();
const rowTexts = new RowTexts(fitted);

/** Job options with the worker's defaults: the backend setting and the extension's cache folder. */
function withDefaults<T extends { featurizer?: object }>(options: T): T {
  return {
    ...options,
    featurizer: {
      backend: BACKEND_SETTING,
      ...(CACHE_DIR ? { cacheDir: CACHE_DIR } : {}),
      ...options.featurizer,
    },
  };
}

/** Runs a request as a job: progress tagged with its jobId, cancellation, superseding, errors mapped to codes. */
async function asJob<T>(
  kind: string,
  file: string,
  jobId: string,
  token: CancellationToken,
  work: (control: {
    signal: AbortSignal;
    onProgress: (p: Omit<ProgressParams, 'jobId'>) => void;
  }) => Promise<T>,
): Promise<T> {
  // A newer request of the same kind for the same file cancels the older one, which answers `cancelled`.
  const job = jobs.start(kind, file, jobId);
  const abort = () => job.controller.abort(new Error('cancelled by the client'));
  const cancelSub = token.onCancellationRequested(abort);
  if (token.isCancellationRequested) abort();
  const started = Date.now();
  const send = progressThrottle(
    (p: ProgressParams) => void connection.sendNotification(ProgressNotification, p).catch(() => undefined),
    100,
  );
  log(`${kind} ${jobId} started: ${file}`);
  try {
    const result = await work({ signal: job.controller.signal, onProgress: (p) => send({ jobId, ...p }) });
    job.controller.signal.throwIfAborted();
    send.flush();
    log(`${kind} ${jobId} done in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    return result;
  } catch (err) {
    throw toResponseError(err, job.controller.signal, `${kind} ${jobId}`);
  } finally {
    cancelSub.dispose();
    jobs.finish(job);
  }
}

async function score(params: ScoreParams, token: CancellationToken): Promise<ScoreResponse> {
  return asJob('score', params.file, params.jobId, token, async (control) => {
    const options = withDefaults(params.options);
    const state = await runScoreJob(params.file, options, {
      ...control,
      // A long fit is said in the progress notification before it runs.
      onWarning: (message) => control.onProgress({ stage: 'training', done: 0, total: 1, message }),
    });
    await fitted.keep(params.file, options, state);
    lastRun = state.result.summary.backends ?? lastRun;
    for (const note of state.result.summary.backendNotes ?? []) log(note);
    return { jobId: params.jobId, ...state.result };
  });
}

/** "Explain this row": only the asked rows' attributions when the file's latest fit matches; else score first. */
async function explain(params: ExplainParams, token: CancellationToken): Promise<ExplainResponse> {
  return asJob('explain', params.file, params.jobId, token, async (control) => {
    const t0 = performance.now();
    const options = withDefaults(params.options);
    let state = await fitted.get(params.file, options);
    const refit = !state;
    if (!state) {
      state = await runScoreJob(params.file, options, control);
      await fitted.keep(params.file, options, state);
    }
    const rows = await explainRows(state, params.rows, control);
    return {
      jobId: params.jobId,
      rows,
      completeness: state.result.summary.completeness,
      refit,
      seconds: (performance.now() - t0) / 1000,
    };
  });
}

/** The report's experiments: the same job handling as scoring (progress by jobId, cancellation, superseding). */
async function runExperiments(
  params: ExperimentsParams,
  token: CancellationToken,
): Promise<ExperimentsResponse> {
  return asJob('experiments', params.file, params.jobId, token, async (control) => ({
    jobId: params.jobId,
    report: await runExperimentSuite(params.file, withDefaults(params.options), control),
  }));
}

function toResponseError(err: unknown, signal: AbortSignal, what: string): ResponseError<unknown> {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const why = reason instanceof Superseded ? reason.message : 'cancelled by the client';
    log(`${what} cancelled (${why})`);
    return new ResponseError(ErrorCodes.cancelled, `cancelled: ${why}`);
  }
  if (err instanceof MemorizationError) {
    log(`${what} ${err.kind} error: ${err.message}`);
    const data: ErrorData = {
      ...(err.option ? { option: err.option, settingsMessage: err.forSettings() } : {}),
      ...('file' in err && err.file ? { file: err.file as string } : {}),
      ...('line' in err && err.line ? { line: err.line as number } : {}),
    };
    return new ResponseError(
      err.kind === 'data' ? ErrorCodes.dataError : ErrorCodes.usageError,
      err.message,
      data,
    );
  }
  if (err instanceof ResponseError) return err as ResponseError<unknown>;
  const message = err instanceof Error ? err.message : String(err);
  log(`${what} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
  return new ResponseError(-32603, message);
}

/** Malformed params are refused before any work, with a JSON-RPC invalid-params error that says what is wrong. */
function checkParams(kind: RequestKind, params: unknown): void {
  const why = invalidParams(kind, params);
  if (why) {
    log(why);
    throw new ResponseError(ErrorCodes.invalidParams, why);
  }
}

connection.onRequest(InfoRequest, (): WorkerInfo => ({
  version,
  backend: BACKEND,
  pid: process.pid,
  backendSetting: BACKEND_SETTING,
  available: backendAvailability(),
  ...(lastRun ? { lastRun } : {}),
}));
connection.onRequest(ScoreRequest, (params, token) => {
  checkParams('score', params);
  return score(params, token);
});
connection.onRequest(InspectRequest, async (params) => {
  checkParams('inspect', params);
  try {
    return await inspectFields(params.file, { text: params.text, label: params.label });
  } catch (err) {
    throw toResponseError(err, new AbortController().signal, `inspect ${params.file}`);
  }
});
connection.onRequest(ExplainRequest, (params, token) => {
  checkParams('explain', params);
  return explain(params, token);
});
connection.onRequest(RowTextRequest, async (params) => {
  checkParams('rowText', params);
  try {
    return { rows: await rowTexts.decoded(params.file, params.data, params.lines) };
  } catch (err) {
    throw toResponseError(err, new AbortController().signal, `rowText ${params.file}`);
  }
});
connection.onRequest(FindRowsRequest, async (params) => {
  checkParams('findRows', params);
  try {
    return { lines: await rowTexts.find(params.file, params.data, params.text) };
  } catch (err) {
    throw toResponseError(err, new AbortController().signal, `findRows ${params.file}`);
  }
});
connection.onRequest(ExperimentsRequest, (params, token) => {
  checkParams('experiments', params);
  return runExperiments(params, token);
});

// The client went away (stdin closed): nothing more to serve.
connection.onClose(() => {
  log('connection closed, exiting');
  jobs.abortAll();
  process.exit(0);
});
connection.onError(([err]) => log(`connection error: ${err.message}`));

connection.listen();
log(`ready (node ${process.version}, backend ${BACKEND}, setting ${BACKEND_SETTING})`);
