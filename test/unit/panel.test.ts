/**
 * The ranking panel's pure pieces: decoded row text and token heat (checked against the real engine's tokens),
 * sorting/filtering/paging at 100k rows (timed), per-class histograms, and the webview's row rendering (data only
 * ever as text).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { scoreDataset } from '../../src/engine/scoreDataset';
import { DEFAULT_BINS, histogram, panelHistograms } from '../../src/extension/histogram';
import { type PageSource, RowQuery, queryRows } from '../../src/extension/paging';
import { MISLABELED_SORT, type PanelRow } from '../../src/extension/panelProtocol';
import { FIELD_SEPARATOR, RowTextDecoder, snippet } from '../../src/extension/rowText';
import { BUCKET_COUNT, bucketColor, bucketOf, maxAbsAttribution } from '../../src/extension/tokenColors';
import {
  type MiniDocument,
  type MiniElement,
  type MiniText,
  formatNumber,
  renderRow,
} from '../../webview/render';
import { rng } from './helpers';

const root = resolve(__dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'memorization-panel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** As ResultsStore keeps a file's lines (resultsStore.ts imports vscode, so it is not loaded here). */
const splitLines = (text: string) => text.split(/\r\n|\r|\n/);

const WORDS = ['good', 'bad', 'great', 'awful', 'fine', 'poor', 'superb', 'dull', 'nice', 'broken'];

/** Every heat span of every attributed row covers exactly its token's decoded text. */
async function checkHeat(file: string, text: string, fields?: string[], numeric = false) {
  writeFileSync(file, text);
  const res = await scoreDataset(file, {
    attribute: 1000,
    steps: 4,
    text: fields,
    featurizer: numeric ? 'numeric' : undefined,
  });
  const dec = new RowTextDecoder(splitLines(text), {
    format: res.summary.format,
    text: res.summary.fields.text,
    numeric: res.summary.fields.numeric,
  });
  let spans = 0;
  let rowsWithHeat = 0;
  for (const row of res.rows) {
    assert.ok(row.tokens?.length, `row at line ${row.line} has tokens`);
    const s = dec.snippet(row.line, row.tokens, 100_000);
    const colored = row.tokens!.filter((t) => bucketOf(t.a, maxAbsAttribution(row.tokens!)) >= 0);
    assert.equal(s.heat?.length ?? 0, colored.length, `line ${row.line}: one heat span per coloured token`);
    for (const [k, h] of (s.heat ?? []).entries()) {
      assert.equal(s.text.slice(h.s, h.e), colored[k].text, `line ${row.line}: span ${k}`);
      assert.equal(h.a, colored[k].a);
    }
    spans += s.heat?.length ?? 0;
    if (s.heat?.length) rowsWithHeat++;
  }
  assert.ok(spans > 0 && rowsWithHeat > 0);
  return { res, dec };
}

test('rowText: JSONL text fields decoded (escapes resolved), heat spans match the engine tokens', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) {
    const pos = i % 2 === 0;
    const w = pos ? WORDS[(i * 3) % 10] : WORDS[(i * 7 + 1) % 10];
    lines.push(
      JSON.stringify({
        id: `r${i}`,
        subject: `Re: caf\u00e9 ${w} \u{1F600} "quoted"`,
        body: `${w} line one\n\tline\\two <b>${WORDS[i % 10]}</b> ${i}`,
        label: pos ? 'pos' : 'neg',
      }).replace('é', '\\u00e9'),
    );
  }
  // BOM on line 1 (the engine strips it; the store's copy may keep it), blank line, CRLF.
  const text = '\uFEFF' + lines.slice(0, 12).join('\r\n') + '\n\n' + lines.slice(12).join('\n') + '\n';
  const { res, dec } = await checkHeat(join(tmp, 'a.jsonl'), text, ['subject', 'body']);
  const first = dec.decode(res.rows.find((r) => r.id === 'r0')!.line)!;
  assert.equal(
    first.text,
    `Re: café good 😀 "quoted"${FIELD_SEPARATOR}good line one\n\tline\\two <b>good</b> 0`,
  );
  assert.equal(
    dec.snippet(res.rows[0].line).text.includes('\n'),
    false,
    'the snippet is one line (whitespace collapsed)',
  );
  assert.equal(dec.plainLower(1).startsWith('re: café'), true);
});

