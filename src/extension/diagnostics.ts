/** Problems panel: Information diagnostics for the top 20 rows of each scored (non-stale) file. */
import * as vscode from 'vscode';
import type { ResultsStore } from './resultsStore';

export const TOP_DIAGNOSTICS = 20;

export class TopRowDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('memorization');
  private readonly sub: vscode.Disposable;

  constructor(private readonly store: ResultsStore) {
    this.sub = store.onDidChange((uri) => this.update(uri));
  }

  update(uri: vscode.Uri): void {
    const r = this.store.get(uri);
    if (!r || r.stale) return this.collection.delete(uri);
    const top = [...r.rows].sort((a, b) => a.rank - b.rank).slice(0, TOP_DIAGNOSTICS);
    // The whole first line of the row when the document is open; else a range the editor clamps to the line.
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    this.collection.set(
      uri,
      top.map((row) => {
        const len = doc && row.line <= doc.lineCount ? doc.lineAt(row.line - 1).text.length : 10_000;
        const d = new vscode.Diagnostic(
          new vscode.Range(row.line - 1, 0, row.line - 1, len),
          `Memorization rank ${row.rank}/${r.rows.length} (score ${row.score.toPrecision(4)}, ` +
            `percentile ${row.percentile.toFixed(1)}): label ${JSON.stringify(row.label)}, ` +
            `predicted ${JSON.stringify(row.pred)}, P(y|x)=${row.prob.toFixed(3)}`,
          vscode.DiagnosticSeverity.Information,
        );
        d.source = 'memorization';
        return d;
      }),
    );
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}
