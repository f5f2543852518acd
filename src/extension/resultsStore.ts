/** Scored results per file, in memory and cached on disk (globalStorageUri) by cacheKey. */
import * as vscode from 'vscode';
import type { ScoredRow, ScoreSummary } from '../engine/scoreDataset';
import type { ScoreResponse } from '../protocol/messages';
import { contentHash, contentKeys } from './cacheKey';
import { RowIndex } from './rowIndex';
import { SCORABLE } from './scorable';

export interface FileResults {
  uri: vscode.Uri;
  rows: ScoredRow[];
  summary: ScoreSummary;
  index: RowIndex<ScoredRow>;
  /** The file's lines when scored (for snippets). */
  lines: string[];
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

export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

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

  private put(
    uri: vscode.Uri,
    data: Omit<CacheFile, 'version' | 'file'>,
    text: string,
    stale?: string,
  ): FileResults {
    const r: FileResults = {
      uri,
      rows: data.rows,
      summary: data.summary,
      index: new RowIndex(data.rows),
      lines: splitLines(text),
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
    const r = this.put(uri, data, content);
    try {
      await vscode.workspace.fs.createDirectory(this.cacheDir);
      const file: CacheFile = { version: 1, file: uri.toString(), ...data };
      await vscode.workspace.fs.writeFile(this.cacheUri(data.key), Buffer.from(JSON.stringify(file), 'utf8'));
      await this.context.globalState.update(LAST_KEYS, { ...this.lastKeys(), [uri.toString()]: data.key });
    } catch (err) {
      this.output.appendLine(`[cache] write failed: ${(err as Error).message}`);
    }
    return r;
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
    if (hit) return this.put(document.uri, hit, text);
    if (existing) return this.markStale(document, hash);
    const last = this.lastKeys()[document.uri.toString()];
    const old = last ? await this.readCache(last) : undefined;
    if (!old) return undefined;
    const reason = old.contentHash === hash ? 'settings changed since scoring' : 'file changed since scoring';
    return this.put(document.uri, old, text, reason);
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
