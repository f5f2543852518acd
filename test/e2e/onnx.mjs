/**
 * End-to-end test of the ONNX featurizer in the packaged extension: the platform .vsix (scripts/package.mjs, with
 * onnxruntime-node's run-time files) installed into code-server (a real VS Code), driven by Debian's chromium via
 * playwright-core, offline. Run with `npm run test:e2e` (compiles first), or `node test/e2e/onnx.mjs` after a compile
 * and one full `npm run test:e2e` (which installs code-server into .e2e-cache/).
 *
 * The workspace setting `memorization.featurizer` is `onnx:<absolute path of test/fixtures/tiny-bert>` (a 2-layer
 * BERT whose WordPiece vocabulary splits "unbelievably" into un ##believ ##ably, strips accents, and whose max length
 * is 64 tokens). A small JSONL file holds a row with that word, rows with "café" and "résumé" written raw and a
 * "café" JSON-escaped (`caf\u00e9`), and a row longer than 64 tokens. Steps: score it from the explorer context menu;
 * the status bar says the onnx backend ran; the editor colors tokens, and the colored boxes of rows 1-3 cover exactly
 * the characters of an independent CLI run's tokens (Monaco draws touching pieces of one color as one box);
 * hovering each piece of "unbelievably" shows that piece ("un", "believ", "ably"), the CLI's attribution for it and
 * its word's three pieces, and the hover's range highlight covers exactly that piece's characters; the escaped café
 * highlights the 9 raw characters `caf\u00e9`; the text beyond 64 tokens is dimmed (the characters the CLI reports
 * as truncated, starting at the 63rd word), uncolored, and its hover says "Not scored". Then, when ../shared/data is
 * present, the 4,000-row spam file is scored with the model from the editor (timed). Screenshots in
 * .e2e-artifacts/: onnx-editor.png, onnx-hover.png (the hover on "believ"), onnx-truncated.png (onnx-failure.png on
 * failure).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  DATA,
  Harness,
  ROOT,
  acceptFieldPick,
  palette,
  quickOpen,
  readJsonl,
  runCli,
  runContextMenu,
  sec,
  treeItem as treeItemOf,
  until,
  waitStatus,
} from './harness.mjs';

const MODEL = path.join(ROOT, 'test', 'fixtures', 'tiny-bert');
const SPAM = path.join(DATA, 'spam.train.jsonl');
const FILE = 'subwords.jsonl';
const MAX_LENGTH = 64; // tiny-bert's max_position_embeddings: [CLS] + 62 pieces + [SEP]

const h = new Harness({ tag: 'onnx', tmpPrefix: 'memorization-e2e-onnx-', failureShot: 'onnx-failure.png' });
const check = (name, fn) => h.check(name, fn);
const timings = h.timings;

/** Words of the fixture's vocabulary that are one piece each (so the 63rd word is where 64 tokens end). */
const POS = [
  'great',
  'good',
  'love',
  'wonderful',
  'excellent',
  'amazing',
  'beautiful',
  'perfect',
  'nice',
  'happy',
];
const NEG = ['bad', 'terrible', 'awful', 'boring', 'worst', 'poor', 'hate', 'sad', 'wrong', 'slow'];
const FILL = ['the', 'movie', 'film', 'story', 'acting', 'plot', 'was', 'and', 'with', 'a', 'very', 'music'];

