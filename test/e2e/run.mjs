/**
 * End-to-end test: the packaged extension in a real VS Code (code-server), driven by Debian's chromium via
 * playwright-core, fully offline. Run with `npm run test:e2e` (compiles first).
 *
 * Steps: score media/example/reviews.jsonl (a temp copy, plus a hostile row whose text holds markup) from the
 * explorer context menu, check the ranking view comes forward by itself with the editor keeping focus, check the
 * editor decorations, hover a coloured token, click rank 1 in the ranking view and check the cursor moved there,
 * move with the keyboard, switch to "Likely mislabeled" (checked against the CLI's largest loss), filter to the
 * hostile row and check its markup shows as literal text, and that no dialog fired in any frame.
 * Screenshots go to .e2e-artifacts/: editor, hover, panel, mislabeled (sidebar with the loss histogram).
 */
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  Harness,
  ROOT,
  cursorAt,
  palette,
  quickOpen,
  rankingFrame,
  readJsonl,
  runCli,
  painted,
  runContextMenu,
  treeItem as treeItemOf,
  until,
  waitStatus,
} from './harness.mjs';

const EXAMPLE = path.join(ROOT, 'media', 'example', 'reviews.jsonl');
// One row whose id and text hold `<img src=x onerror=alert(1)>` and `</script>`: must render as text, never run.
const HOSTILE = path.join(ROOT, 'test', 'e2e', 'fixtures', 'hostile-row.jsonl');
const HOSTILE_IMG = '<img src=x onerror=alert(1)>';
const HOSTILE_SCRIPT = '</script><script>alert(2)</script>';
const FILE = 'reviews.jsonl';

/** An independent CLI run on the same file: the line of rank 1 and of the largest training loss. */
function independentCli(file) {
  const out = path.join(path.dirname(file), '..', 'cli-scores.jsonl');
  runCli(['score', file, '--out', out]);
  const rows = readJsonl(out);
  const r1 = rows.find((r) => r.rank === 1);
  if (!r1) throw new Error('CLI output has no rank-1 row');
  // The panel's "Likely mislabeled" order: loss descending, ties by rank.
  const byLoss = [...rows].sort((a, b) => b.loss - a.loss || a.rank - b.rank);
  return { rank1: r1.line, maxLoss: byLoss[0].line, rows: rows.length };
}

const h = new Harness({ tmpPrefix: 'memorization-e2e-', failureShot: 'failure.png' });
const check = (name, fn) => h.check(name, fn);

