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
    this.collection.set(
      uri,
      top.map((row) => {
        const len = r.lines[row.line - 1]?.length ?? 0;
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
