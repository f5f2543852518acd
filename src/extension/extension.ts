/** Extension entry point: wires the worker client, results store, decorations, hovers, diagnostics and views. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { readSettings, resultSettings } from './config';
import { FieldPicker } from './fieldPicker';
import { Decorator } from './decorations';
import { TopRowDiagnostics } from './diagnostics';
import { MemorizationHover, SCORABLE_SELECTOR } from './hover';
import { RankingPanel } from './rankingPanel';
import { registerReportCommand } from './reportCommand';
import { ResultsStore } from './resultsStore';
import { StatusBar } from './statusBar';
import { WorkerClient } from './workerClient';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Memorization Inspector');
  const store = new ResultsStore(context, output);
  const worker = new WorkerClient(
    context.extensionPath,
    output,
    () => readSettings().backend,
    context.globalStorageUri.fsPath,
  );
  const decorator = new Decorator(store, readSettings);
  const diagnostics = new TopRowDiagnostics(store);
  const status = new StatusBar(store, worker, () => readSettings().backend);
  const panel = new RankingPanel(context.extensionUri, store, worker);
  context.subscriptions.push(output, store, worker, decorator, diagnostics, status, panel);
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(RankingPanel.viewId, panel),
    vscode.languages.registerHoverProvider(SCORABLE_SELECTOR, new MemorizationHover(store)),
  );
  const fields = new FieldPicker(context.workspaceState, worker);
  registerCommands(context, { store, worker, status, panel, output, fields });
  // "Run memorization experiments" and its report panel.
  registerReportCommand(context, { store, worker, status, panel, output, fields });

  const load = (doc: vscode.TextDocument) =>
    void store
      .loadFor(doc, resultSettings(readSettings(), fields.saved(doc.uri)))
      .catch((err: Error) => output.appendLine(`[cache] ${err.message}`));
  vscode.workspace.textDocuments.forEach(load);

  const staleTimers = new Map<string, ReturnType<typeof setTimeout>>();
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(load),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!store.get(e.document.uri) || e.contentChanges.length === 0) return;
      const k = e.document.uri.toString();
      clearTimeout(staleTimers.get(k));
      staleTimers.set(
        k,
        setTimeout(() => {
          staleTimers.delete(k);
          store.markStale(e.document);
        }, 300),
      );
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('memorization')) return;
      decorator.refreshAll();
      status.update();
      vscode.workspace.textDocuments.forEach(load);
    }),
    { dispose: () => staleTimers.forEach((t) => clearTimeout(t)) },
  );
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
