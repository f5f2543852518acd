/** Scored results per file, in memory and cached on disk (globalStorageUri) by cacheKey. */
import * as vscode from 'vscode';
import type { ScoredRow, ScoreSummary } from '../protocol/results';
import type { ScoreResponse } from '../protocol/messages';
import { contentHash, contentKeys } from './cacheKey';
import { RowIndex } from './rowIndex';
import { SCORABLE } from './scorable';

export interface FileResults {
  uri: vscode.Uri;
  rows: ScoredRow[];
  summary: ScoreSummary;
  index: RowIndex<ScoredRow>;
  contentHash: string;
  key: string;
  scoredAt: number;
  /** Why the results no longer match the file or the settings; undefined while they do. */
  staleReason?: string;
  /** staleReason !== undefined: not decorated, no hovers or diagnostics. */
  readonly stale: boolean;
}

interface CacheFile {
  version: 1;
  file: string;
  key: string;
  contentHash: string;
  scoredAt: number;
  rows: ScoredRow[];
  summary: ScoreSummary;
}

const LAST_KEYS = 'memorization.lastKeys';

export class ResultsStore implements vscode.Disposable {
  private readonly byFile = new Map<string, FileResults>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
  ) {}

  private get cacheDir(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'results');
  }

  private cacheUri(key: string): vscode.Uri {
    return vscode.Uri.joinPath(this.cacheDir, `${key}.json`);
  }

  private lastKeys(): Record<string, string> {
    return this.context.globalState.get<Record<string, string>>(LAST_KEYS, {});
  }

  get(uri: vscode.Uri): FileResults | undefined {
    return this.byFile.get(uri.toString());
  }

  all(): FileResults[] {
    return [...this.byFile.values()];
  }

  private put(uri: vscode.Uri, data: Omit<CacheFile, 'version' | 'file'>, stale?: string): FileResults {
    const r: FileResults = {
      uri,
      rows: data.rows,
      summary: data.summary,
      index: new RowIndex(data.rows),
      contentHash: data.contentHash,
      key: data.key,
      scoredAt: data.scoredAt,
      staleReason: stale,
      get stale() {
        return this.staleReason !== undefined;
      },
    };
    this.byFile.set(uri.toString(), r);
    this.emitter.fire(uri);
    return r;
  }

  /** Records fresh results for `content` (the text the worker scored) and writes them to the cache. */
  async store(uri: vscode.Uri, res: ScoreResponse, content: string, settings: unknown): Promise<FileResults> {
    const data = {
      ...contentKeys(content, settings),
      scoredAt: Date.now(),
      rows: res.rows,
      summary: res.summary,
    };
    const r = this.put(uri, data);
    await this.writeCache(r);
    return r;
  }

  private async writeCache(r: FileResults): Promise<void> {
    try {
      await vscode.workspace.fs.createDirectory(this.cacheDir);
      const file: CacheFile = {
        version: 1,
        file: r.uri.toString(),
        key: r.key,
        contentHash: r.contentHash,
        scoredAt: r.scoredAt,
        rows: r.rows,
        summary: r.summary,
      };
      await vscode.workspace.fs.writeFile(this.cacheUri(r.key), Buffer.from(JSON.stringify(file), 'utf8'));
      await this.context.globalState.update(LAST_KEYS, { ...this.lastKeys(), [r.uri.toString()]: r.key });
    } catch (err) {
      this.output.appendLine(`[cache] write failed: ${(err as Error).message}`);
    }
  }

  /** Records the retraining check's estimates on the file's rows (matched by index and line). */
  setEstimates(
    uri: vscode.Uri,
    rows: readonly { index: number; line: number; estimate: number; stderr: number }[],
  ): number {
    const r = this.get(uri);
    if (!r) return 0;
    const byKey = new Map(rows.map((x) => [`${x.index}:${x.line}`, x]));
    let matched = 0;
    for (const row of r.rows) {
      const e = byKey.get(`${row.index}:${row.line}`);
      if (!e || !Number.isFinite(e.estimate)) continue;
      row.estimate = e.estimate;
      row.estimateStderr = e.stderr;
      matched++;
    }
    void this.writeCache(this.republish(r));
    return matched;
  }

  /** Adds the tokens of explained rows ("Explain this row") to the file's results, by row index. */
  addAttributions(
    uri: vscode.Uri,
    rows: readonly ScoredRow[],
    completeness: ScoreSummary['completeness'],
  ): void {
    const r = this.get(uri);
    if (!r) return;
    for (const row of rows) {
      const i = r.rows.findIndex((x) => x.index === row.index && x.line === row.line);
      if (i >= 0) r.rows[i] = row;
    }
    r.summary = { ...r.summary, completeness };
    void this.writeCache(this.republish(r));
  }

  /** The same results as a new object (views cache per results object: a change must reach them as new results). */
  private republish(r: FileResults): FileResults {
    return this.put(
      r.uri,
      { key: r.key, contentHash: r.contentHash, scoredAt: r.scoredAt, rows: r.rows, summary: r.summary },
      r.staleReason,
    );
  }

  private async readCache(key: string): Promise<CacheFile | undefined> {
    try {
      const bytes = await vscode.workspace.fs.readFile(this.cacheUri(key));
      const data = JSON.parse(Buffer.from(bytes).toString('utf8')) as CacheFile;
      return data.version === 1 && Array.isArray(data.rows) ? data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * On opening a document: a cache hit for its content and the current settings shows at once; otherwise the
   * file's last results are loaded but marked stale (not decorated).
   */
  async loadFor(document: vscode.TextDocument, settings: unknown): Promise<FileResults | undefined> {
    if (document.uri.scheme !== 'file' || !SCORABLE.test(document.uri.fsPath)) return undefined;
    const existing = this.get(document.uri);
    const text = document.getText();
    const { key, contentHash: hash } = contentKeys(text, settings);
    if (existing && existing.key === key && !existing.stale) return existing;
    const hit = await this.readCache(key);
    if (hit) return this.put(document.uri, hit);
    if (existing) return this.markStale(document, hash);
    const last = this.lastKeys()[document.uri.toString()];
    const old = last ? await this.readCache(last) : undefined;
    if (!old) return undefined;
    const reason = old.contentHash === hash ? 'settings changed since scoring' : 'file changed since scoring';
    return this.put(document.uri, old, reason);
  }

  /**
   * Marks results stale when the document's content hash (`hash`, when the caller has it) no longer matches the
   * scored content, and fresh again when an edit is undone.
   */
  markStale(document: vscode.TextDocument, hash = contentHash(document.getText())): FileResults | undefined {
    const r = this.get(document.uri);
    if (!r) return undefined;
    const changed = hash !== r.contentHash;
    if (changed && !r.stale) {
      r.staleReason = 'file changed since scoring';
      this.emitter.fire(document.uri);
    } else if (!changed && r.staleReason === 'file changed since scoring') {
      r.staleReason = undefined;
      this.emitter.fire(document.uri);
    }
    return r;
  }

  async clear(uri: vscode.Uri): Promise<void> {
    const r = this.get(uri);
    this.byFile.delete(uri.toString());
    const keys = { ...this.lastKeys() };
    const key = r?.key ?? keys[uri.toString()];
    delete keys[uri.toString()];
    await this.context.globalState.update(LAST_KEYS, keys);
    if (key) {
      try {
        await vscode.workspace.fs.delete(this.cacheUri(key));
      } catch {
        // already gone
      }
    }
    this.emitter.fire(uri);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
