/**
 * Words for what a score means: each reason of a row with its evidence (the hover, the panel's chips) and what the
 * scores were computed on (the panel's explanation line). Pure: no VS Code import (unit-tested). Line numbers stay
 * separate parts of the words so that the hover can make each one a link and plain text can print it.
 */
import type { Reason, ReasonKind } from '../protocol/reasons';
import type { ScoreSummary } from '../protocol/results';

/** A phrase: plain text and raw-file line numbers (1-based), in order. */
export type Words = (string | { line: number })[];

/** Lines named in one reason's words at most (the evidence lists up to 10; the count is always complete). */
export const MAX_LINES = 5;

/** The lead phrase of each reason, as the hover and the chips' tooltips start it. */
export const REASON_TITLES: Record<ReasonKind, string> = {
  duplicate: 'duplicate',
  conflict: 'conflicting labels',
  mislabeled: 'likely mislabeled',
  rare: 'rare for its class',
  templated: 'templated',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A share 0..1 as a whole percentage that never rounds a partial share to 0% or 100%. */
export function percentWords(x: number): string {
  if (!Number.isFinite(x)) return '?%';
  const p = 100 * x;
  const r = Math.round(p);
  if (r >= 100 && p < 100) return `${Math.min(p, 99.9).toFixed(1)}%`;
  if (r <= 0 && p > 0) return '<1%';
  return `${r}%`;
}

/** ", lines 812, 3090" (at most MAX_LINES of them, then "and N more"); `total` counts the rows not listed too. */
function lineList(lines: readonly number[], total: number, suffix?: (k: number) => string): Words {
  if (!lines.length) return [];
  const shown = lines.slice(0, MAX_LINES);
  const out: Words = [shown.length === 1 && total === 1 ? ', line ' : ', lines '];
  shown.forEach((line, k) => {
    if (k) out.push(', ');
    out.push({ line });
    const s = suffix?.(k);
    if (s) out.push(s);
  });
  const more = total - shown.length;
  if (more > 0) out.push(` and ${more} more`);
  return out;
}

/** The evidence of one reason in words; `label` is the row's own label. */
export function reasonWords(reason: Reason, label: string): Words {
  switch (reason.kind) {
    case 'duplicate': {
      const e = reason.evidence;
      const what =
        e.exact && e.near
          ? `${e.exact} exact and ${plural(e.near, 'near-duplicate')}`
          : e.exact
            ? plural(e.exact, 'exact duplicate')
            : plural(e.near, 'near-duplicate');
      return [
        `${what} labelled ${label}`,
        ...lineList(
          e.rows.map((r) => r.line),
          e.count,
        ),
      ];
    }
    case 'conflict': {
      const e = reason.evidence;
      const counts = Object.entries(e.labels).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const labelled = counts
        .map(([l, n], k) =>
          k === 0 ? `${plural(n, 'near-identical row')} labelled ${l}` : `${n} labelled ${l}`,
        )
        .join(' and ');
      // With one other label every line has it; with more, each line says which.
      const rows = e.rows.slice(0, MAX_LINES);
      return [
        labelled,
        ...lineList(
          rows.map((r) => r.line),
          e.count,
          counts.length > 1 ? (k) => ` (${rows[k].label})` : undefined,
        ),
      ];
    }
    case 'mislabeled': {
      const e = reason.evidence;
      const agree = Math.round(e.predictedShare * e.k);
      const words = `the head and ${agree} of its ${e.k} nearest rows say ${e.predicted}`;
      const d = e.selfInfluenceDrop;
      if (d === undefined || !Number.isFinite(d)) return [words];
      return [
        `${words}; self-influence ${d >= 0 ? 'falls' : 'rises'} ${percentWords(Math.abs(d))} if it were ${e.predicted}`,
      ];
    }
    case 'rare': {
      const e = reason.evidence;
      const than =
        e.percentile >= 100 ? `any other ${label} row` : `${Math.floor(e.percentile)}% of ${label} rows`;
      return [`farther from the class mean than ${than} (${e.ratio.toFixed(2)}× the class median distance)`];
    }
    case 'templated': {
      const e = reason.evidence;
      return [
        `${e.count} of its ${e.k} nearest rows are labelled ${label} at cosine similarity ≥ ${e.similarity}`,
        ...lineList(
          e.rows.map((r) => r.line),
          e.count,
        ),
      ];
    }
  }
}

/** Words as plain text (line numbers as numbers). */
export function wordsText(words: Words): string {
  return words.map((w) => (typeof w === 'string' ? w : String(w.line))).join('');
}

/** "likely mislabeled: the head and 8 of its 10 nearest rows say spam; ...": one reason as one plain sentence. */
export function reasonSentence(reason: Reason, label: string): string {
  return `${REASON_TITLES[reason.kind]}: ${wordsText(reasonWords(reason, label))}`;
}

/** The commands the hover's links may run: the hover trusts these and nothing else. */
export const HOVER_COMMANDS = ['memorization.explainRow', 'memorization.revealLine'] as const;
export type HoverCommand = (typeof HOVER_COMMANDS)[number];

/** A command link's target: `command:ID?ARGS`, the arguments as URI-encoded JSON. */
export function commandUri(command: HoverCommand, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

/**
 * Text as Markdown that shows it literally: every ASCII punctuation character backslash-escaped (CommonMark), line
 * breaks as spaces. Unlike MarkdownString.appendText (which turns spaces into &nbsp;), a long sentence still wraps.
 */
export function markdownText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/**
 * The hover's "Why" block: one bullet per reason, its evidence in words, each line number a link that runs
 * `memorization.revealLine` with [file uri, line]. Data (labels) is escaped text.
 */
export function reasonsMarkdown(row: { label: string; reasons?: readonly Reason[] }, uri: string): string {
  if (!row.reasons?.length) return '';
  const out = ['**Why**\n\n'];
  for (const reason of row.reasons) {
    out.push(`- *${REASON_TITLES[reason.kind]}*: `);
    for (const w of reasonWords(reason, row.label)) {
      if (typeof w === 'string') out.push(markdownText(w));
      else {
        const line = Math.floor(w.line);
        out.push(`[${line}](${commandUri('memorization.revealLine', [uri, line])} "Go to line ${line}")`);
      }
    }
    out.push('\n');
  }
  out.push('\n');
  return out.join('');
}

/** What a featurizer's name in the summary pools into the head's input, in words. */
function featuresWords(featurizer: string): string {
  if (featurizer === 'words') return 'mean word vectors';
  if (featurizer === 'numeric') return 'summed numeric columns';
  if (featurizer.startsWith('onnx')) return `mean-pooled encoder outputs (${featurizer})`;
  if (featurizer.startsWith('embeddings')) return `precomputed embeddings (${featurizer})`;
  return `${featurizer} features`;
}

const CURVATURE_WORDS: Record<string, string> = {
  hessian: 'the Hessian',
  'gauss-newton': 'the Gauss-Newton matrix',
};

/**
 * What the scores were computed on, in one sentence: the head (kind, shape, parameters), its input and the solver with
 * the curvature it inverts, e.g. "Scores of a linear head (202 parameters) on standardized mean word vectors, exact
 * solver on the Hessian."
 */
export function scoredOnText(
  s: Pick<ScoreSummary, 'featurizer' | 'input' | 'model' | 'head' | 'solver' | 'curvature' | 'damping'>,
): string {
  // The head's one line ("mlp 100-64-2 tanh (6594 parameters, gauss-newton curvature, damping 0.001)") without the
  // curvature and damping, said once below.
  const rest = (s.head ?? '')
    .replace(/^\S+\s*/, '')
    .replace(/,\s*(hessian|gauss-newton) curvature/i, '')
    .replace(/,\s*damping [^,)]+/i, '');
  const kind = s.model === 'mlp' ? 'MLP' : s.model || 'linear';
  const article = /^[aeiou]/i.test(kind) || kind === 'MLP' ? 'an' : 'a';
  const input = s.input === 'standardized' ? 'standardized ' : s.input === 'raw' ? 'raw ' : '';
  const curvature = CURVATURE_WORDS[s.curvature] ?? s.curvature;
  const damping = s.damping ? ` + ${s.damping} I` : '';
  return (
    `Scores of ${article} ${kind} head${rest ? ` ${rest}` : ''} on ${input}${featuresWords(s.featurizer)}, ` +
    `${s.solver} solver on ${curvature}${damping}.`
  );
}
