/**
 * The "Memorization report" editor panel: a webview (dist/report.js, chart.js bundled) that draws the experiments'
 * figures from src/report/charts.ts, the same configurations `memscore eval --png` renders. Strict CSP with a nonce,
 * local resources only; everything from the data reaches the page as text. The host saves PNGs (one figure, or the
 * whole report drawn by the webview as one image) and JSON.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SuiteReport } from '../engine/experiments/suite';
import { REPORT_PNGS, type FromReport, type ReportPng, type ToReport } from '../protocol/report';
import { pngFromDataUrl } from './reportModel';

export class ReportPanel implements vscode.Disposable {
  static readonly viewType = 'memorization.report';
  private panel: vscode.WebviewPanel | undefined;
  private current: { uri: vscode.Uri; report: SuiteReport } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: vscode.OutputChannel,
  ) {}

  /** Shows the report of `uri` (opening the panel beside the editor, or reusing it). */
  show(uri: vscode.Uri, report: SuiteReport): void {
    this.current = { uri, report };
    const title = `Memorization report: ${path.basename(uri.fsPath)}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, true);
      this.postReport();
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      ReportPanel.viewType,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')],
      },
    );
    this.panel = panel;
    panel.webview.html = this.html(panel.webview);
    const onMessage = panel.webview.onDidReceiveMessage((m: FromReport) => void this.onMessage(m));
    const onDispose = panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
      onMessage.dispose();
      onDispose.dispose();
    });
  }

  private post(msg: ToReport): void {
    void this.panel?.webview.postMessage(msg);
  }

  private postReport(): void {
    if (!this.current) {
      this.post({
        type: 'empty',
        message: 'No report yet: run “Memorization: Run memorization experiments”.',
      });
      return;
    }
    this.post({
      type: 'report',
      fileName: path.basename(this.current.uri.fsPath),
      report: this.current.report,
    });
  }

  private async onMessage(m: FromReport): Promise<void> {
    if (!m || typeof m !== 'object') return;
    if (m.type === 'ready') this.postReport();
    else if (m.type === 'savePng') await this.savePng(m.chart, m.dataUrl);
    else if (m.type === 'saveJson') await this.saveJson();
  }

  private defaultUri(suffix: string): vscode.Uri | undefined {
    if (!this.current) return undefined;
    return vscode.Uri.file(this.current.uri.fsPath.replace(/\.[^.\\/]+$/, '') + suffix);
  }

  private async savePng(chart: ReportPng, dataUrl: string): Promise<void> {
    if (!REPORT_PNGS.includes(chart)) return;
    const png = pngFromDataUrl(dataUrl);
    if (!png) {
      void vscode.window.showErrorMessage(
        `The ${chart === 'report' ? 'report' : 'chart'} could not be turned into a PNG.`,
      );
      return;
    }
    const dest = await vscode.window.showSaveDialog({
      defaultUri: this.defaultUri(`.${chart}.png`),
      filters: { 'PNG image': ['png'] },
      title: chart === 'report' ? 'Save the whole report as one PNG' : `Save the ${chart} chart`,
    });
    if (!dest) return;
    await vscode.workspace.fs.writeFile(dest, png);
    this.output.appendLine(`[report] saved ${dest.fsPath} (${png.length} bytes)`);
    void vscode.window.showInformationMessage(`Saved ${path.basename(dest.fsPath)}.`);
  }

  private async saveJson(): Promise<void> {
    if (!this.current) return;
    const dest = await vscode.window.showSaveDialog({
      defaultUri: this.defaultUri('.experiments.json'),
      filters: { JSON: ['json'] },
      title: 'Save the experiments as JSON',
    });
    if (!dest) return;
    const body = `${JSON.stringify(this.current.report, null, 2)}\n`;
    await vscode.workspace.fs.writeFile(dest, Buffer.from(body, 'utf8'));
    void vscode.window.showInformationMessage(`Saved ${path.basename(dest.fsPath)}.`);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'report.js'));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
  body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 8px 16px 24px; max-width: 1400px; }
  h1 { font-size: 1.3em; margin: 4px 0; }
  h2 { font-size: 1.1em; margin: 20px 0 6px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); padding-bottom: 3px; display: flex; align-items: center; gap: 8px; }
  h2 span { flex: 1; }
  h3 { font-size: 1em; margin: 14px 0 4px; }
  .meta, .note { opacity: 0.85; margin: 4px 0; }
  .note { border-left: 3px solid var(--vscode-textLink-foreground); padding-left: 8px; }
  .bar { display: flex; gap: 6px; margin: 8px 0; }
  button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; font: inherit; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
  button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
  canvas { display: block; max-width: 100%; height: auto !important; border: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); }
  .figure { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-start; }
  .figure > canvas { flex: 1 1 520px; min-width: 0; max-width: 800px; width: 800px !important; }
  .figure > .side { flex: 0 1 auto; min-width: 0; max-width: 100%; }
  table { border-collapse: collapse; margin: 6px 0; display: block; max-width: 100%; overflow-x: auto; }
  th, td { padding: 2px 12px 2px 0; text-align: left; white-space: nowrap; }
  th { white-space: normal; vertical-align: bottom; max-width: 11em; }
  td.text { white-space: normal; overflow-wrap: anywhere; max-width: 22em; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  th { font-weight: 600; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); }
  .big { font-size: 1.4em; font-weight: 600; }
</style>
<title>Memorization report</title>
</head>
<body>
<div id="root"><p class="meta">Loading the report…</p></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
