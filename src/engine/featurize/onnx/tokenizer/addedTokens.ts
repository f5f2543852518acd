/**
 * Added tokens ([CLS], [MASK], <mask>, user-added words): the text is split at them before anything else, as Hugging
 * Face does, so a literal "[MASK]" in a row is that token. Tokens marked `normalized` are matched in the normalized
 * text, the others in the raw text.
 */
import { isSpaceCode } from './chars';
import type { Json } from './config';

export interface AddedTokenSpec {
  id: number;
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  special: boolean;
  normalized: boolean;
}

/** [start, end, isAddedToken] of a split. */
export type Split = [number, number, boolean];

const WS = /\s/u;

export function parseAddedTokens(list: readonly Json[]): AddedTokenSpec[] {
  return list.map((t) => {
    const special = (t.special as boolean | undefined) ?? false;
    return {
      id: t.id as number,
      content: t.content as string,
      lstrip: (t.lstrip as boolean | undefined) ?? false,
      rstrip: (t.rstrip as boolean | undefined) ?? false,
      special,
      normalized: (t.normalized as boolean | undefined) ?? !special,
    };
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Splits texts at a fixed set of literal tokens: the longest token at the leftmost position, as the library does. */
export class AddedTokenSplitter {
  private readonly re: RegExp | null;

  /** `byContent`: the spec of each literal (for its lstrip / rstrip). */
  constructor(
    readonly tokens: readonly string[],
    private readonly byContent: ReadonlyMap<string, AddedTokenSpec>,
  ) {
    const lits = [...new Set(tokens.filter((t) => t.length > 0))].sort((a, b) => b.length - a.length);
    // Alternatives longest first: at the leftmost matching position the regex takes the longest literal.
    this.re = lits.length ? new RegExp(lits.map(escape).join('|'), 'g') : null;
  }

  /** Whether any literal contains whitespace (then a split can straddle a space). */
  get spansWhitespace(): boolean {
    return this.tokens.some((t) => WS.test(t));
  }

  split(s: string): Split[] {
    const out: Split[] = [];
    if (!this.re) {
      if (s.length > 0) out.push([0, s.length, false]);
      return out;
    }
    let start = 0;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(s); m !== null; m = this.re.exec(s)) {
      if (m.index > start) out.push([start, m.index, false]);
      out.push([m.index, m.index + m[0].length, true]);
      start = m.index + m[0].length;
    }
    if (start < s.length) out.push([start, s.length, false]);
    // lstrip/rstrip of added tokens eat the whitespace next to them.
    for (let k = 0; k < out.length; k++) {
      if (!out[k][2]) continue;
      const spec = this.byContent.get(s.slice(out[k][0], out[k][1]));
      if (spec?.lstrip && k > 0 && !out[k - 1][2]) {
        const p = out[k - 1];
        while (p[1] > p[0] && isSpaceCode(s.charCodeAt(p[1] - 1))) p[1]--;
      }
      if (spec?.rstrip && k + 1 < out.length && !out[k + 1][2]) {
        const q = out[k + 1];
        while (q[0] < q[1] && isSpaceCode(s.charCodeAt(q[0]))) q[0]++;
      }
    }
    return out;
  }
}
