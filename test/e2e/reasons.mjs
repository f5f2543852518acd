/**
 * End-to-end check of "why a row is memorized" in a real VS Code (code-server) driven by chromium, offline: run
 * `node test/e2e/reasons.mjs` after `npm run compile` (and once `npm run test:e2e`, which installs code-server into
 * .e2e-cache/). Needs ../shared/data (the spam train rows); skips without it.
 *
 * The workspace holds a copy of spam.train.jsonl and spam.conflict.jsonl (the same rows plus two of them copied with
 * the other label), with `memorization.group` = "group". Steps: score spam.train.jsonl from the explorer's context
 * menu while no editor is open: the file opens in the editor by itself, decorated. The ranking view's explanation
 * says what the scores were computed on. On a row that an independent CLI run tags `duplicate`, the hover (Show
 * Hover) names its reasons with their evidence; clicking a duplicate's line number in it moves the cursor there.
 * The panel's reason filter keeps exactly the CLI's count of rows per reason, each with its chip; the group table
 * (collapsible) holds the CLI's per-group figures; the "Duplicates" view lists the CLI's groups, largest first, and
 * clicking a row reveals its line. Then spam.conflict.jsonl: its Duplicates view puts the two relabelled pairs first,
 * their labels side by side with the minority label marked. Last, the light theme (the webview's colours follow it).
 * Every step waits on state (status bar text, rendered rows, the cursor position), never on a fixed delay.
 *
 * Screenshots in .e2e-artifacts/ (the side bar is the default ~300 px): reasons-editor.png (the file opened by
 * scoring), reasons-hover.png, reasons-panel.png (reason filter and chips), reasons-groups.png (the group table),
 * reasons-duplicates.png, reasons-conflict.png, and the light theme: reasons-conflict-light.png,
 * reasons-panel-light.png; reasons-failure.png on failure.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  DATA,
  Harness,
  acceptFieldPick,
  cursorAt,
  errorToast,
  openQuickInput,
  painted,
  palette,
  rankingFrame,
  readJsonl,
  runCli,
  runContextMenu,
  skipUnlessExists,
  treeItem as treeItemOf,
  until,
  waitStatus,
} from './harness.mjs';

const TRAIN = 'spam.train.jsonl';
const CONFLICT = 'spam.conflict.jsonl';
const GROUP = 'group';

skipUnlessExists(path.join(DATA, TRAIN), 'reasons');

const h = new Harness({
  tag: 'reasons',
  tmpPrefix: 'memorization-e2e-reasons-',
  failureShot: 'reasons-failure.png',
});
const check = (name, fn) => h.check(name, fn);
const shot = (name) => path.join(ARTIFACTS, name);

/** An independent CLI run with the same settings: rows (with reasons) and the summary. */
function independentCli(file, tag) {
  const out = path.join(h.tmp, `${tag}.scores.jsonl`);
  const summary = path.join(h.tmp, `${tag}.summary.json`);
  runCli(['score', file, '--group', GROUP, '--out', out, '--summary', summary]);
  return { rows: readJsonl(out), summary: JSON.parse(readFileSync(summary, 'utf8')) };
}

/**
 * The conflict copy: the training rows plus two rows that have no duplicate (and a long text) copied with the other
 * label; returns the lines of the originals and of the copies.
 */
function writeConflictCopy(trainFile, cliRows, target) {
  const text = readFileSync(trainFile, 'utf8');
  const lines = text.split('\n').filter(Boolean);
  const labels = [...new Set(cliRows.map((r) => r.label))].sort();
  const picked = cliRows
    .filter((r) => !(r.reasons ?? []).length && r.line <= lines.length)
    .filter((r) => (JSON.parse(lines[r.line - 1]).text ?? '').length > 300)
    .slice(0, 2);
  if (picked.length < 2) throw new Error('no two rows without reasons to copy');
  const copies = picked.map((r) => {
    const o = JSON.parse(lines[r.line - 1]);
    const other = labels.find((l) => l !== o.label);
    return JSON.stringify({ ...o, id: `${o.id}-relabelled`, label: other });
  });
  writeFileSync(target, `${[...lines, ...copies].join('\n')}\n`);
  return {
    originals: picked.map((r) => r.line),
    copies: [lines.length + 1, lines.length + 2],
    rows: lines.length + 2,
  };
}

