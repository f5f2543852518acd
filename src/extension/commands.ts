/** The memorization.* commands. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ErrorCodes } from '../protocol/messages';
import { type Settings, readSettings, resultSettings, scoreOptions } from './config';
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
  const e = err as { code?: number; message?: string };
  deps.output.appendLine(`[${what}] ${e?.message ?? String(err)}`);
  const kind =
    e?.code === ErrorCodes.dataError
      ? 'Data error'
      : e?.code === ErrorCodes.usageError
        ? 'Setting error'
        : 'Error';
  void vscode.window.showErrorMessage(`${what}: ${kind}: ${e?.message ?? String(err)}`);
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

/** Runs a scoring job; `settings` are those its options were built from (they key the stored results). */
async function runJob(
  deps: Deps,
  uri: vscode.Uri,
  settings: Settings,
  fields: FieldChoice,
  title: string,
  call: (
    token: vscode.CancellationToken,
    onProgress: Parameters<WorkerClient['score']>[3],
  ) => ReturnType<WorkerClient['score']>,
): Promise<void> {
  const content = await savedText(uri);
  const name = path.basename(uri.fsPath);
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
        await deps.store.store(uri, res, content, resultSettings(settings, fields));
        deps.panel.show(uri);
        // New scores: bring the ranking forward, without taking focus from the editor.
        if (title === 'Scoring') void deps.panel.reveal();
        const bytes = (await vscode.workspace.fs.stat(uri)).size;
        if (isTooLargeForEditor(bytes)) {
          void vscode.window.showInformationMessage(largeFileNotice(name, bytes, res.rows.length));
        }
        const w = res.summary.warnings.length ? ` (${res.summary.warnings.length} warnings)` : '';
        const skipped = res.summary.counts.skipped ? `, ${res.summary.counts.skipped} skipped` : '';
        deps.output.appendLine(
          `[score] ${name}: ${res.rows.length} rows${skipped}${w} (${describeChoice(res.summary.fields)})`,
        );
      } catch (err) {
        reportError(deps, title, err);
      } finally {
        deps.status.setJob(undefined);
      }
    },
  );
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
    const options = { ...scoreOptions(settings), ...fields };
    await runJob(deps, uri, settings, fields, 'Scoring', (token, onProgress) =>
      worker.score(uri.fsPath, options, token, onProgress),
    );
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
    const settings = readSettings();
    const options = { ...scoreOptions(settings), ...fields };
    await runJob(deps, uri, settings, fields, 'Explaining', (token, onProgress) =>
      worker.explain(uri.fsPath, options, [entry.position], token, onProgress),
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