test('rowText: CSV with quoted multi-line fields and doubled quotes; numeric CSV as name=value', async () => {
  const rows = ['id,text,label'];
  for (let i = 0; i < 20; i++) {
    const w = WORDS[i % 10];
    rows.push(`r${i},"${w} said ""hi"", then
${WORDS[(i + 3) % 10]} ${i}",${i % 2 ? 'a' : 'b'}`);
  }
  const { res, dec } = await checkHeat(join(tmp, 'b.csv'), rows.join('\n') + '\n');
  assert.equal(dec.decode(res.rows.find((r) => r.id === 'r0')!.line)!.text, 'good said "hi", then\nawful 0');

  const r = rng(3);
  const num = ['x1\tx2\tlabel'];
  for (let i = 0; i < 30; i++)
    num.push(`${(r() * 4 - 2).toFixed(3)}\t${(r() * 10).toFixed(2)}\t${i % 3 ? 'u' : 'v'}`);
  const n = await checkHeat(join(tmp, 'c.tsv'), num.join('\n') + '\n', undefined, true);
  assert.match(
    n.dec.decode(2)!.text,
    new RegExp(`^x1=-?[\\d.]+${FIELD_SEPARATOR.replace(/\./g, '\\.')}x2=[\\d.]+$`),
  );
});

test('rowText: snippet shortening keeps heat inside the cut; undecodable lines fall back to the raw line', () => {
  const long = JSON.stringify({ text: `alpha ${'word '.repeat(100)}omega`, label: 'x' });
  const dec = new RowTextDecoder([long, 'not json'], { format: 'jsonl', text: ['text'] });
  const start = long.indexOf('alpha');
  const omega = long.indexOf('omega');
  const s = dec.snippet(
    1,
    [
      { line: 1, start, end: start + 5, a: 1 },
      { line: 1, start: omega, end: omega + 5, a: -2 },
    ],
    40,
  );
  assert.equal(s.text.length, 40);
  assert.ok(s.text.endsWith('…'));
  assert.deepEqual(s.heat, [{ s: 0, e: 5, b: bucketOf(1, 2), a: 1 }]);
  assert.equal(dec.snippet(2).text, 'not json');
  assert.equal(snippet('a\n  b', 10), 'a b');
  assert.equal(snippet('x'.repeat(20), 5), 'xxxx…');
  assert.equal(snippet('x'.repeat(5), 5), 'xxxxx');
});

