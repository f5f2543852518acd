/**
 * The ranking view: a webview that pages through the current file's scored rows (most memorized, likely mislabeled,
 * filtered by label, reason and text) and the groups of near-identical rows ("Duplicates"). The host pages, the
 * webview asks; the worker serves the row text. Also owns `memorization.revealLine`, the hover's line links.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { DuplicateQuery } from './duplicateGroups';
import { scoredOnText } from './explainText';
import { isTooLargeForEditor } from './largeFiles';
import { panelHistograms } from './histogram';
import { RowQuery, type RowText } from './paging';
import type { FromPanel, PanelFacts, ToPanel } from '../protocol/panel';
import type { RowTextParams } from '../protocol/messages';
import type { ScoreSummary } from '../protocol/results';
import type { FileResults, ResultsStore } from './resultsStore';
import type { WorkerClient } from './workerClient';

/** Per-results state: the cached row order, the duplicate groups, the histograms and facts (dropped with the results). */
interface PanelData {
  query: RowQuery;
  duplicates: DuplicateQuery;
  histogram: Extract<ToPanel, { type: 'histogram' }>;
  facts: PanelFacts;
}

/** The panel's facts about a summary: what was scored on, reason counts, the duplicate groups, the group table. */
export function panelFacts(s: ScoreSummary, duplicates: { size: number; rowCount: number }): PanelFacts {
  const facts: PanelFacts = { scoredOn: scoredOnText(s) };
  if (s.reasons) facts.reasonCounts = s.reasons.counts;
  if (s.duplicates)
    facts.duplicates = { listed: duplicates.size, total: s.duplicates.total, rows: duplicates.rowCount };
  if (s.groups) facts.groups = s.groups;
  return facts;
}

