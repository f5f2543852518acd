/** A fixed set of decoration types (3 row tiers, 10 token buckets), applied to visible ranges only, throttled. */
import * as vscode from 'vscode';
import type { Settings } from './config';
import type { ResultsStore } from './resultsStore';
import { TIERS, type Tier, tierOf } from './tiers';
import { BUCKET_COUNT, bucketColor, bucketOf, maxAbsAttribution, strongestTokens } from './tokenColors';

const TIER_STYLE: Record<Exclude<Tier, 'none'>, { bg: string; ruler: string }> = {
  top1: { bg: 'rgba(220, 50, 50, 0.20)', ruler: 'rgba(220, 50, 50, 0.9)' },
  top5: { bg: 'rgba(230, 130, 30, 0.15)', ruler: 'rgba(230, 130, 30, 0.8)' },
  top10: { bg: 'rgba(210, 180, 40, 0.11)', ruler: 'rgba(210, 180, 40, 0.7)' },
};
const MARGIN_LINES = 30;
const THROTTLE_MS = 100;

export class Decorator implements vscode.Disposable {
  private readonly tierTypes = new Map<Exclude<Tier, 'none'>, vscode.TextEditorDecorationType>();
  private readonly bucketTypes: vscode.TextEditorDecorationType[] = [];
  /** Text the model never saw (cut off at its max length): dimmed, dotted, never colored. */
  private readonly truncatedType = vscode.window.createTextEditorDecorationType({
    opacity: '0.55',
    textDecoration: 'underline dotted',
  });
  private readonly pending = new Set<vscode.TextEditor>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly store: ResultsStore,
    private readonly settings: () => Settings,
  ) {
    for (const tier of TIERS) {
      const s = TIER_STYLE[tier];
      this.tierTypes.set(
        tier,
        vscode.window.createTextEditorDecorationType({
          isWholeLine: true,
          backgroundColor: s.bg,
          overviewRulerColor: s.ruler,
          overviewRulerLane: vscode.OverviewRulerLane.Right,
        }),
      );
    }
    for (let b = 0; b < BUCKET_COUNT; b++) {
      this.bucketTypes.push(
        vscode.window.createTextEditorDecorationType({
          backgroundColor: bucketColor(b),
          borderRadius: '2px',
        }),
      );
    }
    this.subs.push(
      vscode.window.onDidChangeVisibleTextEditors((eds) => eds.forEach((e) => this.schedule(e))),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.schedule(e.textEditor)),
      store.onDidChange((uri) => this.refreshUri(uri)),
    );
  }

  refreshUri(uri: vscode.Uri): void {
    for (const e of vscode.window.visibleTextEditors)
      if (e.document.uri.toString() === uri.toString()) this.schedule(e);
  }

  refreshAll(): void {
    vscode.window.visibleTextEditors.forEach((e) => this.schedule(e));
  }

  /** Throttled: at most one pass per 100 ms. */
  schedule(editor: vscode.TextEditor): void {
    this.pending.add(editor);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const eds = [...this.pending];
      this.pending.clear();
      eds.forEach((e) => this.apply(e));
    }, THROTTLE_MS);
  }

  private clear(editor: vscode.TextEditor): void {
    for (const t of this.tierTypes.values()) editor.setDecorations(t, []);
    for (const t of this.bucketTypes) editor.setDecorations(t, []);
    editor.setDecorations(this.truncatedType, []);
  }

  private apply(editor: vscode.TextEditor): void {
    const results = this.store.get(editor.document.uri);
    if (!results || results.stale) return this.clear(editor);
    const s = this.settings();
    const tiers = new Map<Exclude<Tier, 'none'>, vscode.Range[]>(TIERS.map((t) => [t, []]));
    const buckets: vscode.Range[][] = this.bucketTypes.map(() => []);
    const truncated: vscode.Range[] = [];
    const seen = new Set<number>();
    for (const vr of editor.visibleRanges) {
      const from = Math.max(1, vr.start.line + 1 - MARGIN_LINES);
      const to = vr.end.line + 1 + MARGIN_LINES;
      for (const entry of results.index.inRange(from, to)) {
        if (seen.has(entry.position)) continue;
        seen.add(entry.position);
        const row = entry.row;
        const tier = tierOf(row.percentile, s.tierThresholds);
        if (tier !== 'none') tiers.get(tier)!.push(new vscode.Range(entry.first - 1, 0, entry.last - 1, 0));
        for (const r of row.truncated ?? [])
          truncated.push(new vscode.Range(r.line - 1, r.start, r.line - 1, r.end));
        if (!row.tokens?.length) continue;
        const max = maxAbsAttribution(row.tokens);
        for (const t of strongestTokens(row.tokens, s.maxTokensPerRow)) {
          const b = bucketOf(t.a, max);
          if (b >= 0) buckets[b].push(new vscode.Range(t.line - 1, t.start, t.line - 1, t.end));
        }
      }
    }
    for (const [tier, type] of this.tierTypes) editor.setDecorations(type, tiers.get(tier)!);
    this.bucketTypes.forEach((type, b) => editor.setDecorations(type, buckets[b]));
    editor.setDecorations(this.truncatedType, truncated);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.subs.forEach((d) => d.dispose());
    for (const t of this.tierTypes.values()) t.dispose();
    this.bucketTypes.forEach((t) => t.dispose());
    this.truncatedType.dispose();
  }
}