await h.run(async () => {
  const ws = h.workspace;
  const train = path.join(ws, TRAIN);
  copyFileSync(path.join(DATA, TRAIN), train);
  h.workspaceSettings({ 'memorization.group': GROUP });
  h.userSettings({
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.tips.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
  });

  const cli = await h.timed('cli score', async () => independentCli(train, 'train'));
  const conflict = writeConflictCopy(train, cli.rows, path.join(ws, CONFLICT));
  const n = cli.rows.length;
  const counts = cli.summary.reasons.counts;
  // The hover target: the most memorized row with a duplicate far from it (so that the cursor visibly moves).
  const target = [...cli.rows]
    .sort((a, b) => a.rank - b.rank)
    .find((r) => {
      const d = (r.reasons ?? []).find((x) => x.kind === 'duplicate');
      return d && Math.abs(d.evidence.rows[0].line - r.line) > 50;
    });
  if (!target) throw new Error('the CLI tagged no row duplicate');
  const dup = target.reasons.find((x) => x.kind === 'duplicate').evidence;
  const dupLine = dup.rows[0].line;
  h.log(`hover target: line ${target.line} (rank ${target.rank}), duplicate at line ${dupLine}`);

  const setup = await h.setup();
  const page = await h.launch(setup);
  const panel = rankingFrame(page);
  const rows = panel.locator('#list .row');
  const status = panel.locator('#status');
  const sidebar = page.locator('.part.sidebar').first();
  const editor = page.locator('.editor-group-container .monaco-editor').first();
  const statusText = async () => (await status.innerText()).replace(/\s+/g, ' ').trim();

  await check('workbench opens with the dataset in the explorer and no editor open', async () => {
    await treeItemOf(page, TRAIN).waitFor({ state: 'visible', timeout: 60_000 });
    const tabs = await page.locator('.tabs-container .tab').count();
    if (tabs) throw new Error(`${tabs} editor tab(s) open before scoring`);
  });

  await check('scoring from the explorer opens the file in the editor, decorated', async () => {
    const { tries } = await runContextMenu(page, treeItemOf(page, TRAIN), 'Score memorization');
    const done = await waitStatus(page, new RegExp(`Memorization: ${n} rows scored`), 240_000, {
      onTick: () => acceptFieldPick(page),
    });
    await page.locator('.tab.active', { hasText: TRAIN }).waitFor({ timeout: 30_000 });
    const decorated = () =>
      editor.locator('.view-overlays [class*="ced-"], .view-line span[class*="ced-"]').count();
    const k = await until(decorated, { timeout: 60_000, what: 'ced-* decorations in the opened editor' });
    await painted(page);
    await editor.screenshot({ path: shot('reasons-editor.png') });
    return `${tries} right-click(s); "${done}"; ${TRAIN} active with ${k} decorated elements`;
  });

  await check('the explanation line says what the scores were computed on', async () => {
    await rows.first().waitFor({ timeout: 30_000 });
    const model = (await panel.locator('#explain-model').innerText()).trim();
    const want = `Scores of a linear head (${cli.summary.parameters} parameters) on standardized mean word vectors, exact solver on the Hessian.`;
    if (
      cli.summary.head !== `linear (${cli.summary.parameters} parameters)` ||
      cli.summary.solver !== 'exact'
    )
      throw new Error(`the CLI's head/solver changed: ${cli.summary.head}, ${cli.summary.solver}`);
    if (model !== want) throw new Error(`#explain-model: "${model}", expected "${want}"`);
    return model;
  });

  await check(
    "the hover names the row's reasons; a duplicate's line number is a link that moves the cursor",
    async () => {
      await editor.locator('.view-lines').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Control+G');
      await until(async () => !!(await openQuickInput(page)), { what: 'the Go to Line input' });
      await page.keyboard.type(String(target.line));
      await page.keyboard.press('Enter');
      await cursorAt(page, target.line);
      // Show Hover at the cursor (column 1: the row summary, not a token).
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      const hover = page.locator('.monaco-hover', { hasText: 'Why' }).first();
      await hover.waitFor({ state: 'visible', timeout: 20_000 });
      const text = (await hover.innerText()).replace(/\s+/g, ' ').trim();
      const words =
        dup.exact && dup.near
          ? `${dup.exact} exact and ${dup.near} near-duplicate`
          : dup.exact
            ? `${dup.exact} exact duplicate`
            : `${dup.near} near-duplicate`;
      if (!text.includes(`duplicate: ${words}`) || !text.includes(`labelled ${target.label}`))
        throw new Error(`hover lacks "duplicate: ${words}… labelled ${target.label}": ${text.slice(0, 300)}`);
      for (const r of target.reasons)
        if (
          !text.includes(
            {
              duplicate: 'duplicate',
              conflict: 'conflicting labels',
              mislabeled: 'likely mislabeled',
              rare: 'rare for its class',
              templated: 'templated',
            }[r.kind],
          )
        )
          throw new Error(`hover lacks the ${r.kind} reason: ${text.slice(0, 300)}`);
      const link = hover.locator('a', { hasText: new RegExp(`^${dupLine}$`) }).first();
      await link.waitFor({ timeout: 5000 });
      await painted(page);
      await page.screenshot({ path: shot('reasons-hover.png') });
      await link.click();
      const at = await cursorAt(page, dupLine, 20_000);
      return `"${text.slice(text.indexOf('Why'), text.indexOf('Why') + 110)}…"; clicked ${dupLine}: ${at}`;
    },
  );
  await page.keyboard.press('Escape');

  /** Selects a reason in the panel's filter and waits for the status line to count the filtered rows. */
  const filterReason = async (value, expected) => {
    await panel.locator('#reason').selectOption(value);
    await until(async () => (await statusText()).startsWith(`${expected} of ${n} rows`), {
      what: `"${expected} of ${n} rows" after filtering by ${value}`,
    }).catch(async (err) => {
      throw new Error(`${err.message}: ${await statusText()}`);
    });
  };

  await check(
    "the reason filter keeps the CLI's rows per reason, each with its chip and evidence",
    async () => {
      const options = await panel.locator('#reason option').allInnerTexts();
      if (!options.includes(`duplicate (${counts.duplicate})`))
        throw new Error(`reason options: ${options.join(' | ')}`);
      await filterReason('mislabeled', counts.mislabeled);
      const chip = rows.first().locator('.chip.r-mislabeled');
      await chip.waitFor({ timeout: 10_000 });
      const title = await chip.getAttribute('title');
      if (!/^likely mislabeled: the head and \d+ of its \d+ nearest rows say /.test(title ?? ''))
        throw new Error(`mislabeled chip tooltip: ${title}`);
      await filterReason('duplicate', counts.duplicate);
      await until(
        async () =>
          (await rows.count()) > 0 &&
          (await rows.locator('.chip.r-duplicate').count()) === (await rows.count()),
        {
          what: 'a duplicate chip on every rendered row',
        },
      );
      const shown = await rows.count();
      await painted(panel.locator('body'));
      await sidebar.screenshot({ path: shot('reasons-panel.png') });
      await filterReason('any', cli.summary.reasons.withAnyReason);
      await filterReason('none', n - cli.summary.reasons.withAnyReason);
      return `${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; ${shown} rows rendered, each with a duplicate chip; "${title.slice(0, 80)}…"`;
    },
  );

  await check("the group table holds the CLI's per-group figures", async () => {
    const details = panel.locator('#groups');
    await details.waitFor({ state: 'visible', timeout: 10_000 });
    if (!(await details.evaluate((d) => d.open))) await panel.locator('#groups-title').click();
    const table = panel.locator('#groups-table table.groups-wide');
    await table.waitFor({ state: 'attached', timeout: 10_000 });
    const cells = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const g = cli.summary.groups;
    // In the ~300 px side bar the table stands on its side: one column per group.
    const narrow = panel.locator('#groups-table table.groups-narrow');
    if (!(await narrow.isVisible()) || (await table.isVisible()))
      throw new Error('the narrow side bar does not show the one-column-per-group table');
    const columns = await narrow.locator('thead th').allInnerTexts();
    for (const x of g.groups)
      if (!columns.includes(x.group)) throw new Error(`narrow table columns: ${columns.join(' | ')}`);
    for (const want of g.groups) {
      const row = cells.find((c) => c[0] === want.group);
      if (!row) throw new Error(`no row for ${want.group}: ${JSON.stringify(cells)}`);
      if (
        row[1] !== String(want.rows) ||
        row[2] !== want.meanPercentile.toFixed(1) ||
        row[3] !== `${(100 * want.top10Share).toFixed(1)}%`
      )
        throw new Error(
          `${want.group}: ${row.join(' | ')} vs CLI ${want.rows}, ${want.meanPercentile}, ${want.top10Share}`,
        );
    }
    await painted(panel.locator('body'));
    await sidebar.screenshot({ path: shot('reasons-groups.png') });
    await panel.locator('#groups-title').click();
    return cells.map((c) => c.slice(0, 4).join(' ')).join('; ');
  });

  const groups = panel.locator('#dups .dup-group');
  await check(
    '"Duplicates" lists the CLI\'s groups, largest first; clicking a row reveals its line',
    async () => {
      await panel.locator('#reason').selectOption('');
      await panel.locator('#mode-duplicates').click();
      await groups.first().waitFor({ timeout: 20_000 });
      const total = cli.summary.duplicates.total;
      await until(async () => (await statusText()).startsWith(`${total} groups`), {
        what: `"${total} groups" in the status line`,
      }).catch(async (err) => {
        throw new Error(`${err.message}: ${await statusText()}`);
      });
      const sizes = cli.summary.duplicates.groups.map((x) => x.length);
      const head = (await groups.first().locator('.dup-size').innerText()).trim();
      if (head !== `${Math.max(...sizes)} rows`)
        throw new Error(`first group "${head}", largest ${Math.max(...sizes)}`);
      const explain = (await panel.locator('#explain-mode').innerText()).trim();
      if (!/^Duplicates/.test(explain)) throw new Error(`explanation: ${explain}`);
      const row = groups.nth(1).locator('.dup-row').first();
      const line = Number(await row.getAttribute('data-line'));
      await row.click();
      const at = await cursorAt(page, line);
      await painted(panel.locator('body'));
      await sidebar.screenshot({ path: shot('reasons-duplicates.png') });
      return `${total} groups (status "${await statusText()}"), first of ${head}; clicked line ${line}: ${at}`;
    },
  );

  await check(
    'a relabelled copy: its group comes first, labels side by side, the minority marked',
    async () => {
      // From the explorer, as a user would (the ranking view has taken the side bar: bring the explorer back).
      await palette(page, 'View: Show Explorer');
      const item = treeItemOf(page, CONFLICT);
      await item.waitFor({ state: 'visible', timeout: 20_000 });
      await runContextMenu(page, item, 'Score memorization');
      await waitStatus(page, new RegExp(`Memorization: ${conflict.rows} rows scored`), 240_000, {
        onTick: () => acceptFieldPick(page),
      });
      const first = groups.first();
      await until(async () => (await first.getAttribute('class'))?.includes('conflict'), {
        timeout: 30_000,
        what: 'a conflict group first',
      });
      const firstTwo = await groups.evaluateAll((gs) =>
        gs.slice(0, 3).map((g) => ({
          conflict: g.classList.contains('conflict'),
          lines: [...g.querySelectorAll('.dup-row')].map((r) => Number(r.dataset.line)).sort((a, b) => a - b),
          labels: [...g.querySelectorAll('.dup-count')].map((c) => c.textContent),
          minority: g.querySelectorAll('.pill.minority').length,
          warn: g.querySelector('.dup-warn')?.textContent ?? '',
        })),
      );
      const pairs = conflict.originals.map((o, k) => [o, conflict.copies[k]].sort((a, b) => a - b));
      for (let k = 0; k < 2; k++) {
        const g = firstTwo[k];
        // One row of each label: a tie, so both labels stand out.
        if (!g.conflict || g.warn !== 'conflicting labels' || g.minority !== 2 || g.labels.length !== 2)
          throw new Error(`group ${k + 1}: ${JSON.stringify(g)}`);
        if (!pairs.some((p) => p.join() === g.lines.join()))
          throw new Error(`group ${k + 1} lines ${g.lines}, planted ${JSON.stringify(pairs)}`);
      }
      if (firstTwo[2]?.conflict) throw new Error('a third conflict group: only two were planted');
      await panel.locator('#reason').selectOption('conflict');
      await until(async () => (await statusText()).startsWith('2 of '), {
        what: '"2 of N groups" with the conflict filter',
      }).catch(async (err) => {
        throw new Error(`${err.message}: ${await statusText()}`);
      });
      await painted(panel.locator('body'));
      await sidebar.screenshot({ path: shot('reasons-conflict.png') });
      return `${JSON.stringify(firstTwo.slice(0, 2).map((g) => [g.lines, g.labels]))}; "${await statusText()}"`;
    },
  );

  await check('light theme: the panel follows it (screenshots)', async () => {
    // The theme picker, as a user switches (the workbench does not reread settings.json written behind its back).
    // Keys pressed while the webview has the focus stay in the webview: focus the editor first.
    await editor.locator('.view-lines').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+T');
    const theme = 'Light Modern';
    await page.locator('.quick-input-widget input').first().fill(theme);
    await until(
      async () => {
        const q = await openQuickInput(page);
        return q && q.focused >= 0 && q.rows[q.focused].includes(theme);
      },
      { what: `the theme picker offering ${theme}` },
    );
    await page.keyboard.press('Enter');
    await until(() => panel.locator('body').evaluate((b) => b.classList.contains('vscode-light')), {
      timeout: 30_000,
      what: 'the webview body in the light theme',
    });
    await panel.locator('#reason').selectOption('');
    await groups.first().waitFor({ timeout: 10_000 });
    await painted(panel.locator('body'));
    await sidebar.screenshot({ path: shot('reasons-conflict-light.png') });
    await panel.locator('#mode-memorized').click();
    await panel.locator('#reason').selectOption('any');
    await rows.first().locator('.chip').first().waitFor({ timeout: 20_000 });
    await painted(panel.locator('body'));
    await sidebar.screenshot({ path: shot('reasons-panel-light.png') });
    return `body class: ${await panel.locator('body').getAttribute('class')}`;
  });

  await check('no error notification, no dialog in any frame', async () => {
    if (await errorToast(page).isVisible()) throw new Error(await errorToast(page).innerText());
    if (h.dialogs.length) throw new Error(h.dialogs.join('; '));
    return 'none';
  });
});
