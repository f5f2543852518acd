/** Status bar item: worker backend and job state for the active file. */
import * as vscode from 'vscode';
import { backendTooltip, shortBackend } from './backendLabel';
import type { ResultsStore } from './resultsStore';
import { SCORABLE } from './scorable';
import type { WorkerClient } from './workerClient';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private job: string | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly store: ResultsStore,
    private readonly worker: WorkerClient,
    private readonly backendSetting: () => string,
  ) {
    this.item.command = 'memorization.showRanking';
    this.item.name = 'Memorization';
    this.subs = [
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      // A file above 50 MB never becomes a text editor for extensions: follow the active tab too.
      vscode.window.tabGroups.onDidChangeTabs(() => this.update()),
      store.onDidChange(() => this.update()),
      worker.onDidChangeState(() => this.update()),
    ];
    this.update();
  }

  setJob(text: string | undefined): void {
    this.job = text;
    this.update();
  }

  update(): void {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri =
      vscode.window.activeTextEditor?.document.uri ??
      (tab instanceof vscode.TabInputText ? tab.uri : undefined);
    const r = uri ? this.store.get(uri) : undefined;
    let state: string;
    let icon = '$(beaker)';
    if (this.job) {
      state = this.job;
      icon = '$(sync~spin)';
    } else if (r?.stale) {
      state = `stale: ${r.staleReason ?? 'rescore'}`;
      icon = '$(warning)';
    } else if (r) state = `${r.rows.length} rows scored`;
    else state = this.worker.running ? 'idle' : 'worker not started';
    const short = shortBackend(r?.summary.backends);
    this.item.text = `${icon} Memorization: ${state}${short ? ` · ${short}` : ''}`;
    const backend = backendTooltip(
      r?.summary.backends,
      r?.summary.backendNotes,
      this.worker.workerInfo,
      this.backendSetting(),
    );
    this.item.tooltip = `${backend}\nWorker: ${
      this.worker.workerInfo
        ? `v${this.worker.workerInfo.version}, pid ${this.worker.workerInfo.pid}`
        : 'not running'
    }\nClick to show the ranking.`;
    if (this.job || r || (uri && SCORABLE.test(uri.fsPath))) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
    this.item.dispose();
  }
}
