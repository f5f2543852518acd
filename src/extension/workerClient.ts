/** Spawns and talks to the scoring worker (dist/worker.js) over JSON-RPC on stdio; restarts it after a crash. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CancellationTokenSource,
  type MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
} from 'vscode-jsonrpc/node';
import {
  ExperimentsRequest,
  type ExperimentsParams,
  type ExperimentsResponse,
  ExplainRequest,
  type ExplainResponse,
  type FieldInspection,
  FindRowsRequest,
  type FindRowsParams,
  InfoRequest,
  InspectRequest,
  type ProgressParams,
  ProgressNotification,
  type RowTextParams,
  RowTextRequest,
  type RowTextResponse,
  type ScoreParams,
  ScoreRequest,
  type ScoreResponse,
  type WorkerInfo,
} from '../protocol/messages';

type Options = ScoreParams['options'];
export type ProgressListener = (p: ProgressParams) => void;

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

export class WorkerClient implements vscode.Disposable {
  private proc: ChildProcess | undefined;
  private connection: MessageConnection | undefined;
  private readonly listeners = new Map<string, ProgressListener>();
  private crashes: number[] = [];
  private disposed = false;
  private info: WorkerInfo | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(
    private readonly extensionPath: string,
    private readonly output: vscode.OutputChannel,
    private readonly backend: () => string,
    /** The ONNX featurizer's feature cache folder (the extension's global storage). */
    private readonly cacheDir?: string,
  ) {}

  get workerInfo(): WorkerInfo | undefined {
    return this.info;
  }

  get running(): boolean {
    return !!this.connection;
  }

  private start(): MessageConnection {
    if (this.connection) return this.connection;
    if (this.disposed) throw new Error('The memorization worker was shut down.');
    const script = path.join(this.extensionPath, 'dist', 'worker.js');
    const proc = spawn(process.execPath || 'node', [script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Inside VS Code process.execPath is Electron: run it as plain Node.
      env: {
        ...process.env,
        ELECTRON_RUN_AS_NODE: '1',
        MEMORIZATION_BACKEND: this.backend(),
        ...(this.cacheDir ? { MEMORIZATION_CACHE_DIR: this.cacheDir } : {}),
      },
    });
    const connection = createMessageConnection(
      new StreamMessageReader(proc.stdout!),
      new StreamMessageWriter(proc.stdin!),
    );
    proc.stderr?.on('data', (d: Buffer) => this.output.append(d.toString()));
    proc.on('error', (err) => this.output.appendLine(`[worker] ${err.message}`));
    proc.on('exit', (code, signal) => this.onExit(proc, code, signal));
    connection.onNotification(ProgressNotification, (p) => this.listeners.get(p.jobId)?.(p));
    connection.onError(([err]) => this.output.appendLine(`[worker] connection error: ${err.message}`));
    connection.listen();
    this.proc = proc;
    this.connection = connection;
    this.output.appendLine(`[worker] started pid ${proc.pid}: ${script}`);
    void connection.sendRequest(InfoRequest, undefined).then(
      (info) => {
        this.info = info;
        this.stateEmitter.fire();
      },
      (err: Error) => this.output.appendLine(`[worker] info failed: ${err.message}`),
    );
    this.stateEmitter.fire();
    return connection;
  }

  private onExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc !== this.proc) return;
    this.connection?.dispose();
    this.connection = undefined;
    this.proc = undefined;
    this.info = undefined;
    this.stateEmitter.fire();
    if (this.disposed) return;
    this.output.appendLine(`[worker] exited (code ${code}, signal ${signal})`);
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < RESTART_WINDOW_MS).concat(now);
    if (this.crashes.length > MAX_RESTARTS) {
      void vscode.window.showWarningMessage(
        `Memorization worker crashed ${this.crashes.length} times in a minute; it restarts on the next request.`,
      );
      return;
    }
    void vscode.window.showWarningMessage(
      `Memorization worker stopped unexpectedly (${signal ?? `exit code ${code}`}); restarting it.`,
    );
    try {
      this.start();
    } catch (err) {
      this.output.appendLine(`[worker] restart failed: ${(err as Error).message}`);
    }
  }

  private async run<R = ScoreResponse>(
    token: vscode.CancellationToken | undefined,
    onProgress: ProgressListener | undefined,
    send: (connection: MessageConnection, jobId: string, cancel: CancellationTokenSource) => Promise<R>,
  ): Promise<R> {
    const connection = this.start();
    const jobId = randomUUID();
    if (onProgress) this.listeners.set(jobId, onProgress);
    const source = new CancellationTokenSource();
    const sub = token?.onCancellationRequested(() => source.cancel());
    if (token?.isCancellationRequested) source.cancel();
    try {
      return await send(connection, jobId, source);
    } finally {
      sub?.dispose();
      source.dispose();
      this.listeners.delete(jobId);
    }
  }

  /** Scores a file; the VS Code token cancels the JSON-RPC request ($/cancelRequest). */
  score(
    file: string,
    options: Options,
    token?: vscode.CancellationToken,
    onProgress?: ProgressListener,
  ): Promise<ScoreResponse> {
    return this.run(token, onProgress, (c, jobId, src) =>
      c.sendRequest(ScoreRequest, { jobId, file, options }, src.token),
    );
  }

  /** Which fields scoring would use (cheap: the worker reads the first ~1,000 rows). */
  inspect(file: string): Promise<FieldInspection> {
    return this.start().sendRequest(InspectRequest, { file });
  }

  /** Attributions for the given 0-based row positions (the worker reuses its fit of the file when it has one). */
  explain(
    file: string,
    options: Options,
    rows: number[],
    token?: vscode.CancellationToken,
    onProgress?: ProgressListener,
  ): Promise<ExplainResponse> {
    return this.run(token, onProgress, (c, jobId, src) =>
      c.sendRequest(ExplainRequest, { jobId, file, options, rows }, src.token),
    );
  }

  /** The decoded text of rows (the ranking panel's snippets). */
  rowText(params: RowTextParams): Promise<RowTextResponse> {
    return this.start().sendRequest(RowTextRequest, params);
  }

  /** Lines of the rows whose decoded text or id contains a string (the ranking panel's filter). */
  findRows(params: FindRowsParams): Promise<number[]> {
    return this.start()
      .sendRequest(FindRowsRequest, params)
      .then((r) => r.lines);
  }

  /** Runs the memorization experiments for the report; the VS Code token cancels them in the worker. */
  experiments(
    file: string,
    options: ExperimentsParams['options'],
    token?: vscode.CancellationToken,
    onProgress?: ProgressListener,
  ): Promise<ExperimentsResponse> {
    return this.run(token, onProgress, (c, jobId, src) =>
      c.sendRequest(ExperimentsRequest, { jobId, file, options }, src.token),
    );
  }

  dispose(): void {
    this.disposed = true;
    this.connection?.dispose();
    this.connection = undefined;
    this.proc?.kill();
    this.proc = undefined;
    this.stateEmitter.dispose();
  }
}
