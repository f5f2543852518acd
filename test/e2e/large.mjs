/**
 * End-to-end test of a file above VS Code's 50 MB limit (VS Code does not synchronize such documents to extensions:
 * no TextDocument, no decorations or hovers): the packaged extension in code-server, driven by chromium, offline.
 * Run with `npm run test:e2e`, or `node test/e2e/large.mjs` after a compile and one full `npm run test:e2e`.
 * Needs ../shared/data (the spam train rows); skips without it.
 *
 * The workspace file repeats the 4,000 spam train rows with fresh ids until it is above 50 MB (13 copies, about
 * 58 MB, 52,000 rows). Steps: right-click it in the explorer, "Score memorization"; scoring completes (timed from the
 * menu click); the notification says VS Code does not give extensions files above 50 MB; the ranking view lists every
 * row; clicking rank 1 opens the file in the editor with the cursor on that row's line ("Ln N" in the status bar),
 * N being an independent CLI run's rank-1 line; no error notification appeared. The extension host's and the
 * worker's peak memory are read from /proc. Screenshot: .e2e-artifacts/large.png (large-failure.png on failure).
 */
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  DATA,
  Harness,
  acceptFieldPick,
  StopWaiting,
  cursorAt,
  painted,
  palette,
  processMemory,
  rankingFrame,
  readJsonl,
  runCli,
  runContextMenu,
  sec,
  skipUnlessExists,
  treeItem as treeItemOf,
  until,
  waitStatus,
} from './harness.mjs';

const SPAM = path.join(DATA, 'spam.train.jsonl');
const FILE = 'spam-large.jsonl';
const LIMIT = 50 * 1024 * 1024; // VS Code's limit for synchronizing a document to extensions
const MIN_BYTES = 55 * 1024 * 1024;
const NOTICE = 'VS Code does not give extensions files above 50 MB';

const h = new Harness({
  tag: 'large',
  tmpPrefix: 'memorization-e2e-large-',
  failureShot: 'large-failure.png',
});
const check = (name, fn) => h.check(name, fn);

