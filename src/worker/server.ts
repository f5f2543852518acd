/**
 * The worker process: serves the JSON-RPC protocol of src/protocol/messages.ts over stdio (vscode-jsonrpc's
 * Content-Length framing). stdout carries protocol messages only; every log line goes to stderr.
 */
import { ResponseError, type CancellationToken } from 'vscode-jsonrpc';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import {
  ErrorCodes,
  ExperimentsRequest,
  type ExperimentsParams,
  type ExperimentsResponse,
  ExplainRequest,
  InfoRequest,
  InspectRequest,
  ProgressNotification,
  ScoreRequest,
  type ProgressParams,
  type ScoreParams,
  type ScoreResponse,
  type WorkerInfo,
} from '../protocol/messages';
import { inspectFields } from '../engine/data/readDataset';
import { runExperimentSuite } from '../engine/experiments/suite';
import { scoreDataset } from '../engine/scoreDataset';
import {
  BACKEND_SETTINGS,
  type BackendSetting,
  type StageBackends,
  backendAvailability,
} from '../engine/backends';
import { DataError, UsageError } from '../engine/types';
import { JobRegistry, Superseded } from './jobs';
import { progressThrottle } from './progress';
import { version } from '../../package.json';

export const BACKEND = 'cpu (JavaScript, float64)';

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

/** Runs one engine job: progress notifications tagged with the jobId, cancellation, errors mapped to codes. */
async function runJob(
  kind: 'score' | 'explain',
  params: ScoreParams,
  token: CancellationToken,
  attributeRows?: number[],
): Promise<ScoreResponse> {
  const { jobId, file } = params;
  // A newer request of the same kind for the same file cancels the older one, which answers `cancelled`.
  const job = jobs.start(kind, file, jobId);
  const cancelSub = token.onCancellationRequested(() =>
    job.controller.abort(new Error('cancelled by the client')),
  );
  if (token.isCancellationRequested) job.controller.abort(new Error('cancelled by the client'));
  const started = Date.now();
  const send = progressThrottle(
    (p: ProgressParams) => void connection.sendNotification(ProgressNotification, p).catch(() => undefined),
    100,
  );
  log(`${kind} ${jobId} started: ${file}`);
  try {
    const result = await scoreDataset(file, {
      backend: BACKEND_SETTING,
      ...(CACHE_DIR ? { cacheDir: CACHE_DIR } : {}),
      ...params.options,
      ...(attributeRows
        ? { attributeRows: [...(params.options.attributeRows ?? []), ...attributeRows] }
        : {}),
      signal: job.controller.signal,
      onProgress: (p) => send({ jobId, ...p }),
    });
    if (job.controller.signal.aborted) throw job.controller.signal.reason;
    send.flush();
    lastRun = result.summary.backends ?? lastRun;
    for (const note of result.summary.backendNotes ?? []) log(note);
    log(
      `${kind} ${jobId} done in ${((Date.now() - started) / 1000).toFixed(2)} s: ${result.rows.length} rows`,
    );
    return { jobId, rows: result.rows, summary: result.summary };
  } catch (err) {
    throw toResponseError(err, job.controller.signal, `${kind} ${jobId}`);
  } finally {
    cancelSub.dispose();
    jobs.finish(job);
  }
}

/** The report's experiments: the same job handling as scoring (progress by jobId, cancellation, superseding). */
async function runExperiments(
  params: ExperimentsParams,
  token: CancellationToken,
): Promise<ExperimentsResponse> {
  const { jobId, file } = params;
  const job = jobs.start('experiments', file, jobId);
  const abort = () => job.controller.abort(new Error('cancelled by the client'));
  const cancelSub = token.onCancellationRequested(abort);
  if (token.isCancellationRequested) abort();
  const started = Date.now();
  const send = progressThrottle(
    (p: ProgressParams) => void connection.sendNotification(ProgressNotification, p).catch(() => undefined),
    100,
  );
  log(`experiments ${jobId} started: ${file}`);
  try {
    // The same featurizer defaults as scoring: the backend setting and the extension's cache folder.
    const options = {
      backend: BACKEND_SETTING,
      ...(CACHE_DIR ? { cacheDir: CACHE_DIR } : {}),
      ...params.options,
    };
    const report = await runExperimentSuite(file, options, {
      signal: job.controller.signal,
      onProgress: (p) => send({ jobId, ...p }),
    });
    if (job.controller.signal.aborted) throw job.controller.signal.reason;
    send.flush();
    log(`experiments ${jobId} done in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    return { jobId, report };
  } catch (err) {
    throw toResponseError(err, job.controller.signal, `experiments ${jobId}`);
  } finally {
    cancelSub.dispose();
    jobs.finish(job);
  }
}

function toResponseError(err: unknown, signal: AbortSignal, what: string): ResponseError<unknown> {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const why = reason instanceof Superseded ? reason.message : 'cancelled by the client';
    log(`${what} cancelled (${why})`);
    return new ResponseError(ErrorCodes.cancelled, `cancelled: ${why}`);
  }
  if (err instanceof DataError) {
    log(`${what} data error: ${err.message}`);
    return new ResponseError(ErrorCodes.dataError, err.message, { file: err.file, line: err.line });
  }
  if (err instanceof UsageError) {
    log(`${what} usage error: ${err.message}`);
    return new ResponseError(ErrorCodes.usageError, err.message);
  }
  if (err instanceof ResponseError) return err as ResponseError<unknown>;
  const message = err instanceof Error ? err.message : String(err);
  log(`${what} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
  return new ResponseError(-32603, message);
}

connection.onRequest(InfoRequest, (): WorkerInfo => ({
  version,
  backend: BACKEND,
  pid: process.pid,
  backendSetting: BACKEND_SETTING,
  available: backendAvailability(),
  ...(lastRun ? { lastRun } : {}),
}));
connection.onRequest(ScoreRequest, (params, token) => runJob('score', params, token));
connection.onRequest(InspectRequest, async (params) => {
  try {
    return await inspectFields(params.file, { text: params.text, label: params.label });
  } catch (err) {
    throw toResponseError(err, new AbortController().signal, `inspect ${params.file}`);
  }
});
// "Explain this row": the same job with attributions for the asked rows, on top of the usual top-N setting.
connection.onRequest(ExplainRequest, (params, token) => runJob('explain', params, token, params.rows));
connection.onRequest(ExperimentsRequest, (params, token) => runExperiments(params, token));

// The client went away (stdin closed): nothing more to serve.
connection.onClose(() => {
  log('connection closed, exiting');
  jobs.abortAll();
  process.exit(0);
});
connection.onError(([err]) => log(`connection error: ${err.message}`));

connection.listen();
log(`ready (node ${process.version}, backend ${BACKEND}, setting ${BACKEND_SETTING})`);
