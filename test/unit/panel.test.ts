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
import { FIELD_SEPARATOR } from '../../src/engine/data/decodedText';
import { scoreDataset } from '../../src/engine/pipeline/scoreJob';
import type { DecodedRowText } from '../../src/protocol/messages';
import { FittedStates, type RowDataOptions, RowTexts } from '../../src/worker/state';
import { DEFAULT_BINS, histogram, panelHistograms } from '../../src/extension/histogram';
import { type PageSource, type RowText, RowQuery, queryRows } from '../../src/extension/paging';
import { MISLABELED_SORT, type PanelRow } from '../../src/protocol/panel';
import { snippet, snippetOf } from '../../src/extension/rowText';
import { BUCKET_COUNT, bucketColor, bucketOf, maxAbsAttribution } from '../../src/extension/tokenColors';
import {
  type MiniDocument,
  type MiniElement,
  type MiniText,
  formatNumber,
  groupSummary,
  renderDuplicateGroup,
  renderRow,
  renderTable,
} from '../../webview/render';
import { groupTable } from '../../src/engine/reasons/groups';
import { REASON_KINDS, type ReasonKind } from '../../src/protocol/reasons';
import type { DuplicateGroupView } from '../../src/protocol/panel';
import { groupsTable } from '../../src/report/summary';
import { rng } from './helpers';

