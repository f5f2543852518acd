/**
 * Hovers on scored rows: token attribution details, or the row summary with an "Explain this row" link; both name
 * the row's reasons with their evidence, each line a link that reveals it.
 */
import * as vscode from 'vscode';
import type { ScoredRow } from '../protocol/results';
import { HOVER_COMMANDS, commandUri, reasonsMarkdown } from './explainText';
import type { ResultsStore } from './resultsStore';
import { SCORABLE_GLOB } from './scorable';
import { attributionRank, bucketOf, maxAbsAttribution } from './tokenColors';

export const SCORABLE_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file', pattern: SCORABLE_GLOB }];

const fmt = (v: number, d = 4) =>
  Number.isFinite(v) && v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4)
    ? v.toExponential(3)
    : v.toFixed(d);

function rowSummary(md: vscode.MarkdownString, row: ScoredRow, total: number, uri: vscode.Uri): void {
  md.appendMarkdown(
    `**Memorization** rank ${row.rank} of ${total} · percentile ${row.percentile.toFixed(1)}\n\n`,
  );
  md.appendMarkdown(
    `score \`${fmt(row.score)}\` · P(y|x) \`${fmt(row.prob, 3)}\` · loss \`${fmt(row.loss)}\`\n\n`,
  );
  md.appendMarkdown('label ');
  md.appendText(JSON.stringify(row.label));
  md.appendMarkdown(' · prediction ');
  md.appendText(JSON.stringify(row.pred));
  md.appendMarkdown(row.id ? ' · id ' : '');
  if (row.id) md.appendText(JSON.stringify(row.id));
  md.appendMarkdown('\n\n');
  if (row.reasons?.length) md.appendMarkdown(reasonsMarkdown(row, uri.toString()));
}

export class MemorizationHover implements vscode.HoverProvider {
  constructor(private readonly store: ResultsStore) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const results = this.store.get(document.uri);
    if (!results || results.stale) return undefined;
    const entry = results.index.at(position.line + 1);
    if (!entry) return undefined;
    const row = entry.row;
    const md = new vscode.MarkdownString(undefined, true);
    // Command links run only our own commands; the data in the hover is escaped text.
    md.isTrusted = { enabledCommands: [...HOVER_COMMANDS] };
    const tokens = row.tokens ?? [];
    const ti = tokens.findIndex(
      (t) => t.line === position.line + 1 && t.start <= position.character && position.character < t.end,
    );
    const cut = row.truncated?.find(
      (r) => r.line === position.line + 1 && r.start <= position.character && position.character < r.end,
    );
    if (cut && ti < 0) {
      md.appendMarkdown(
        "**Not scored**: this text is beyond the model's max length, so the encoder never saw it (no attribution).\n\n---\n\n",
      );
      rowSummary(md, row, results.rows.length, document.uri);
      return new vscode.Hover(md, new vscode.Range(cut.line - 1, cut.start, cut.line - 1, cut.end));
    }
    if (ti >= 0 && bucketOf(tokens[ti].a, maxAbsAttribution(tokens)) >= 0) {
      const t = tokens[ti];
      md.appendMarkdown('**Token** ');
      md.appendText(JSON.stringify(t.text));
      md.appendMarkdown(
        `\n\nattribution \`${fmt(t.a)}\` · rank ${attributionRank(tokens, ti)} of ${tokens.length} in this row\n\n`,
      );
      const pieces = t.word === undefined ? [] : tokens.filter((u) => u.word === t.word);
      if (pieces.length > 1) {
        md.appendMarkdown(`word of ${pieces.length} pieces `);
        md.appendText(JSON.stringify(pieces.map((u) => u.text).join(' ')));
        md.appendMarkdown(`: attribution \`${fmt(pieces.reduce((a, u) => a + u.a, 0))}\`\n\n`);
      }
      md.appendMarkdown('---\n\n');
      rowSummary(md, row, results.rows.length, document.uri);
      return new vscode.Hover(md, new vscode.Range(t.line - 1, t.start, t.line - 1, t.end));
    }
    rowSummary(md, row, results.rows.length, document.uri);
    const explain = commandUri('memorization.explainRow', [document.uri.toString(), row.line]);
    md.appendMarkdown(
      tokens.length
        ? `[Re-explain this row](${explain})`
        : `[Explain this row](${explain}) (token attributions)`,
    );
    return new vscode.Hover(md, new vscode.Range(entry.first - 1, 0, entry.last - 1, 0));
  }
}