/** The dataset: four rows under test on lines 1-4, then 36 short labelled rows so the head has something to fit. */
function writeDataset(file) {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const long = Array.from({ length: 80 }, (_, i) => (i % 3 === 2 ? pick(POS) : pick(FILL)));
  const lines = [
    JSON.stringify({
      id: 'subword',
      text: 'the plot was unbelievably good and the acting was great',
      label: 'pos',
    }),
    JSON.stringify({
      id: 'accent',
      text: 'a great café with wonderful coffee and a nice résumé',
      label: 'pos',
    }),
    // The same word JSON-escaped in the raw file: its piece must cover the 9 characters `caf\u00e9`.
    JSON.stringify({
      id: 'escaped',
      text: 'we loved the café and the tea, really good',
      label: 'pos',
    }).replace('é', '\\u00e9'),
    JSON.stringify({ id: 'long', text: long.join(' '), label: 'pos' }),
  ];
  for (let i = 0; i < 36; i++) {
    const pos = i % 2 === 0;
    const words = Array.from({ length: 8 }, () => (rnd() < 0.4 ? pick(pos ? POS : NEG) : pick(FILL)));
    lines.push(JSON.stringify({ id: `r${i}`, text: words.join(' '), label: pos ? 'pos' : 'neg' }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  // The first word the model never sees: 62 one-piece words fit between [CLS] and [SEP].
  return { lines, firstCutWord: long[MAX_LENGTH - 2] };
}

/** An independent CLI run with the same model: per line, the token ranges and the truncated text. */
function independentCli(file, lines) {
  const out = path.join(path.dirname(file), '..', 'cli-scores.jsonl');
  const summary = path.join(path.dirname(file), '..', 'cli-summary.json');
  const ms = runCli([
    'score',
    file,
    '--featurizer',
    `onnx:${MODEL}`,
    '--no-cache',
    '--out',
    out,
    '--summary',
    summary,
  ]);
  const byLine = new Map();
  for (const r of readJsonl(out)) {
    const raw = lines[r.line - 1];
    byLine.set(r.line, {
      tokens: (r.tokens ?? []).filter((t) => t.a !== 0).map((t) => raw.slice(t.start, t.end)),
      attribution: new Map((r.tokens ?? []).map((t) => [raw.slice(t.start, t.end), t.a])),
      truncated: (r.truncated ?? []).map((c) => raw.slice(c.start, c.end)).join(''),
    });
  }
  return { byLine, backends: JSON.parse(readFileSync(summary, 'utf8')).backends, ms };
}

/**
 * Every colored token box of the editor (a decoration overlay narrower than half the editor; Monaco draws touching
 * ranges of one color as one box) with the characters it covers, read from the rendered text (the characters whose
 * glyph centers lie inside the box), and the row it sits on, named by the row id of its rendered line. With `row`,
 * the rendered characters of that row instead, with their centers (to point the mouse at a given character).
 * With `selector`, the characters under the elements it matches (e.g. the hover's range highlight).
 */
function rendered(page, what) {
  return page.evaluate((what) => {
    const doc = globalThis.document;
    const editor = doc.querySelector('.editor-group-container .monaco-editor');
    const ew = editor.getBoundingClientRect().width;
    const lines = [...editor.querySelectorAll('.view-lines .view-line')]
      .map((el) => {
        const b = el.getBoundingClientRect();
        const text = el.textContent.replace(/\u00a0/g, ' ');
        return { el, top: b.top, bottom: b.bottom, id: /^\{"id":"([^"]+)"/.exec(text)?.[1] };
      })
      .sort((a, b) => a.top - b.top);
    // A wrapped row's continuation lines carry no id: they belong to the row above.
    for (let i = 1; i < lines.length; i++) lines[i].id ??= lines[i - 1].id;
    const chars = [];
    for (const l of lines) {
      const walker = doc.createTreeWalker(l.el, 4 /* NodeFilter.SHOW_TEXT */);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        for (let i = 0; i < n.data.length; i++) {
          const r = doc.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + 1);
          const b = r.getBoundingClientRect();
          const ch = n.data[i] === '\u00a0' ? ' ' : n.data[i];
          chars.push({ ch, x: b.left + b.width / 2, y: b.top + b.height / 2, id: l.id });
        }
      }
    }
    if (what.row) return chars.filter((c) => c.id === what.row);
    const under = (b) =>
      chars
        .filter((c) => c.x > b.left && c.x < b.right && c.y > b.top && c.y < b.bottom)
        .map((c) => c.ch)
        .join('');
    if (what.selector)
      return [...editor.querySelectorAll(what.selector)].map((d) => under(d.getBoundingClientRect()));
    const boxes = [];
    for (const d of editor.querySelectorAll('.view-overlays [class*="ced-"]')) {
      const b = d.getBoundingClientRect();
      if (!(b.width > 2 && b.width < ew * 0.5)) continue;
      const cy = b.top + b.height / 2;
      const line = lines.find((l) => l.top <= cy && cy < l.bottom);
      boxes.push({ text: under(b), id: line?.id, x: b.left, y: b.top, w: b.width, h: b.height });
    }
    return boxes.sort((a, b) => a.y - b.y || a.x - b.x);
  }, what);
}

/** Boxes → tokens: each box is one token or touching tokens of one color (sub-word pieces), in file order. */
function matchBoxes(boxes, tokens) {
  let k = 0;
  for (const b of boxes) {
    let text = '';
    while (k < tokens.length && text.length < b.text.length) text += tokens[k++];
    if (text !== b.text) return `box "${b.text}" where the CLI's tokens give "${text}"`;
  }
  return k === tokens.length
    ? undefined
    : `${tokens.length - k} CLI tokens without a box: ${tokens.slice(k)}`;
}

/** The text of the dimmed spans (the truncated decoration: an inline class with opacity) in rendered order. */
function dimmedText(page) {
  return page.evaluate(() => {
    const doc = globalThis.document;
    const editor = doc.querySelector('.editor-group-container .monaco-editor');
    const lines = [...editor.querySelectorAll('.view-lines .view-line')].sort(
      (a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top,
    );
    let text = '';
    const rects = [];
    for (const l of lines)
      for (const s of l.querySelectorAll('span[class*="ced-"]')) {
        if (Number(globalThis.getComputedStyle(s).opacity) < 0.9) {
          text += s.textContent.replace(/\u00a0/g, ' ');
          const b = s.getBoundingClientRect();
          rects.push({ x: b.left, y: b.top, w: b.width, h: b.height });
        }
      }
    return { text, rects };
  });
}

await h.run(async () => {
  const setup = await h.setup();
  const workspace = h.workspace;
  h.workspaceSettings({
    'memorization.featurizer': `onnx:${MODEL}`,
    // The long row wraps, so its cut-off tail is on screen too.
    'editor.wordWrap': 'on',
    'editor.minimap.enabled': false,
    // The top rows' Problems entries span their whole line and would add their range to the hover's highlight,
    // which is read to check the token's range.
    'problems.visibility': false,
  });
  // User settings: no chat side bar or welcome page, so the editor has the width (the screenshots).
  h.userSettings({
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.startupEditor': 'none',
  });
  const file = path.join(workspace, FILE);
  const data = writeDataset(file);
  const haveSpam = existsSync(SPAM);
  if (haveSpam) copyFileSync(SPAM, path.join(workspace, path.basename(SPAM)));

  const cli = await h.timed('cli score', async () => independentCli(file, data.lines));
  h.log(`CLI (onnx featurizer) on ${FILE}: ${sec(cli.ms)}, featurizing ${cli.backends.featurizing}`);

  const page = await h.launch(setup);
  const treeItem = treeItemOf(page, FILE);
  await check('workbench opens with the dataset in the explorer', async () => {
    await treeItem.waitFor({ state: 'visible', timeout: 60_000 });
  });

  let scoreStart = 0;
  await check('explorer context menu runs "Score memorization"', async () => {
    const { tries, clickedAt } = await runContextMenu(page, treeItem, 'Score memorization');
    scoreStart = clickedAt;
    return `${tries} right-click(s)`;
  });

  /** Waits for the status bar's "N rows scored · onnx cpu|cuda"; an error notification fails at once. */
  const waitScored = async (rows, timeout, opts) => {
    const text = await waitStatus(page, new RegExp(`Memorization: ${rows} rows scored`), timeout, opts);
    if (!/· onnx (cpu|cuda)$/.test(text))
      throw new Error(`status bar does not name the onnx backend: ${text}`);
    return text;
  };

  await check('scoring completes and the status bar says the onnx backend ran', async () => {
    await quickOpen(page, FILE);
    const text = await waitScored(data.lines.length, 120_000);
    timings['editor score (40 rows)'] = Date.now() - scoreStart;
    return `${text} (CLI: ${cli.backends.featurizing})`;
  });

  const editor = page.locator('.editor-group-container .monaco-editor').first();
  let boxes = [];
  await check('the editor colors the tokens of every row under test', async () => {
    await until(
      async () => {
        boxes = await rendered(page, {});
        return ['subword', 'accent', 'escaped', 'long'].every((id) => boxes.some((b) => b.id === id));
      },
      { timeout: 60_000, what: 'colored boxes on every row under test' },
    ).catch((err) => {
      throw new Error(`${err.message}: only on rows ${[...new Set(boxes.map((b) => b.id))].join(', ')}`);
    });
    return `${boxes.length} colored token boxes in view`;
  });

  await check(
    'colored boxes cover exactly the characters of the tokens (as the CLI reports them)',
    async () => {
      let n = 0;
      for (const [line, id] of [
        [1, 'subword'],
        [2, 'accent'],
        [3, 'escaped'],
      ]) {
        const got = boxes.filter((b) => b.id === id);
        const why = matchBoxes(got, cli.byLine.get(line).tokens);
        if (why) throw new Error(`row ${id}: ${why}`);
        n += got.length;
      }
      const raw = boxes.find((b) => b.id === 'accent' && b.text === 'café');
      const escaped = boxes.find((b) => b.id === 'escaped' && b.text === 'caf\\u00e9');
      if (!raw || !escaped) throw new Error(`café raw ${!!raw}, escaped ${!!escaped}`);
      await editor.screenshot({ path: path.join(ARTIFACTS, 'onnx-editor.png') });
      return `${n} boxes on rows 1-3 match; "café" raw and the 9 raw characters "caf\\u00e9" are one token each`;
    },
  );

  /** Hovers the character at `index` of row `id`'s rendered text: the hover's text and highlighted range. */
  const hoverChar = async (id, index, hasText) => {
    const chars = await rendered(page, { row: id });
    const c = chars[index];
    const hover = page.locator('.monaco-hover', { hasText });
    for (let attempt = 0; ; attempt++) {
      await page.mouse.move(5, 5);
      await page.keyboard.press('Escape');
      // The previous hover is gone before the next one is asked for.
      await page
        .locator('.monaco-hover')
        .first()
        .waitFor({ state: 'hidden', timeout: 15_000 })
        .catch(() => {});
      await page.mouse.move(c.x - 3, c.y);
      await page.mouse.move(c.x, c.y, { steps: 3 });
      try {
        await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
        break;
      } catch {
        if (attempt >= 2)
          throw new Error(`no hover with "${hasText}" over "${chars.map((x) => x.ch).join('')}"[${index}]`);
      }
    }
    // The hover and its highlight of the token's range are both drawn.
    const highlight = await until(
      async () => {
        const h = await rendered(page, { selector: '.view-overlays .hoverHighlight' });
        return h.length ? h : undefined;
      },
      { timeout: 15_000, what: 'the hover highlight of the token' },
    );
    const text = (await hover.first().innerText()).replace(/\s+/g, ' ').trim();
    return { text, highlight: highlight.join('|') };
  };

  await check(
    'hovering each piece of "unbelievably" shows that piece, on exactly its characters',
    async () => {
      const rowText = (await rendered(page, { row: 'subword' })).map((c) => c.ch).join('');
      const at = rowText.indexOf('unbelievably');
      if (at < 0) throw new Error(`"unbelievably" not rendered: ${rowText}`);
      const out = [];
      for (const [piece, offset] of [
        ['un', 0],
        ['believ', 2],
        ['ably', 8],
      ]) {
        // The middle character of the piece.
        const h = await hoverChar('subword', at + offset + Math.floor(piece.length / 2), 'attribution');
        if (!h.text.includes(`Token "${piece}"`)) throw new Error(`hover over "${piece}": ${h.text}`);
        if (h.highlight !== piece) throw new Error(`hover over "${piece}" highlights "${h.highlight}"`);
        if (!/attribution -?[\d.]+(e[+-]?\d+)?/.test(h.text))
          throw new Error(`hover lacks a value: ${h.text}`);
        if (!h.text.includes('word of 3 pieces "un believ ably"'))
          throw new Error(`hover lacks the word: ${h.text}`);
        if (piece === 'believ') await page.screenshot({ path: path.join(ARTIFACTS, 'onnx-hover.png') });
        // The same value as the CLI's for that piece (the hover shows 4 decimals or 4 significant digits).
        const shown = Number(/attribution (\S+)/.exec(h.text)[1]);
        const cliA = cli.byLine.get(1).attribution.get(piece);
        if (!(Math.abs(shown - cliA) <= Math.max(5e-5, 1e-3 * Math.abs(cliA))))
          throw new Error(`hover over "${piece}" says ${shown}, the CLI ${cliA}`);
        out.push(`${piece} ${shown}`);
      }
      return out.join(', ');
    },
  );

  await check('hovering the JSON-escaped café highlights the 9 raw characters caf\\u00e9', async () => {
    const rowText = (await rendered(page, { row: 'escaped' })).map((c) => c.ch).join('');
    const at = rowText.indexOf('caf\\u00e9');
    if (at < 0) throw new Error(`"caf\\u00e9" not rendered: ${rowText}`);
    const h = await hoverChar('escaped', at + 4, 'attribution');
    if (!h.text.includes('Token "café"')) throw new Error(`hover: ${h.text}`);
    if (h.highlight !== 'caf\\u00e9') throw new Error(`highlight "${h.highlight}" (hover: ${h.text})`);
    return h.text.slice(0, 60);
  });
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  await check(`text beyond ${MAX_LENGTH} tokens is dimmed as not scored`, async () => {
    const want = cli.byLine.get(4).truncated;
    if (!want.startsWith(`${data.firstCutWord} `))
      throw new Error(
        `CLI's truncated text starts "${want.slice(0, 20)}", expected word ${data.firstCutWord}`,
      );
    const dim = await dimmedText(page);
    if (dim.text !== want) throw new Error(`dimmed "${dim.text}", expected "${want}"`);
    // The pieces before the cut are colored, nothing of the cut-off tail is.
    const colored = boxes.filter((b) => b.id === 'long');
    const why = matchBoxes(colored, cli.byLine.get(4).tokens);
    if (why) throw new Error(`long row: ${why}`);
    const overlaps = (a, r) =>
      a.x < r.x + r.w - 1 && r.x < a.x + a.w - 1 && a.y < r.y + r.h - 1 && r.y < a.y + a.h - 1;
    const inTail = colored.filter((b) => dim.rects.some((r) => overlaps(b, r)));
    if (inTail.length) throw new Error(`colored in the cut-off tail: ${inTail.map((b) => b.text).join(' ')}`);
    const hover = page.locator('.monaco-hover', { hasText: 'Not scored' });
    const first = dim.rects[0];
    const x = first.x + Math.min(first.w / 2, 30);
    const y = first.y + first.h / 2;
    await page.mouse.move(x - 3, y);
    await page.mouse.move(x, y, { steps: 3 });
    await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
    await editor.screenshot({ path: path.join(ARTIFACTS, 'onnx-truncated.png') });
    return `${want.split(' ').length} words dimmed from "${data.firstCutWord}", hover says "Not scored"`;
  });
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  if (haveSpam) {
    await check('the shared spam data (4,000 rows) scores with the model from the editor', async () => {
      const name = path.basename(SPAM);
      await quickOpen(page, name);
      await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
      const s = Date.now();
      await palette(page, 'Memorization: Score memorization');
      // When the fields are a guess the extension asks once: accept what it proposes.
      const text = await waitScored(4000, 180_000, { onTick: () => acceptFieldPick(page) });
      timings['editor score (spam, 4000 rows)'] = Date.now() - s;
      return `${text} in ${sec(Date.now() - s)}`;
    });
  } else h.log(`spam step skipped: ${SPAM} is absent`);
});