const root = resolve(__dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'memorization-panel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The worker's row text service over a file (what the ranking panel asks the worker for). */
function workerText(file: string, data: RowDataOptions) {
  const texts = new RowTexts(new FittedStates());
  const one = async (line: number): Promise<DecodedRowText | undefined> =>
    (await texts.decoded(file, data, [line]))[0];
  const rowText: RowText = {
    matching: async (needle) => new Set(await texts.find(file, data, needle)),
    decoded: (lines) => texts.decoded(file, data, lines),
  };
  return { one, rowText };
}

const WORDS = ['good', 'bad', 'great', 'awful', 'fine', 'poor', 'superb', 'dull', 'nice', 'broken'];

/** Every heat span of every attributed row covers exactly its token's decoded text. */
async function checkHeat(file: string, text: string, fields?: string[], numeric = false) {
  writeFileSync(file, text);
  const res = await scoreDataset(file, {
    attribution: { top: 1000, steps: 4 },
    data: fields ? { text: fields } : {},
    featurizer: numeric ? { featurizer: 'numeric' } : {},
  });
  const f = res.summary.fields;
  const dec = workerText(
    file,
    f.numeric ? { label: f.label, tabular: true } : { text: f.text, label: f.label },
  );
  let spans = 0;
  let rowsWithHeat = 0;
  for (const row of res.rows) {
    assert.ok(row.tokens?.length, `row at line ${row.line} has tokens`);
    const s = snippetOf((await dec.one(row.line))!, row.tokens, 100_000);
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
  const first = (await dec.one(res.rows.find((r) => r.id === 'r0')!.line))!;
  assert.equal(
    first.text,
    `Re: café good 😀 "quoted"${FIELD_SEPARATOR}good line one\n\tline\\two <b>good</b> 0`,
  );
  assert.equal(
    snippetOf((await dec.one(res.rows[0].line))!).text.includes('\n'),
    false,
    'the snippet is one line (whitespace collapsed)',
  );
  assert.ok((await dec.rowText.matching('re: café', [])).has(1));
});

test('rowText: CSV with quoted multi-line fields and doubled quotes; numeric CSV as name=value', async () => {
  const rows = ['id,text,label'];
  for (let i = 0; i < 20; i++) {
    const w = WORDS[i % 10];
    rows.push(`r${i},"${w} said ""hi"", then
${WORDS[(i + 3) % 10]} ${i}",${i % 2 ? 'a' : 'b'}`);
  }
  const { res, dec } = await checkHeat(join(tmp, 'b.csv'), rows.join('\n') + '\n');
  assert.equal(
    (await dec.one(res.rows.find((r) => r.id === 'r0')!.line))!.text,
    'good said "hi", then\nawful 0',
  );

  const r = rng(3);
  const num = ['x1\tx2\tlabel'];
  for (let i = 0; i < 30; i++)
    num.push(`${(r() * 4 - 2).toFixed(3)}\t${(r() * 10).toFixed(2)}\t${i % 3 ? 'u' : 'v'}`);
  const n = await checkHeat(join(tmp, 'c.tsv'), num.join('\n') + '\n', undefined, true);
  assert.match(
    (await n.dec.one(2))!.text,
    new RegExp(`^x1=-?[\\d.]+${FIELD_SEPARATOR.replace(/\./g, '\\.')}x2=[\\d.]+$`),
  );
});

test('rowText: snippet shortening keeps heat inside the cut; a row the reader skipped has no text', async () => {
  const long = JSON.stringify({ text: `alpha ${'word '.repeat(100)}omega`, label: 'x' });
  const file = join(tmp, 'long.jsonl');
  writeFileSync(file, `${long}\nnot json\n${JSON.stringify({ text: 'b', label: 'y' })}\n`);
  const dec = workerText(file, { text: ['text'], label: 'label' });
  const start = long.indexOf('alpha');
  const omega = long.indexOf('omega');
  const s = snippetOf(
    (await dec.one(1))!,
    [
      { line: 1, start, end: start + 5, a: 1 },
      { line: 1, start: omega, end: omega + 5, a: -2 },
    ],
    40,
  );
  assert.equal(s.text.length, 40);
  assert.ok(s.text.endsWith('…'));
  assert.deepEqual(s.heat, [{ s: 0, e: 5, b: bucketOf(1, 2), a: 1 }]);
  assert.equal(await dec.one(2), undefined);
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

test('paging: 100k rows, sort/filter once per query, pages are cheap (timings printed)', async () => {
  const n = 100_000;
  const { lines, rows } = synthetic(n);
  const file = join(tmp, 'synthetic.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const q = new RowQuery(rows, workerText(file, { text: ['text'], label: 'label' }).rowText);
  const req = { offset: 0, limit: 60, sort: { key: 'rank' as const, dir: 'asc' as const }, filter: {} };
  const timings: string[] = [];

  let t = performance.now();
  let p = await q.page(req);
  timings.push(`sort by rank + first page (the worker reads the file) ${ms(t)}`);
  assert.equal(p.total, n);
  assert.deepEqual(
    p.rows.slice(0, 3).map((x) => x.rank),
    [1, 2, 3],
  );

  // Scrolling: 200 page requests deep into the list hit the cached order.
  t = performance.now();
  for (let k = 0; k < 200; k++) p = await q.page({ ...req, offset: (k * 487) % (n - 60) });
  const perPage = (performance.now() - t) / 200;
  timings.push(`cached page (60 rows, decoded snippets) ${perPage.toFixed(2)} ms`);
  assert.ok(perPage < 50, `a page took ${perPage} ms`);

  t = performance.now();
  p = await q.page({ ...req, sort: MISLABELED_SORT });
  timings.push(`sort by loss (likely mislabeled) ${ms(t)}`);
  const maxLoss = Math.max(...rows.map((x) => x.loss));
  assert.equal(p.rows[0].loss, maxLoss);
  for (let k = 1; k < p.rows.length; k++) assert.ok(p.rows[k - 1].loss >= p.rows[k].loss);

  t = performance.now();
  p = await q.page({ ...req, sort: { key: 'id', dir: 'asc' } });
  timings.push(`sort by id (strings, numeric collation) ${ms(t)}`);
  assert.deepEqual(
    p.rows.slice(0, 3).map((x) => x.id),
    ['row0', 'row1', 'row2'],
  );

  t = performance.now();
  p = await q.page({ ...req, filter: { label: 'spam' } });
  timings.push(`filter by label ${ms(t)}`);
  assert.equal(p.total, Math.floor(n / 3) + (n % 3 > 1 ? 1 : 0));

  t = performance.now();
  p = await q.page({ ...req, filter: { text: 'SUPERB' } });
  timings.push(`first text filter (searches all 100k decoded rows) ${ms(t)}`);
  const expected = lines.filter((l) => (JSON.parse(l) as { text: string }).text.includes('superb')).length;
  assert.equal(p.total, expected);
  t = performance.now();
  p = await q.page({ ...req, filter: { text: 'superb dull' } });
  timings.push(`next text filter ${ms(t)}`);
  assert.ok(p.rows.every((x) => x.text.includes('superb dull')));

  const bytes = JSON.stringify({ type: 'page', ...(await q.page(req)), offset: 0 }).length;
  timings.push(`page message ${bytes} bytes`);
  console.log(`[panel 100k] ${timings.join('; ')}`);
  assert.ok(bytes < 30_000);
});

test('paging: sort keys, directions, filters, bounds (small)', async () => {
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
  assert.deepEqual(ranks(await queryRows(rows, text, base)), [1, 2, 3, 10]);
  assert.deepEqual(
    ranks(await queryRows(rows, text, { ...base, sort: { key: 'rank', dir: 'desc' } })),
    [10, 3, 2, 1],
  );
  assert.deepEqual(ranks(await queryRows(rows, text, { ...base, sort: MISLABELED_SORT })), [10, 1, 3, 2]);
  assert.deepEqual(
    ranks(await queryRows(rows, text, { ...base, sort: { key: 'id', dir: 'asc' } })),
    [1, 2, 3, 10],
  );
  assert.deepEqual(
    ranks(await queryRows(rows, text, { ...base, sort: { key: 'line', dir: 'desc' } })),
    [10, 3, 2, 1],
  );
  assert.deepEqual(
    ranks(await queryRows(rows, text, { ...base, sort: { key: 'label', dir: 'desc' } })),
    [1, 2, 3, 10],
  );
  assert.equal((await queryRows(rows, text, { ...base, filter: { label: 'ham' } })).total, 3);
  assert.deepEqual(ranks(await queryRows(rows, text, { ...base, filter: { text: 'LINE 4' } })), [3]);
  assert.deepEqual(ranks(await queryRows(rows, text, { ...base, filter: { text: ' r10 ' } })), [10]);
  assert.deepEqual(ranks(await queryRows(rows, text, { ...base, offset: 1, limit: 2 })), [2, 3]);
  assert.deepEqual(ranks(await queryRows(rows, text, { ...base, offset: -5, limit: 1e9 })), [1, 2, 3, 10]);
  assert.equal((await queryRows([], text, base)).total, 0);
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

/** Every element tag and every string under `el` (text nodes, and the text of leaf elements). */
function contents(el: FakeElement): { tags: Set<string>; strings: string[] } {
  const tags = new Set<string>();
  const strings: string[] = [];
  walk(el, (n) => {
    if (n instanceof FakeElement) {
      tags.add(n.tag);
      if (n.children.length === 0 && n.textContent !== null) strings.push(n.textContent);
    } else strings.push(n.textContent ?? '');
  });
  return { tags, strings };
}

const EVIL = '<img src=x onerror=alert(1)>';

test('webview rendering: reason chips are text spans (kind as text, evidence as tooltip), never markup', () => {
  const row: PanelRow = {
    line: 3,
    rank: 2,
    id: 'r2',
    label: 'ham',
    pred: 'ham',
    prob: 0.9,
    loss: 0.1,
    score: 3,
    percentile: 99,
    text: 'plain text',
    chips: [
      { kind: 'duplicate', text: `duplicate: 1 exact duplicate labelled ${EVIL}, line 9` },
      { kind: 'rare', text: 'rare for its class: farther from the class mean than 94% of ham rows' },
      // A kind outside the vocabulary gets no class of its own.
      { kind: '<b>x</b>' as ReasonKind, text: '</span><script>alert(2)</script>' },
    ],
  };
  const el = renderRow(fakeDoc, row, 1, false) as FakeElement;
  const { tags, strings } = contents(el);
  assert.deepEqual([...tags].sort(), ['div', 'span']);
  const snippetEl = el.children[1] as FakeElement;
  const chips = snippetEl.children[0] as FakeElement;
  assert.equal(chips.className, 'chips');
  assert.deepEqual(
    chips.children.map((c) => [(c as FakeElement).className, c.textContent, (c as FakeElement).title]),
    [
      ['chip r-duplicate', 'duplicate', row.chips![0].text],
      ['chip r-rare', 'rare', row.chips![1].text],
      ['chip', '<b>x</b>', row.chips![2].text],
    ],
  );
  assert.deepEqual(
    snippetEl.children.slice(1).map((c) => c.textContent),
    [' ', 'plain text'],
  );
  assert.ok(strings.includes('<b>x</b>'));
  // The evidence is in the row's tooltip and accessible name too.
  assert.ok(
    el.title.includes(row.chips![0].text) &&
      el.attrs.get('aria-label')!.includes('farther from the class mean'),
  );
  // A row without reasons has no chips element.
  const plain = renderRow(fakeDoc, { ...row, chips: undefined }, 1, false) as FakeElement;
  assert.equal((plain.children[1] as FakeElement).children.length, 1);

  // Every reason kind has a chip colour in panel.css, from the theme.
  const css = readFileSync(join(root, 'media/panel.css'), 'utf8');
  for (const k of REASON_KINDS)
    assert.match(css, new RegExp(`\\.r-${k} \\{\\s*--chip-color: var\\(--vscode-charts-`), k);
});

test('webview rendering: a duplicate group shows its labels side by side, the minority label stands out', () => {
  const mk = (line: number, label: string, rank: number): PanelRow => ({
    line,
    rank,
    id: `r${line}`,
    label,
    pred: label === EVIL ? 'ham' : label,
    prob: 0.5,
    loss: 0.7,
    score: 1,
    percentile: 50,
    text: `text ${line} ${EVIL}`,
  });
  const g: DuplicateGroupView = {
    position: 0,
    size: 4,
    labels: [
      { label: 'ham', count: 3 },
      { label: EVIL, count: 1 },
    ],
    conflict: true,
    rows: [mk(10, 'ham', 5), mk(20, 'ham', 8), mk(30, EVIL, 2)],
  };
  const el = renderDuplicateGroup(fakeDoc, g) as FakeElement;
  const { tags, strings } = contents(el);
  assert.deepEqual([...tags].sort(), ['div', 'span']);
  assert.equal(el.className, 'dup-group conflict');
  assert.equal(el.attrs.get('aria-label'), `Group 1: ${groupSummary(g)}`);
  assert.equal(groupSummary(g), `4 near-identical rows: ham ×3, ${EVIL} ×1 (conflicting labels)`);
  const head = el.children[0] as FakeElement;
  const labels = head.children[1] as FakeElement;
  assert.deepEqual(
    labels.children.map((c) => [(c as FakeElement).className, c.textContent]),
    [
      ['dup-count', 'ham ×3'],
      ['dup-count minority', `${EVIL} ×1`],
    ],
  );
  assert.equal((head.children[2] as FakeElement).textContent, 'conflicting labels');
  const rows = el.children.filter((c) => (c as FakeElement).className === 'dup-row') as FakeElement[];
  assert.deepEqual(
    rows.map((r) => r.attrs.get('data-line')),
    ['10', '20', '30'],
  );
  assert.ok(rows.every((r) => r.attrs.get('tabindex') === '0' && r.attrs.get('role') === 'button'));
  const pills = rows.map((r) => ((r.children[0] as FakeElement).children[0] as FakeElement).className);
  assert.deepEqual(pills, ['pill', 'pill', 'pill minority']);
  assert.ok(strings.includes(EVIL) && strings.includes('→ ham'));
  assert.equal((el.children.at(-1) as FakeElement).textContent, 'and 1 more row (not listed)');
  // Collapsed to two rows: a button (type button, the group's position) shows the rest.
  const collapsed = renderDuplicateGroup(fakeDoc, g, 2) as FakeElement;
  assert.equal(collapsed.children.filter((c) => (c as FakeElement).className === 'dup-row').length, 2);
  const expand = collapsed.children.at(-1) as FakeElement;
  assert.deepEqual(
    [
      expand.tag,
      expand.className,
      expand.textContent,
      expand.attrs.get('type'),
      expand.attrs.get('data-position'),
    ],
    ['button', 'dup-expand', 'Show 1 more row', 'button', '0'],
  );
  // A tie: no label has the majority, so every label of the conflict stands out.
  const tie = renderDuplicateGroup(fakeDoc, {
    ...g,
    size: 2,
    labels: [
      { label: 'ham', count: 1 },
      { label: 'spam', count: 1 },
    ],
    rows: [mk(1, 'ham', 1), mk(2, 'spam', 2)],
  }) as FakeElement;
  assert.deepEqual(
    ((tie.children[0] as FakeElement).children[1] as FakeElement).children.map(
      (c) => (c as FakeElement).className,
    ),
    ['dup-count minority', 'dup-count minority'],
  );
  // A group of one label: no warning, no minority.
  const same = renderDuplicateGroup(fakeDoc, {
    ...g,
    conflict: false,
    labels: [{ label: 'ham', count: 2 }],
    size: 2,
    rows: g.rows.slice(0, 2),
  }) as FakeElement;
  assert.equal(same.className, 'dup-group');
  assert.equal((same.children[0] as FakeElement).children.length, 2);
});

test('group table: the engine table as text cells (hostile group names stay text)', () => {
  const groups = [EVIL, EVIL, 'b', 'b', 'b', ''];
  const pct = [100, 80, 60, 40, 20, 0];
  const why = [[{ kind: 'rare' }], [], [{ kind: 'rare' }, { kind: 'duplicate' }], [], [], []] as never;
  const t = groupsTable({ field: 'group', ...groupTable(groups, pct, why) });
  assert.deepEqual(t.head, ['group', 'rows', 'mean percentile', 'in top 10%', 'duplicate', 'rare']);
  assert.deepEqual(t.rows, [
    ['b', '3', '40.0', '0.0%', '33.3%', '33.3%'],
    [EVIL, '2', '90.0', '50.0%', '0.0%', '50.0%'],
    ['(missing)', '1', '0.0', '0.0%', '0.0%', '0.0%'],
    ['all rows', '6', '50.0', '16.7%', '16.7%', '33.3%'],
  ]);
  const el = renderTable(fakeDoc, t) as FakeElement;
  const { tags, strings } = contents(el);
  assert.deepEqual([...tags].sort(), ['table', 'tbody', 'td', 'th', 'thead', 'tr']);
  assert.equal(strings.filter((x) => x === EVIL).length, 1);
  const firstRow = ((el.children[1] as FakeElement).children[0] as FakeElement).children as FakeElement[];
  assert.deepEqual(
    firstRow.map((c) => c.className),
    ['', 'num', 'num', 'num', 'num', 'num'],
  );
});