/** Repeats the spam train rows, each copy with fresh ids (`<id>-<copy>`), until the file holds ≥ MIN_BYTES. */
async function writeLargeFile(file) {
  const rows = readFileSync(SPAM, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const out = createWriteStream(file);
  let bytes = 0;
  let n = 0;
  for (let copy = 0; bytes < MIN_BYTES; copy++) {
    for (const r of rows) {
      const line = `${JSON.stringify({ ...r, id: `${r.id}-${copy}` })}\n`;
      bytes += Buffer.byteLength(line);
      n++;
      if (!out.write(line)) await new Promise((res) => out.once('drain', res));
    }
  }
  await new Promise((res) => out.end(res));
  return { rows: n, bytes: statSync(file).size };
}

/** An independent CLI run on the same file: the line of rank 1. */
function independentCli(file) {
  const out = path.join(path.dirname(file), '..', 'cli-scores.jsonl');
  const ms = runCli(['score', file, '--out', out]);
  const rows = readJsonl(out);
  const r1 = rows.find((r) => r.rank === 1);
  if (!r1) throw new Error('CLI output has no rank-1 row');
  return { rank1: r1.line, rows: rows.length, ms };
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

skipUnlessExists(SPAM, 'large');

await h.run(async () => {
  const setup = await h.setup();
  h.userSettings({
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.tips.enabled': false,
  });
  const file = path.join(h.workspace, FILE);
  const data = await h.timed('write file', () => writeLargeFile(file));
  if (!(data.bytes > LIMIT)) throw new Error(`${FILE} is ${mb(data.bytes)}, not above 50 MB`);
  h.log(`${FILE}: ${data.rows} rows, ${mb(data.bytes)} (${data.bytes} bytes)`);

  const cli = await h.timed('cli score', async () => independentCli(file));
  h.log(`CLI: ${cli.rows} rows in ${sec(cli.ms)}, rank 1 on line ${cli.rank1}`);

  const page = await h.launch(setup);
  const treeItem = treeItemOf(page, FILE);
  await check('workbench opens with the large file in the explorer', async () => {
    await treeItem.waitFor({ state: 'visible', timeout: 60_000 });
  });

  // Every notification toast seen while the test runs (toasts hide after a while): text and severity.
  const toasts = page.locator('.notifications-toasts .notification-toast');
  const seen = new Map();
  const watchToasts = async () => {
    for (const t of await toasts.all()) {
      const text = (await t.innerText({ timeout: 1000 }).catch(() => '')).replace(/\s+/g, ' ').trim();
      if (!text || seen.has(text)) continue;
      const error =
        (await t
          .locator('.codicon-error')
          .count()
          .catch(() => 0)) > 0;
      seen.set(text, { error });
    }
  };
  const errors = () => [...seen].filter(([text, v]) => v.error || /\bError\b/.test(text)).map(([t]) => t);

  // Memory of the extension host and the worker, sampled while scoring (VmHWM: a process's peak resident set).
  const memory = new Map();
  const sampleMemory = () => {
    const now = {};
    for (const p of processMemory(h.server.proc.pid)) {
      const kind = /extensionHost|--type=extension/.test(p.cmd)
        ? 'extension host'
        : /dist\/worker\.js/.test(p.cmd)
          ? 'worker'
          : undefined;
      if (!kind) continue;
      memory.set(kind, Math.max(memory.get(kind) ?? 0, p.peakMB));
      now[kind] = p.rssMB;
    }
    return now;
  };
  const before = sampleMemory()['extension host'];

  let clickedAt = 0;
  await check('explorer context menu runs "Score memorization"', async () => {
    const r = await runContextMenu(page, treeItem, 'Score memorization');
    clickedAt = r.clickedAt;
    return `${r.tries} right-click(s)`;
  });

  let scoredMs = 0;
  const notice = page.locator('.notifications-toasts .notification-toast', { hasText: NOTICE }).first();
  await check('scoring completes: the notification says why the editor stays plain', async () => {
    await until(
      async () => {
        if (await notice.isVisible()) return true;
        await watchToasts();
        sampleMemory();
        if (errors().length) throw new StopWaiting(`error notification: ${errors().join(' | ')}`);
        // When the fields are a guess the extension asks once: accept what it proposes (the CLI's inference).
        await acceptFieldPick(page);
        return false;
      },
      { timeout: 600_000, what: `a notification with "${NOTICE}"` },
    );
    scoredMs = Date.now() - clickedAt;
    h.timings[`editor score (${data.rows} rows, ${mb(data.bytes)})`] = scoredMs;
    sampleMemory();
    const text = (await notice.innerText({ timeout: 5000 })).replace(/\s+/g, ' ').trim();
    const rows = data.rows.toLocaleString('en-US');
    if (!text.includes(`All ${rows} scored rows are in the ranking panel`))
      throw new Error(`notice lacks the row count ${rows}: ${text}`);
    if (!text.includes(`${FILE} is ${(data.bytes / 1024 / 1024).toFixed(0)} MB`))
      throw new Error(`notice lacks the file size: ${text}`);
    return `after ${sec(scoredMs)}: "${text.slice(0, 140)}…"`;
  });

  const panelFrame = rankingFrame(page);
  const rows = panelFrame.locator('#list .row');
  const firstRow = rows.first();
  let rank1Line = 0;
  await check('the ranking view lists every row, rank 1 first', async () => {
    await firstRow.waitFor({ state: 'visible', timeout: 30_000 });
    const status = (await panelFrame.locator('#status').innerText()).trim();
    if (!new RegExp(`^${data.rows} rows`).test(status)) throw new Error(`panel status: ${status}`);
    const rank = Number((await firstRow.locator('.rank').innerText()).replace('#', '').trim());
    rank1Line = Number(await firstRow.getAttribute('data-line'));
    if (rank !== 1) throw new Error(`first row has rank ${rank}, expected 1`);
    if (rank1Line !== cli.rank1)
      throw new Error(`panel's rank 1 is line ${rank1Line}, the CLI's ${cli.rank1}`);
    return `"${status}", rank 1 on line ${rank1Line} (as the CLI), ${await rows.count()} rows rendered`;
  });

  await check('clicking rank 1 opens the file with the cursor on its line', async () => {
    await firstRow.click();
    await page.locator('.tab.active', { hasText: FILE }).waitFor({ timeout: 30_000 });
    // In a remote or web workbench (code-server) VS Code asks before it opens a file above
    // workbench.editorLargeFileConfirmation (50 MB there): its own "Open Anyway" keeps the editor options (the line).
    const openAnyway = page.getByRole('button', { name: 'Open Anyway' });
    const cursor = page.locator('.statusbar-item', { hasText: /Ln \d+,/ }).first();
    await Promise.race([openAnyway.waitFor({ timeout: 30_000 }), cursor.waitFor({ timeout: 30_000 })]).catch(
      () => {},
    );
    let confirmed = false;
    if (await openAnyway.isVisible()) {
      await openAnyway.click();
      confirmed = true;
    }
    const text = await cursorAt(page, rank1Line, 30_000);
    // The line itself is on screen: the editor shows the row's id.
    const id = JSON.parse(
      readFileSync(file, 'utf8')
        .split('\n')
        .at(rank1Line - 1),
    ).id;
    const line = page.locator('.editor-group-container .monaco-editor .view-line', { hasText: `"${id}"` });
    await line.first().waitFor({ timeout: 30_000 });
    await painted(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'large.png') });
    return `${text}, row ${id} on screen${confirmed ? ' (after VS Code\'s "Open Anyway")' : ''}`;
  });

  await check('with the file the active tab, the status bar says "52000 rows scored"', async () => {
    // The file never becomes a text editor for extensions: the status bar follows the active tab.
    return waitStatus(page, new RegExp(`Memorization: ${data.rows} rows scored`), 10_000);
  });

  await check('no error notification appeared', async () => {
    await watchToasts();
    // Toasts hide after a while: the notification center lists them all.
    await palette(page, 'Notifications: Show Notifications');
    const center = page.locator('.notifications-center');
    await center.waitFor({ timeout: 30_000 });
    const n = await center.locator('.codicon-error').count();
    const all = (await center.innerText()).replace(/\s+/g, ' ').trim();
    await page.keyboard.press('Escape');
    if (n || errors().length) throw new Error(`error notification(s): ${errors().join(' | ') || all}`);
    return `${seen.size} distinct toast texts seen (progress included), none an error`;
  });

  sampleMemory();
  const mem = [...memory].map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', ');
  const idle = before ? ` (extension host ${before.toFixed(0)} MB before scoring)` : '';
  h.log(
    `${FILE}: ${mb(data.bytes)}, ${data.rows} rows; command → scored ${sec(scoredMs)} (CLI alone ${sec(cli.ms)}); ` +
      `peak resident memory: ${mem || 'not measured'}${idle}`,
  );
});
