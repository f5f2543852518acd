/**
 * Text from the user's files (ids, labels, bad lines inside error messages, field names) reaches the terminal. A
 * control character there is an instruction to the terminal, not text: ESC starts sequences that retitle the window,
 * move the cursor or rewrite what was printed, and bidi controls reorder what the reader sees. Everything memscore
 * prints goes through `forTerminal`, which shows such characters as escapes (`\x1b`, `\u202e`) instead.
 */

/**
 * C0 controls (but TAB/LF, handled below), DEL, C1 controls, and the Unicode bidi/format controls that reorder or
 * hide text (ALM, LRM/RLM, LRE..RLO, LRI..PDI, and the line/paragraph separators that break lines).
 */
function unsafe(c: number): boolean {
  return (
    (c < 0x20 && c !== 0x09 && c !== 0x0a) ||
    (c >= 0x7f && c <= 0x9f) ||
    c === 0x061c ||
    c === 0x200e ||
    c === 0x200f ||
    c === 0x2028 ||
    c === 0x2029 ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069)
  );
}

function escapeCode(code: number): string {
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `s` with every control character shown as an escape. Line breaks are kept when `lines` is true (a multi-line
 * report), else escaped too (`\n`: one message stays one line). A tab is shown as `\t` in single-line mode.
 */
export function forTerminal(s: string, { lines = false }: { lines?: boolean } = {}): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const bad = unsafe(c) || (!lines && (c === 0x0a || c === 0x09));
    if (!bad) continue;
    out += s.slice(from, i) + (c === 0x0a ? '\\n' : c === 0x09 ? '\\t' : escapeCode(c));
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}