test("panel.css: the heat classes .h0-.h9 have the editor decorations' colours", () => {
  const css = readFileSync(join(root, 'media/panel.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  /** Custom properties set by the rules whose selector list names `.h{b}`, and the .heat background. */
  const props = new Map<string, Record<string, string>>();
  for (const [, selectors, body] of css.matchAll(/([^{}]+)\{([^{}]*)\}/g))
    for (const sel of selectors.split(',').map((x) => x.trim())) {
      const got = props.get(sel) ?? {};
      for (const decl of body.split(';')) {
        const k = decl.indexOf(':');
        if (k > 0) got[decl.slice(0, k).trim()] = decl.slice(k + 1).trim();
      }
      props.set(sel, got);
    }
  assert.equal(props.get('.heat')?.['background-color'], 'rgba(var(--heat-rgb), var(--heat-alpha))');
  for (let b = 0; b < BUCKET_COUNT; b++) {
    const p = props.get(`.h${b}`);
    assert.ok(p, `.h${b} in panel.css`);
    assert.equal(`rgba(${p['--heat-rgb']}, ${p['--heat-alpha']})`, bucketColor(b), `.h${b}`);
  }
});

/** A synthetic scored dataset of n rows (JSONL lines and rows), deterministic. */
function synthetic(n: number) {
  const r = rng(7);
  const lines: string[] = [];
  const rows: PageSource[] = [];
  for (let i = 0; i < n; i++) {
    const label = ['ham', 'spam', 'other'][i % 3];
    const prob = Math.max(1e-6, Math.min(1, r()));
    lines.push(
      JSON.stringify({ id: `row${i}`, text: `message ${i} ${WORDS[i % 10]} ${WORDS[(i * 7) % 10]}`, label }),
    );
    rows.push({
      line: i + 1,
      rank: 0,
      id: `row${i}`,
      label,
      pred: r() < 0.9 ? label : 'spam',
      prob,
      loss: -Math.log(prob),
      score: Math.exp(4 * (r() - 1)) * -Math.log(r() + 1e-9), // heavy-tailed, positive
      percentile: 0,
    });
  }
  const byScore = rows.map((_, i) => i).sort((a, b) => rows[b].score - rows[a].score);
  byScore.forEach((i, k) => {
    rows[i].rank = k + 1;
    rows[i].percentile = 100 * (1 - k / n);
  });
  return { lines, rows };
}

function ms(t: number): string {
  return `${(performance.now() - t).toFixed(1)} ms`;
}

test('paging: 100k rows, sort/filter once per query, pages are cheap (timings printed)', () => {
  const n = 100_000;
  const { lines, rows } = synthetic(n);
  const dec = new RowTextDecoder(lines, { format: 'jsonl', text: ['text'] });
  const q = new RowQuery(rows, {
    plainLower: (l) => dec.plainLower(l),
    snippet: (l, t) => dec.snippet(l, t),
  });
  const req = { offset: 0, limit: 60, sort: { key: 'rank' as const, dir: 'asc' as const }, filter: {} };
  const timings: string[] = [];

  let t = performance.now();
  let p = q.page(req);
  timings.push(`sort by rank + first page ${ms(t)}`);
  assert.equal(p.total, n);
  assert.deepEqual(
    p.rows.slice(0, 3).map((x) => x.rank),
    [1, 2, 3],
  );

  // Scrolling: 200 page requests deep into the list hit the cached order.
  t = performance.now();
  for (let k = 0; k < 200; k++) p = q.page({ ...req, offset: (k * 487) % (n - 60) });
  const perPage = (performance.now() - t) / 200;
  timings.push(`cached page (60 rows, decoded snippets) ${perPage.toFixed(2)} ms`);
  assert.ok(perPage < 50, `a page took ${perPage} ms`);

  t = performance.now();
  p = q.page({ ...req, sort: MISLABELED_SORT });
  timings.push(`sort by loss (likely mislabeled) ${ms(t)}`);
  const maxLoss = Math.max(...rows.map((x) => x.loss));
  assert.equal(p.rows[0].loss, maxLoss);
  for (let k = 1; k < p.rows.length; k++) assert.ok(p.rows[k - 1].loss >= p.rows[k].loss);

  t = performance.now();
  p = q.page({ ...req, sort: { key: 'id', dir: 'asc' } });
  timings.push(`sort by id (strings, numeric collation) ${ms(t)}`);
  assert.deepEqual(
    p.rows.slice(0, 3).map((x) => x.id),
    ['row0', 'row1', 'row2'],
  );

  t = performance.now();
  p = q.page({ ...req, filter: { label: 'spam' } });
  timings.push(`filter by label ${ms(t)}`);
  assert.equal(p.total, Math.floor(n / 3) + (n % 3 > 1 ? 1 : 0));

  t = performance.now();
  p = q.page({ ...req, filter: { text: 'SUPERB' } });
  timings.push(`first text filter (decodes all 100k rows once) ${ms(t)}`);
  const expected = lines.filter((l) => (JSON.parse(l) as { text: string }).text.includes('superb')).length;
  assert.equal(p.total, expected);
  t = performance.now();
  p = q.page({ ...req, filter: { text: 'superb dull' } });
  timings.push(`next text filter (cached text) ${ms(t)}`);
  assert.ok(p.rows.every((x) => x.text.includes('superb dull')));

  const bytes = JSON.stringify({ type: 'page', ...q.page(req), offset: 0 }).length;
  timings.push(`page message ${bytes} bytes`);
  console.log(`[panel 100k] ${timings.join('; ')}`);
  assert.ok(bytes < 30_000);
});

test('paging: sort keys, directions, filters, bounds (small)', () => {
  const mk = (rank: number, label: string, score: number, loss: number) => ({
    line: rank + 1,
    rank,
    id: `r${rank}`,
    label,
    pred: label,
    prob: Math.exp(-loss),
    loss,
    score,
    percentile: 100 - rank,
  });
  const rows = [mk(3, 'ham', 1, 0.1), mk(1, 'spam', 3, 2), mk(2, 'ham', 2, NaN), mk(10, 'ham', 0.5, 5)];
  const text = (line: number) => `text of line ${line}`;
  const base = { offset: 0, limit: 10, sort: { key: 'rank' as const, dir: 'asc' as const }, filter: {} };
  const ranks = (p: { rows: PanelRow[] }) => p.rows.map((r) => r.rank);
  assert.deepEqual(ranks(queryRows(rows, text, base)), [1, 2, 3, 10]);
  assert.deepEqual(
    ranks(queryRows(rows, text, { ...base, sort: { key: 'rank', dir: 'desc' } })),
    [10, 3, 2, 1],
  );
  assert.deepEqual(ranks(queryRows(rows, text, { ...base, sort: MISLABELED_SORT })), [10, 1, 3, 2]);
  assert.deepEqual(ranks(queryRows(rows, text, { ...base, sort: { key: 'id', dir: 'asc' } })), [1, 2, 3, 10]);
  assert.deepEqual(
    ranks(queryRows(rows, text, { ...base, sort: { key: 'line', dir: 'desc' } })),
    [10, 3, 2, 1],
  );
  assert.deepEqual(
    ranks(queryRows(rows, text, { ...base, sort: { key: 'label', dir: 'desc' } })),
    [1, 2, 3, 10],
  );
  assert.equal(queryRows(rows, text, { ...base, filter: { label: 'ham' } }).total, 3);
  assert.deepEqual(ranks(queryRows(rows, text, { ...base, filter: { text: 'LINE 4' } })), [3]);
  assert.deepEqual(ranks(queryRows(rows, text, { ...base, filter: { text: ' r10 ' } })), [10]);
  assert.deepEqual(ranks(queryRows(rows, text, { ...base, offset: 1, limit: 2 })), [2, 3]);
  assert.deepEqual(ranks(queryRows(rows, text, { ...base, offset: -5, limit: 1e9 })), [1, 2, 3, 10]);
  assert.equal(queryRows([], text, base).total, 0);
});

test('histogram: per-class counts, log-spaced and linear bins, edge cases, small message', () => {
  const values = [0, 1e-12, 0.001, 0.01, 0.1, 1, 10, 100, NaN, 50];
  const cls = [0, 0, 0, 1, 1, 1, 0, 1, 0, -1];
  const log = histogram(values, cls, 2, 'score', 'log', 5);
  assert.equal(log.edges.length, 6);
  assert.ok(Math.abs(log.edges[0] - 100 * 1e-8) < 1e-15, 'floor: 8 decades below the max');
  assert.equal(log.edges[5], 100);
  for (let k = 1; k < 5; k++) assert.ok(Math.abs(log.edges[k] / log.edges[k - 1] - 10 ** 1.6) < 1e-9);
  assert.equal(log.below, 2, '0 and 1e-12 are below the floor');
  assert.equal(log.skipped, 1);
  const total = (h: typeof log) => h.counts.flat().reduce((a, b) => a + b, 0);
  assert.equal(total(log), 8);
  // Edges 1e-6, 3.98e-5, 1.58e-3, 0.063, 2.51, 100.
  assert.deepEqual(log.counts[0], [2, 1, 0, 0, 1]);
  assert.deepEqual(log.counts[1], [0, 0, 1, 2, 1]);
  const lin = histogram(values, cls, 2, 'score', 'linear', 4);
  assert.deepEqual(lin.edges, [0, 25, 50, 75, 100]);
  assert.deepEqual(lin.counts, [
    [4, 0, 0, 0],
    [3, 0, 0, 1],
  ]);
  assert.equal(lin.below, 0);
  // Degenerate inputs.
  assert.deepEqual(histogram([2, 2], [0, 0], 1, 'loss', 'linear').counts, [[2]]);
  assert.deepEqual(histogram([2, 2], [0, 0], 1, 'loss', 'log').counts, [[2]]);
  assert.deepEqual(histogram([0, -1], [0, 0], 1, 'loss', 'log').counts, [[2]]);
  assert.deepEqual(histogram([], [], 2, 'loss', 'log').counts, [[0], [0]]);

  const { rows } = synthetic(100_000);
  const t = performance.now();
  const hs = panelHistograms(rows, ['ham', 'other', 'spam']);
  const took = ms(t);
  assert.equal(hs.length, 4);
  for (const h of hs) {
    assert.equal(h.edges.length, DEFAULT_BINS + 1);
    assert.equal(total(h), 100_000);
    for (let k = 1; k < h.edges.length; k++) assert.ok(h.edges[k] > h.edges[k - 1]);
  }
  const bytes = JSON.stringify({
    type: 'histogram',
    classes: ['ham', 'other', 'spam'],
    histograms: hs,
  }).length;
  console.log(`[panel 100k] histograms (score, loss × linear, log) ${took}, message ${bytes} bytes`);
  assert.ok(bytes < 10_000);
  // Heavy tail: linear bins crowd the rows into the first bins, log-spaced bins spread them.
  const [linScore, logScore] = hs;
  const share = (h: typeof log) => Math.max(...h.counts[0]) / h.counts[0].reduce((a, b) => a + b, 0);
  assert.ok(share(linScore) > share(logScore));
});

class FakeText implements MiniText {
  constructor(public textContent: string | null) {}
}

class FakeElement implements MiniElement {
  textContent: string | null = null;
  className = '';
  title = '';
  readonly children: (FakeElement | FakeText)[] = [];
  readonly attrs = new Map<string, string>();
  constructor(readonly tag: string) {}
  appendChild(child: MiniElement | MiniText): unknown {
    this.children.push(child as FakeElement | FakeText);
    return child;
  }
  setAttribute(name: string, value: string): void {
    this.attrs.set(name, value);
  }
  set innerHTML(_v: string) {
    throw new Error('innerHTML must never be used');
  }
}

const fakeDoc: MiniDocument = {
  createElement: (tag) => new FakeElement(tag),
  createTextNode: (text) => new FakeText(text),
};

function walk(el: FakeElement, visit: (n: FakeElement | FakeText) => void): void {
  visit(el);
  for (const c of el.children) {
    if (c instanceof FakeElement) walk(c, visit);
    else visit(c);
  }
}

test('webview rendering: markup in data (<img onerror>, </script>) ends up as text nodes, never as elements', () => {
  const evil = '<img src=x onerror=alert(1)>';
  const close = '</script><script>alert(2)</script>';
  const text = `before ${evil} middle ${close} after`;
  const row: PanelRow = {
    line: 7,
    rank: 1,
    id: evil,
    label: '<b>spam</b>',
    pred: close,
    prob: 0.25,
    loss: -Math.log(0.25),
    score: 12.5,
    percentile: 100,
    text,
    heat: [{ s: text.indexOf(evil), e: text.indexOf(evil) + evil.length, b: 4, a: 0.75 }],
  };
  const el = renderRow(fakeDoc, row, 0, true) as FakeElement;
  assert.equal(el.tag, 'div');
  assert.equal(el.attrs.get('data-line'), '7');
  assert.equal(el.attrs.get('role'), 'option');
  assert.equal(el.attrs.get('aria-selected'), 'true');
  const tags = new Set<string>();
  const strings: string[] = [];
  walk(el, (n) => {
    if (n instanceof FakeElement) {
      tags.add(n.tag);
      if (n.children.length === 0 && n.textContent !== null) strings.push(n.textContent);
    } else strings.push(n.textContent ?? '');
  });
  assert.deepEqual([...tags].sort(), ['div', 'span'], 'only the renderer’s own elements');
  // The snippet: text node, heat <span> holding the markup as its text, text node.
  const snippetEl = el.children[1] as FakeElement;
  assert.equal(snippetEl.className, 'snippet');
  assert.deepEqual(
    snippetEl.children.map((c) =>
      c instanceof FakeText ? ['#text', c.textContent] : [c.className, c.textContent],
    ),
    [
      ['#text', 'before '],
      ['heat h4', evil],
      ['#text', ` middle ${close} after`],
    ],
  );
  assert.ok(strings.includes(evil), 'id as text');
  assert.ok(strings.includes('<b>spam</b>'), 'label as text');
  assert.ok(strings.includes(close), 'prediction as text');
  assert.equal(strings.filter((s) => s.includes('#1')).length, 1);
  assert.ok(el.title.includes(text) && el.attrs.get('aria-label')!.includes(evil));
  assert.ok(strings.includes('M 12.5') && strings.includes('P 0.250') && strings.includes('loss 1.39'));
  assert.equal(formatNumber(1.5e-5), '1.50e-5');
  assert.equal(formatNumber(123456), '1.23e5');
  assert.equal(formatNumber(0), '0');

  // A correct prediction shows a check mark instead of an arrow.
  const ok = renderRow(fakeDoc, { ...row, pred: row.label, heat: undefined }, 3, false) as FakeElement;
  const labels = (ok.children[0] as FakeElement).children.find(
    (c) => (c as FakeElement).className === 'labels',
  );
  assert.deepEqual(
    (labels as FakeElement).children.map((c) => c.textContent),
    ['<b>spam</b>', ' ✓'],
  );

  // The webview sources never write HTML from strings (dist/webview.js includes the bundled chart.js).
  const files = ['webview/panel.ts', 'webview/render.ts', 'webview/histogram.ts'];
  if (existsSync(join(root, 'dist/webview.js'))) files.push('dist/webview.js');
  for (const f of files) {
    const src = readFileSync(join(root, f), 'utf8');
    assert.doesNotMatch(
      src,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|new Function\(|\beval\(/,
      f,
    );
  }
});
