/** The ranking view: a webview that pages through the current file's scored rows. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { queryRows } from './paging';
import type { FromPanel, ToPanel } from './panelProtocol';
import type { ResultsStore } from './resultsStore';

export class RankingPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'memorization.ranking';
  private view: vscode.WebviewView | undefined;
  private current: vscode.Uri | undefined;
  private readonly subs: vscode.Disposable[] = [];

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

  /** Makes `uri` the panel's file and tells the webview to reload. */
  show(uri: vscode.Uri | undefined): void {
    this.current = uri;
    const r = uri ? this.store.get(uri) : undefined;
    this.post({
      type: 'reset',
      file: r ? vscode.workspace.asRelativePath(r.uri) : null,
      labels: r ? r.summary.classes.map((c) => c.name) : [],
      total: r?.rows.length ?? 0,
      stale: !!r?.stale,
    });
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
      this.show(active && this.store.get(active) ? active : this.current);
    } else if (m.type === 'getPage') {
      const r = this.current ? this.store.get(this.current) : undefined;
      const page = r ? queryRows(r.rows, (line) => r.lines[line - 1] ?? '', m) : { rows: [], total: 0 };
      this.post({ type: 'page', ...page, offset: m.offset, seq: m.seq });
    } else if (m.type === 'reveal' && this.current && Number.isInteger(m.line) && m.line > 0) {
      void this.reveal(this.current, m.line);
    }
  }

  private async reveal(uri: vscode.Uri, line: number): Promise<void> {
    const editor = await vscode.window.showTextDocument(uri, { preserveFocus: false, preview: false });
    const l = Math.min(line - 1, editor.document.lineCount - 1);
    const range = editor.document.lineAt(l).range;
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
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
<style>
  body { padding: 0; margin: 0; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
  .bar { display: flex; gap: 4px; padding: 4px; align-items: center; flex-wrap: wrap; }
  .bar input, .bar select { background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); padding: 2px 4px; }
  .bar input { flex: 1; min-width: 80px; }
  #status { padding: 2px 6px; opacity: 0.8; }
  #scroller { position: relative; overflow: auto; height: calc(100vh - 64px); outline: none; }
  #scroller:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
  table { border-collapse: collapse; width: 100%; table-layout: fixed; }
  thead th { position: sticky; top: 0; background: var(--vscode-sideBar-background, var(--vscode-editor-background)); cursor: pointer; text-align: left; font-weight: 600; z-index: 1; }
  th, td { height: 22px; padding: 0 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.wrong { color: var(--vscode-errorForeground); }
  tr.row { cursor: pointer; }
  tr.row:hover { background: var(--vscode-list-hoverBackground); }
  tr.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
</style>
<title>Memorization ranking</title>
</head>
<body>
<div class="bar">
  <select id="label" aria-label="Filter by label"><option value="">All labels</option></select>
  <input id="text" type="search" placeholder="Filter text or id" aria-label="Filter by text">
</div>
<div id="status">No scored file. Run “Memorization: Score memorization”.</div>
<div id="scroller" tabindex="0" role="grid">
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
