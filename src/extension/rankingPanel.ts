/** The ranking view: a webview that pages through the current file's scored rows. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { isTooLargeForEditor } from './largeFiles';
import { panelHistograms } from './histogram';
import { RowQuery, type RowText } from './paging';
import type { FromPanel, ToPanel } from './panelProtocol';
import type { FileResults, ResultsStore } from './resultsStore';
import { RowTextDecoder } from './rowText';

/** Per-results state: the decoder, the cached sort order and the histograms (dropped with the results). */
interface PanelData {
  query: RowQuery;
  histogram: Extract<ToPanel, { type: 'histogram' }>;
}

export class RankingPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'memorization.ranking';
  private view: vscode.WebviewView | undefined;
  private current: vscode.Uri | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private readonly data = new WeakMap<FileResults, PanelData>();
  /** What the webview shows now. */
  private shown: { results: FileResults; stale: boolean } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: ResultsStore,
  ) {
    this.subs.push(
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
      const decoder = new RowTextDecoder(r.lines, {
        format: r.summary.format,
        text: r.summary.fields.text ?? [],
        numeric: r.summary.fields.numeric,
      });
      const text: RowText = {
        plainLower: (line) => decoder.plainLower(line),
        // Stale results may sit on changed lines: no heat then, only the text.
        snippet: (line, tokens) => decoder.snippet(line, r.stale ? undefined : tokens),
      };
      const classes = r.summary.classes.map((c) => c.name);
      d = {
        query: new RowQuery(r.rows, text),
        histogram: { type: 'histogram', classes, histograms: panelHistograms(r.rows, classes) },
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
      const page = r ? this.dataFor(r).query.page(m) : { rows: [], total: 0 };
      this.post({ type: 'page', ...page, offset: m.offset, seq: m.seq });
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
    <button id="mode-memorized" type="button" role="radio" aria-checked="true"
      title="Rows the model had to memorize: memorization score M(z), largest first">Most memorized</button>
    <button id="mode-mislabeled" type="button" role="radio" aria-checked="false"
      title="Rows ranked by training loss −log P(label|x), largest first">Likely mislabeled</button>
  </div>
  <div id="explain" class="explain"></div>
  <div class="controls">
    <select id="label" aria-label="Filter by label"><option value="">All labels</option></select>
    <input id="text" type="search" placeholder="Filter text or id" aria-label="Filter by text or id">
  </div>
  <div class="controls">
    <label class="sort-label" for="sort">Sort</label>
    <select id="sort" aria-label="Sort by">
      <option value="rank">Memorization score</option>
      <option value="loss">Loss −log P(label|x)</option>
      <option value="prob">P(label|x)</option>
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
<div id="status" role="status">No scored file. Run “Memorization: Score memorization”.</div>
<div id="list" tabindex="0" role="listbox" aria-label="Ranked rows">
  <div id="spacer"></div>
</div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}