await h.run(async () => {
  const setup = await h.setup();
  const file = path.join(h.workspace, FILE);
  copyFileSync(EXAMPLE, file);
  appendFileSync(file, readFileSync(HOSTILE, 'utf8'));

  const cli = await h.timed('cli score', async () => independentCli(file));

  const page = await h.launch(setup);
  const dialogs = h.dialogs;
  const treeItem = treeItemOf(page, FILE);
  await check('workbench opens with the workspace file in the explorer', async () => {
    await treeItem.waitFor({ state: 'visible', timeout: 60_000 });
  });

  await check('explorer context menu offers "Score memorization" and runs it', async () => {
    const { tries } = await runContextMenu(page, treeItem, 'Score memorization');
    return `${tries} right-click(s)`;
  });

  // Quick Open, not the explorer: the ranking view comes forward when scoring ends and can replace the explorer
  // (detaching its tree items) at any moment.
  const openFile = () => quickOpen(page, FILE);

  const panelFrame = rankingFrame(page);
  const rows = panelFrame.locator('#list .row');
  const firstRow = rows.first();

  await check('scoring completes (status bar "N rows scored")', async () => {
    await openFile();
    return waitStatus(page, /Memorization: \d+ rows scored/, 120_000);
  });

  const editorFocused = () =>
    page.evaluate(() => {
      const a = globalThis.document.activeElement;
      return a?.closest('.monaco-editor') ? 'editor' : `${a?.tagName}.${a?.className}`.slice(0, 80);
    });

  await check('the ranking view comes forward by itself when scoring completes', async () => {
    await firstRow.waitFor({ state: 'visible', timeout: 20_000 });
    return `${await rows.count()} rows rendered`;
  });

  await check('rescoring from the editor brings the view forward again, the editor keeps focus', async () => {
    // Back to the explorer (the ranking view is hidden), focus the editor, score from the command palette.
    await page.keyboard.press('Control+Shift+E');
    await treeItem.waitFor({ state: 'visible', timeout: 10_000 });
    await firstRow.waitFor({ state: 'hidden', timeout: 10_000 });
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
    if ((await editorFocused()) !== 'editor') throw new Error('could not focus the editor');
    await palette(page, 'Memorization: Score memorization');
    await firstRow.waitFor({ state: 'visible', timeout: 120_000 });
    // The view has come forward and drawn its rows; whatever the reveal does to the focus has happened.
    await painted(page);
    await painted(panelFrame.locator('body'));
    const focus = await editorFocused();
    if (focus !== 'editor') throw new Error(`focus moved away from the editor to ${focus}`);
    return `view revealed, focus stays in the editor`;
  });

  const editor = page.locator('.editor-group-container .monaco-editor').first();
  const overlayDecos = editor.locator('.view-overlays [class*="ced-"]');
  const inlineDecos = editor.locator('.view-line span[class*="ced-"]');
  /** Editor lines (1-based, from the line numbers in the gutter) with at least one ced-* decoration, as a list. */
  const decoratedLines = () =>
    editor.evaluate((ed) => {
      const top = (e) => Math.round(e.getBoundingClientRect().top);
      const numbers = new Map(
        [...ed.querySelectorAll('.line-numbers')].map((e) => [top(e), Number(e.textContent)]),
      );
      const decorated = [
        ...ed.querySelectorAll('.view-overlays [class*="ced-"], .view-line span[class*="ced-"]'),
      ];
      return [
        ...new Set(
          decorated.map((e) => numbers.get(top(e.closest('.view-overlays > div, .view-line') ?? e))),
        ),
      ];
    });
  const decorated = async () => (await overlayDecos.count()) + (await inlineDecos.count());
  await check('editor shows memorization decorations', async () => {
    const n = await until(decorated, { timeout: 60_000, what: 'ced-* decoration elements in the editor' });
    await editor.screenshot({ path: path.join(ARTIFACTS, 'editor.png') });
    return `${n} decorated elements`;
  });

  await check('hovering a coloured token shows its attribution', async () => {
    const edBox = await editor.boundingBox();
    // Token highlights are narrow; whole-line row tiers span the editor width.
    const boxes = [];
    for (const loc of await overlayDecos.all()) {
      const b = await loc.boundingBox();
      if (
        b &&
        b.width > 4 &&
        b.width < edBox.width * 0.5 &&
        b.y > edBox.y &&
        b.y + b.height < edBox.y + edBox.height
      )
        boxes.push(b);
    }
    for (const loc of await inlineDecos.all()) {
      const b = await loc.boundingBox();
      if (b && b.width > 4 && b.y > edBox.y && b.y + b.height < edBox.y + edBox.height) boxes.push(b);
    }
    if (!boxes.length) throw new Error('no token-sized decoration found in the viewport');
    boxes.sort((a, b) => a.y - b.y || a.x - b.x);
    const hover = page.locator('.monaco-hover', { hasText: 'attribution' });
    for (const b of boxes.slice(0, 5)) {
      const x = b.x + b.width / 2;
      const y = b.y + b.height / 2;
      await page.mouse.move(x - 2, y);
      await page.mouse.move(x, y, { steps: 3 });
      try {
        await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
        const text = (await hover.first().innerText()).replace(/\s+/g, ' ').trim();
        await page.screenshot({ path: path.join(ARTIFACTS, 'hover.png') });
        if (!/attribution -?[\d.e+-]+/.test(text)) throw new Error(`hover lacks a value: ${text}`);
        return text.slice(0, 120);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('hover lacks')) throw e;
        await page.mouse.move(edBox.x + 5, edBox.y + edBox.height - 5);
        await page
          .locator('.monaco-hover')
          .first()
          .waitFor({ state: 'hidden', timeout: 15_000 })
          .catch(() => {});
      }
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'hover.png') });
    throw new Error('no .monaco-hover with "attribution" appeared');
  });
  await page.keyboard.press('Escape');
  await page.mouse.move(5, 5);

  const rowInfo = async (row) => ({
    rank: Number((await row.locator('.rank').innerText()).replace('#', '').trim()),
    line: Number(await row.getAttribute('data-line')),
  });

  const panelRow = await check(
    'ranking view: two-line rows, rank 1 first, decoded text with token heat',
    async () => {
      await firstRow.waitFor({ state: 'visible', timeout: 10_000 });
      const { rank, line } = await rowInfo(firstRow);
      const count = await rows.count();
      if (rank !== 1) throw new Error(`first row has rank ${rank}, expected 1`);
      if (!(line > 0)) throw new Error(`first row has no data-line`);
      const snippet = (await firstRow.locator('.snippet').innerText()).trim();
      if (/^\{|"text"\s*:/.test(snippet))
        throw new Error(`snippet shows the raw JSON line: ${snippet.slice(0, 60)}`);
      const heat = await panelFrame.locator('#list .row .heat').count();
      if (heat === 0) throw new Error('no token heat spans in the rendered rows');
      const box = await firstRow.boundingBox();
      const l1 = await firstRow.locator('.line1').boundingBox();
      const l2 = await firstRow.locator('.snippet').boundingBox();
      if (!(l1 && l2 && l2.y >= l1.y + l1.height - 1))
        throw new Error('snippet does not sit below the first line');
      return {
        rank,
        line,
        toString: () =>
          `rank 1 at line ${line}, ${count} rows rendered, ${heat} heat spans, row ${Math.round(box.width)}×${Math.round(box.height)} px, "${snippet.slice(0, 50)}…"`,
      };
    },
  );

  await check('rank 1 matches an independent CLI run', async () => {
    if (panelRow.line !== cli.rank1)
      throw new Error(`panel says line ${panelRow.line}, CLI says ${cli.rank1}`);
    return `line ${cli.rank1}`;
  });

  await check('clicking rank 1 moves the editor cursor to its line', async () => {
    await firstRow.click();
    const text = await cursorAt(page, panelRow.line);
    // The editor's throttled decoration pass has reached the newly visible lines: the row's line is decorated.
    await until(async () => (await decoratedLines()).includes(panelRow.line), {
      what: `decorations on line ${panelRow.line}`,
    });
    await painted(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'panel.png') });
    return text;
  });

  await check('keyboard: ArrowDown then Enter reveals the next row', async () => {
    const second = await rowInfo(rows.nth(1));
    await panelFrame.locator('#list').focus();
    await panelFrame.locator('#list').press('ArrowDown');
    const selected = panelFrame.locator('#list .row.selected');
    await selected.first().waitFor({ timeout: 5000 });
    const sel = await rowInfo(selected.first());
    if (sel.line !== second.line) throw new Error(`selected line ${sel.line}, expected ${second.line}`);
    await panelFrame.locator('#list').press('Enter');
    return `rank ${second.rank}: ${await cursorAt(page, second.line)}`;
  });

  await check(
    '"Likely mislabeled" ranks by training loss (largest first, as the CLI) and says so',
    async () => {
      await panelFrame.locator('#mode-mislabeled').click();
      const explain = (await panelFrame.locator('#explain').innerText()).trim();
      if (!/Likely mislabeled/.test(explain) || !/−log P\(label\|x\)/.test(explain))
        throw new Error(`explanation missing: ${explain}`);
      let line = 0;
      await until(async () => (line = (await rowInfo(firstRow)).line) === cli.maxLoss, {
        timeout: 30_000,
        what: `the top row at the CLI's largest loss (line ${cli.maxLoss})`,
      }).catch((err) => {
        throw new Error(`${err.message}: top row at line ${line}`);
      });
      const loss = (await firstRow.locator('.metric.loss').innerText()).trim();
      const title = (await panelFrame.locator('#histogram-title').innerText()).trim();
      if (!/loss/i.test(title)) throw new Error(`histogram title: ${title}`);
      const chart = await panelFrame.locator('#chart').boundingBox();
      if (!chart || chart.height < 60 || chart.width < 150) throw new Error('histogram canvas not drawn');
      const pixels = () => panelFrame.locator('#chart').evaluate((c) => c.toDataURL());
      const logPixels = await pixels();
      await panelFrame.locator('#log').uncheck();
      await until(async () => (await pixels()) !== logPixels, {
        timeout: 15_000,
        what: 'the histogram redrawn by the log toggle',
      });
      await panelFrame.locator('#log').check();
      await until(async () => (await pixels()) === logPixels, {
        timeout: 15_000,
        what: 'the log histogram back',
      });
      const sidebar = page.locator('.part.sidebar').first();
      await sidebar.screenshot({ path: path.join(ARTIFACTS, 'mislabeled.png') });
      return `top row line ${line} (${loss}); histogram ${Math.round(chart.width)}×${Math.round(chart.height)} px`;
    },
  );

  await check('hostile row: markup shows as literal text in the panel, no element created', async () => {
    const input = panelFrame.locator('#text');
    await input.fill('onerror');
    await until(async () => (await rows.count()) === 1, { what: 'the filter leaving one row' }).catch(
      async (err) => {
        throw new Error(`${err.message}: ${await rows.count()} rows`);
      },
    );
    const snippet = await rows.first().locator('.snippet').innerText();
    const title = await rows.first().getAttribute('title');
    for (const s of [HOSTILE_IMG, HOSTILE_SCRIPT])
      if (!snippet.includes(s)) throw new Error(`snippet lacks ${s}: ${snippet}`);
    if (!title.includes(HOSTILE_IMG)) throw new Error('row tooltip lacks the id markup');
    const injected = await panelFrame.locator('#list img, #list script, #list b').count();
    if (injected) throw new Error(`${injected} element(s) created from row data`);
    // No element was created, so no handler can fire; the dialog check below covers the rest of the run.
    await input.fill('');
    return snippet.trim().slice(0, 90);
  });

  await check('no dialog fired in any frame', async () => {
    if (dialogs.length) throw new Error(dialogs.join('; '));
    return 'none';
  });
});
