/** The memorization.* commands. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type ErrorData, ErrorCodes, type ScoreParams } from '../protocol/messages';
import { type Settings, jobOptions, readSettings, resultSettings } from './config';
import { describeChoice, type FieldChoice } from './fieldChoice';
import type { FieldPicker } from './fieldPicker';
import { isTooLargeForEditor, largeFileNotice } from './largeFiles';
import type { RankingPanel } from './rankingPanel';
import type { ResultsStore } from './resultsStore';
import { SCORABLE } from './scorable';
import type { StatusBar } from './statusBar';
import { ProgressTracker } from './progress';
import type { WorkerClient } from './workerClient';

export interface Deps {
  store: ResultsStore;
  worker: WorkerClient;
  status: StatusBar;
  panel: RankingPanel;
  output: vscode.OutputChannel;
  fields: FieldPicker;
}

/** The file a command applies to: its Uri argument (menus), a [uri, line] pair (hover links) or the active editor. */
export function target(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  return vscode.window.activeTextEditor?.document.uri;
}

export function requireScorable(uri: vscode.Uri | undefined): uri is vscode.Uri {
  if (uri && uri.scheme === 'file' && SCORABLE.test(uri.fsPath)) return true;
  void vscode.window.showWarningMessage('Open a .jsonl, .ndjson, .csv or .tsv file first.');
  return false;
}

function isCancelled(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return e?.code === ErrorCodes.cancelled || /cancel/i.test(e?.message ?? '');
}

export function reportError(deps: Deps, what: string, err: unknown): void {
  if (isCancelled(err)) {
    void vscode.window.showInformationMessage(`${what} cancelled.`);
    return;
  }
  const e = err as { code?: number; message?: string; data?: ErrorData };
  // A usage error names its option by the setting (memorization.l2), as the user changes it here.
  const message = e?.data?.settingsMessage ?? e?.message ?? String(err);
  deps.output.appendLine(`[${what}] ${message}`);
  const kind =
    e?.code === ErrorCodes.dataError
      ? 'Data error'
      : e?.code === ErrorCodes.usageError || e?.code === ErrorCodes.invalidParams
        ? 'Setting error'
        : 'Error';
  void vscode.window.showErrorMessage(`${what}: ${kind}: ${message}`);
}

/** Saves the document if it is open and dirty: the worker reads the file from disk. */
export async function saveIfDirty(uri: vscode.Uri): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty) await doc.save();
}

/** Saves the document if it is open and dirty, then reads the text the worker will read. */
async function savedText(uri: vscode.Uri): Promise<string> {
  await saveIfDirty(uri);
  return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
}

/** Runs a worker job under a cancellable progress notification; `done` receives its result. */
async function withJobProgress<T>(
  deps: Deps,
  title: string,
  name: string,
  call: (token: vscode.CancellationToken, onProgress: Parameters<WorkerClient['score']>[3]) => Promise<T>,
  done: (res: T) => Promise<void>,
): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `${title} ${name}`, cancellable: true },
    async (progress, token) => {
      const tracker = new ProgressTracker();
      deps.status.setJob(`${title.toLowerCase()} ${name}…`);
      try {
        const res = await call(token, (p) => {
          const step = tracker.next(p);
          progress.report({ message: step.message, increment: step.increment });
          deps.status.setJob(`${p.stage} ${step.percent}%`);
        });
        await done(res);
      } catch (err) {
        reportError(deps, title, err);
      } finally {
        deps.status.setJob(undefined);
      }
    },
  );
}

/** Runs a scoring job; `settings` are those its options were built from (they key the stored results). */
async function runScoring(
  deps: Deps,
  uri: vscode.Uri,
  settings: Settings,
  fields: FieldChoice,
  options: ScoreParams['options'],
): Promise<void> {
  const content = await savedText(uri);
  const name = path.basename(uri.fsPath);
  await withJobProgress(
    deps,
    'Scoring',
    name,
    (token, onProgress) => deps.worker.score(uri.fsPath, options, token, onProgress),
    async (res) => {
      await deps.store.store(uri, res, content, resultSettings(settings, fields));
      deps.panel.show(uri);
      // New scores: open the file (a new user sees the colours at once) and bring the ranking forward.
      await showScoredFile(uri);
      void deps.panel.reveal();
      const bytes = (await vscode.workspace.fs.stat(uri)).size;
      if (isTooLargeForEditor(bytes)) {
        void vscode.window.showInformationMessage(largeFileNotice(name, bytes, res.rows.length));
      }
      const w = res.summary.warnings.length ? ` (${res.summary.warnings.length} warnings)` : '';
      const skipped = res.summary.counts.skipped ? `, ${res.summary.counts.skipped} skipped` : '';
      deps.output.appendLine(
        `[score] ${name}: ${res.rows.length} rows${skipped}${w} (${describeChoice(res.summary.fields)}; ${res.summary.head})`,
      );
      for (const warning of res.summary.warnings) deps.output.appendLine(`[score] warning: ${warning}`);
    },
  );
}

