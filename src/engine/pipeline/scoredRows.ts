/**
 * A scoring job's rows, kept as the columns the stages produced (scores, ranks, the attributed rows' tokens, the
 * reasons) and turned into ScoredRow objects (src/protocol/results.ts) when asked: a million row objects are about
 * 290 MB, and `memscore score` only needs one at a time, to write it. `all()` builds them all once (what the worker
 * sends to the editor) and later changes (attributions added by "Explain this row") are made to them too.
 */
import type { ScoredRow, ScoredToken } from '../../protocol/results';
import type { RowScores } from '../influence/scores';
import type { ReasonsResult } from '../reasons/reasons';
import type { Prepared } from './prepare';

export class ScoredRows {
  private readonly attributed = new Map<number, { tokens: ScoredToken[]; gap: number }>();
  private reasons?: Pick<ReasonsResult, 'rows' | 'reasonsOf'>;
  private built?: ScoredRow[];

  constructor(
    private readonly prep: Pick<Prepared, 'rows' | 'classes' | 'truncated'>,
    private readonly scores: RowScores,
    private readonly rank: Int32Array,
    private readonly percentile: Float64Array,
  ) {}

  get length(): number {
    return this.prep.rows.length;
  }

  /** Row i as a ScoredRow (the same object every time once all() has run). */
  at(i: number): ScoredRow {
    if (this.built) return this.built[i];
    const r = this.prep.rows[i];
    const s = this.scores;
    const row: ScoredRow = {
      index: r.index,
      line: r.line,
      id: r.id,
      label: r.label,
      pred: this.prep.classes[s.pred[i]],
      prob: s.prob[i],
      loss: s.loss[i],
      score: s.score[i],
      selfInfluence: s.selfInfluence[i],
      rank: this.rank[i],
      percentile: this.percentile[i],
      ...(this.prep.truncated.has(i) ? { truncated: this.prep.truncated.get(i) } : {}),
    };
    const a = this.attributed.get(i);
    if (a) {
      row.tokens = a.tokens;
      row.completenessGap = a.gap;
    }
    if (this.reasons) row.reasons = this.reasons.reasonsOf(i);
    return row;
  }

  /** Every row as a ScoredRow, built once (with every row's reasons, their shared evidence shared). */
  all(): ScoredRow[] {
    if (!this.built) {
      // Every row's reasons at once first (reasonsOf then hands out those, with their shared evidence).
      void this.reasons?.rows;
      this.built = Array.from({ length: this.length }, (_, i) => this.at(i));
    }
    return this.built;
  }

  /** The `count` most memorized rows, most memorized first. */
  top(count: number): ScoredRow[] {
    const out: ScoredRow[] = [];
    const order = new Int32Array(Math.min(count, this.length)).fill(-1);
    for (let i = 0; i < this.length; i++) if (this.rank[i] <= order.length) order[this.rank[i] - 1] = i;
    for (const i of order) if (i >= 0) out.push(this.at(i));
    return out;
  }

  hasTokens(i: number): boolean {
    return this.attributed.has(i);
  }

  setTokens(i: number, tokens: ScoredToken[], gap: number): void {
    this.attributed.set(i, { tokens, gap });
    const row = this.built?.[i];
    if (row) {
      row.tokens = tokens;
      row.completenessGap = gap;
    }
  }

  setReasons(reasons: Pick<ReasonsResult, 'rows' | 'reasonsOf'>): void {
    this.reasons = reasons;
    if (this.built) this.built.forEach((r, i) => (r.reasons = reasons.rows[i]));
  }

  /** The completeness gap of every attributed row, by row position. */
  gaps(): { index: number; gap: number }[] {
    return [...this.attributed]
      .sort((a, b) => a[0] - b[0])
      .map(([i, a]) => ({ index: this.prep.rows[i].index, gap: a.gap }));
  }
}