export class RankingPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'memorization.ranking';
  static readonly revealCommand = 'memorization.revealLine';
  private view: vscode.WebviewView | undefined;
  private current: vscode.Uri | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private readonly data = new WeakMap<FileResults, PanelData>();
  /** What the webview shows now. */
  private shown: { results: FileResults; stale: boolean } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: ResultsStore,
    private readonly worker: WorkerClient,
  ) {
    this.subs.push(
      // The hover's line links: [file uri, 1-based line].
      vscode.commands.registerCommand(RankingPanel.revealCommand, (file: unknown, line: unknown) => {
        if (typeof file !== 'string' || !Number.isInteger(line) || (line as number) < 1) return;
        const uri = vscode.Uri.parse(file, true);
        if (uri.scheme === 'file') return this.revealLine(uri, line as number);
      }),
      store.onDidChange((uri) => {
        if (!this.current || uri.toString() === this.current.toString()) this.show(uri);
      }),
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && this.store.get(e.document.uri)) this.show(e.document.uri);
      }),
    );
  }

  private dataFor(r: FileResults): PanelData {
    let d = this.data.get(r);
    if (!d) {
      // The worker reads and decodes the file, with the fields the results were scored with.
      const f = r.summary.fields;
      const base: Omit<RowTextParams, 'lines'> = {
        file: r.uri.fsPath,
        data: f.numeric
          ? { label: f.label, id: f.id, tabular: true }
          : { text: f.text, label: f.label, id: f.id },
      };
      const text: RowText = {
        matching: async (needle) => new Set(await this.worker.findRows({ ...base, text: needle })),
        decoded: async (lines) => (await this.worker.rowText({ ...base, lines: [...lines] })).rows,
      };
      const classes = r.summary.classes.map((c) => c.name);
      // Stale results may sit on changed lines: no heat then, only the text.
      const duplicates = new DuplicateQuery(r.summary.duplicates?.groups ?? [], r.rows, text, !r.stale);
      d = {
        query: new RowQuery(r.rows, text, !r.stale),
        duplicates,
        histogram: { type: 'histogram', classes, histograms: panelHistograms(r.rows, classes) },
        facts: panelFacts(r.summary, duplicates),
      };
      this.data.set(r, d);
    }
    return d;
  }

  /**
   * Makes `uri` the panel's file and tells the webview to reload, unless it already shows these very results (so that
   * switching editors, or revealing a row, keeps the list's scroll position and selection).
   */
  show(uri: vscode.Uri | undefined, force = false): void {
    this.current = uri;
    const r = uri ? this.store.get(uri) : undefined;
    if (!force && r && this.shown?.results === r && this.shown.stale === r.stale) return;
    this.shown = r ? { results: r, stale: r.stale } : undefined;
    this.post({
      type: 'reset',
      file: r ? vscode.workspace.asRelativePath(r.uri) : null,
      labels: r ? r.summary.classes.map((c) => c.name) : [],
      total: r?.rows.length ?? 0,
      stale: !!r?.stale,
      attributed: r ? r.rows.reduce((n, row) => n + (row.tokens?.length ? 1 : 0), 0) : 0,
      facts: r ? this.dataFor(r).facts : undefined,
    });
    this.post(r ? this.dataFor(r).histogram : { type: 'histogram', classes: [], histograms: [] });
  }

  /**
   * Brings the view forward (opening its activity-bar container) without taking focus from the editor. Used when a
   * scoring job completes.
   */
  async reveal(): Promise<void> {
    if (this.view) this.view.show(true);
    else await vscode.commands.executeCommand(`${RankingPanel.viewId}.focus`, { preserveFocus: true });
  }

  private post(msg: ToPanel): void {
    void this.view?.webview.postMessage(msg);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
      ],
    };
    webview.html = this.html(webview);
    this.subs.push(
      webview.onDidReceiveMessage((m: FromPanel) => this.onMessage(m)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  private onMessage(m: FromPanel): void {
    if (m.type === 'ready') {
      const active = vscode.window.activeTextEditor?.document.uri;
      this.show(active && this.store.get(active) ? active : this.current, true);
    } else if (m.type === 'getPage') {
      const r = this.current ? this.store.get(this.current) : undefined;
      const empty = { rows: [], total: 0 };
      void (r ? this.dataFor(r).query.page(m) : Promise.resolve(empty))
        .catch(() => empty)
        .then((page) => this.post({ type: 'page', ...page, offset: m.offset, seq: m.seq }));
    } else if (m.type === 'getDuplicates') {
      const r = this.current ? this.store.get(this.current) : undefined;
      const empty = { groups: [], total: 0 };
      void (r ? this.dataFor(r).duplicates.page(m) : Promise.resolve(empty))
        .catch(() => empty)
        .then((page) => this.post({ type: 'duplicates', ...page, offset: m.offset, seq: m.seq }));
    } else if (m.type === 'reveal' && this.current && Number.isInteger(m.line) && m.line > 0) {
      void this.revealLine(this.current, m.line);
    }
  }

  private async revealLine(uri: vscode.Uri, line: number): Promise<void> {
    if (isTooLargeForEditor((await vscode.workspace.fs.stat(uri)).size)) {
      // Above 50 MB the document never reaches extensions (showTextDocument would fail), but the workbench can
      // still open it and move the cursor there.
      const at = new vscode.Range(line - 1, 0, line - 1, 0);
      await vscode.commands.executeCommand('vscode.open', uri, { selection: at, preview: false });
      return;
    }
    const editor = await vscode.window.showTextDocument(uri, { preserveFocus: false, preview: false });
    const l = Math.min(line - 1, editor.document.lineCount - 1);
    const range = editor.document.lineAt(l).range;
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel.css'));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `img-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Memorization ranking</title>
</head>
<body>
<header class="toolbar">
  <div class="modes" role="radiogroup" aria-label="View">
    <button id="mode-memorized" type="button" role="radio" aria-checked="true" aria-label="Most memorized"
      title="Most memorized: memorization score M(z), largest first"><span class="long">Most memorized</span><span class="short">Memorized</span></button>
    <button id="mode-mislabeled" type="button" role="radio" aria-checked="false" aria-label="Likely mislabeled"
      title="Likely mislabeled: training loss −log P(label|x), largest first"><span class="long">Likely mislabeled</span><span class="short">Mislabeled</span></button>
    <button id="mode-duplicates" type="button" role="radio" aria-checked="false" aria-label="Duplicates"
      title="Duplicates: groups of rows with the same or near-identical text, their labels side by side">Duplicates</button>
  </div>
  <div id="explain" class="explain"><span id="explain-mode"></span><span id="explain-model" class="scored-on"></span></div>
  <div class="controls filters">
    <select id="label" aria-label="Filter by label"><option value="">All labels</option></select>
    <select id="reason" aria-label="Filter by reason"><option value="">All reasons</option></select>
    <input id="text" type="search" placeholder="Filter text or id" aria-label="Filter by text or id">
  </div>
  <div class="controls sorting">
    <label class="sort-label" for="sort">Sort</label>
    <select id="sort" aria-label="Sort by">
      <option value="rank">Memorization score</option>
      <option value="loss">Loss −log P(label|x)</option>
      <option value="prob">P(label|x)</option>
      <option value="estimate">Retraining estimate</option>
      <option value="label">Label</option>
      <option value="pred">Prediction</option>
      <option value="id">Id</option>
      <option value="line">Line in file</option>
    </select>
    <button id="dir" type="button" class="icon-button" aria-label="Sort direction"></button>
  </div>
</header>
<details id="histogram">
  <summary id="histogram-title">Score histogram by class</summary>
  <div class="histogram-tools">
    <label><input id="log" type="checkbox" checked> Log-spaced bins</label>
    <span id="histogram-note" class="note"></span>
  </div>
  <div class="chart-box"><canvas id="chart" role="img" aria-label="Histogram"></canvas></div>
</details>
<details id="groups" hidden>
  <summary id="groups-title">Memorization by group</summary>
  <p id="groups-note" class="note"></p>
  <div id="groups-table" class="table-box"></div>
</details>
<div id="status" role="status">No scored file. Run “Memorization: Score memorization”.</div>
<div id="list" tabindex="0" role="listbox" aria-label="Ranked rows">
  <div id="spacer"></div>
</div>
<div id="dups" hidden aria-label="Groups of near-identical rows">
  <div id="dups-groups"></div>
  <button id="dups-more" type="button" class="more-button" hidden>Show more groups</button>
</div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}