/** Opens a scored file in an editor unless it is open already or too large for the editor to hand over. */
async function showScoredFile(uri: vscode.Uri): Promise<void> {
  if (vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === uri.toString())) return;
  if (isTooLargeForEditor((await vscode.workspace.fs.stat(uri)).size)) return;
  await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: false });
}

export function registerCommands(context: vscode.ExtensionContext, deps: Deps): void {
  const { store, worker } = deps;
  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  const score = async (arg: unknown, chooseFields: boolean) => {
    const uri = target(arg);
    if (!requireScorable(uri)) return;
    let fields: FieldChoice | undefined;
    try {
      fields = await deps.fields.resolve(uri, chooseFields);
    } catch (err) {
      reportError(deps, 'Scoring', err);
      return;
    }
    if (!fields) return; // the user dismissed the field pick
    const settings = readSettings();
    let options;
    try {
      options = jobOptions(settings, fields);
    } catch (err) {
      reportError(deps, 'Scoring', err);
      return;
    }
    await runScoring(deps, uri, settings, fields, options);
  };
  reg('memorization.score', (arg) => score(arg, false));
  reg('memorization.chooseFields', (arg) => score(arg, true));

  reg('memorization.explainRow', async (arg, lineArg) => {
    const uri = target(arg);
    if (!requireScorable(uri)) return;
    const line =
      typeof lineArg === 'number'
        ? lineArg
        : vscode.window.activeTextEditor?.document.uri.toString() === uri.toString()
          ? vscode.window.activeTextEditor.selection.active.line + 1
          : undefined;
    const r = store.get(uri);
    if (!r || r.stale) {
      void vscode.window.showInformationMessage('Score this file first (results are missing or stale).');
      return;
    }
    const entry = line !== undefined ? r.index.at(line) : undefined;
    if (!entry) {
      void vscode.window.showInformationMessage('The cursor is not on a scored row.');
      return;
    }
    const fields = deps.fields.saved(uri) ?? {};
    let options;
    try {
      options = jobOptions(readSettings(), fields);
    } catch (err) {
      reportError(deps, 'Explaining', err);
      return;
    }
    const name = path.basename(uri.fsPath);
    await withJobProgress(
      deps,
      'Explaining',
      `line ${entry.row.line} of ${name}`,
      (token, onProgress) => worker.explain(uri.fsPath, options, [entry.position], token, onProgress),
      async (res) => {
        deps.store.addAttributions(uri, res.rows, res.completeness);
        deps.output.appendLine(
          `[explain] ${name} line ${entry.row.line}: ${res.seconds.toFixed(3)} s (${res.refit ? 'no fit was kept: scored the file first' : 'reused the fit of the last scoring'})`,
        );
      },
    );
  });

  reg('memorization.showRanking', async (arg) => {
    const uri = target(arg);
    if (uri && store.get(uri)) deps.panel.show(uri);
    await vscode.commands.executeCommand('memorization.ranking.focus');
  });

  reg('memorization.exportScores', async (arg) => {
    const uri = target(arg);
    const r = uri ? store.get(uri) : undefined;
    if (!uri || !r) {
      void vscode.window.showInformationMessage(
        'No scores for this file yet: run “Score memorization” first.',
      );
      return;
    }
    const dest = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.[^.]+$/, '') + '.scores.jsonl'),
      filters: { 'JSON Lines': ['jsonl'], JSON: ['json'] },
    });
    if (!dest) return;
    const body = dest.fsPath.endsWith('.json')
      ? JSON.stringify({ summary: r.summary, rows: r.rows }, null, 2)
      : r.rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
    await vscode.workspace.fs.writeFile(dest, Buffer.from(body, 'utf8'));
    void vscode.window.showInformationMessage(
      `Exported ${r.rows.length} rows to ${path.basename(dest.fsPath)}.`,
    );
  });

  reg('memorization.clear', async (arg) => {
    const uri = target(arg);
    if (!uri) return;
    await store.clear(uri);
    deps.panel.show(undefined);
  });
}
