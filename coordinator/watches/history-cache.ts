import { randomBytes } from "node:crypto";
import type {
  HistoryKind,
  HistorySnapshot,
  HistoryVersion,
  WatchHistoryStore,
} from "../store/watch-history-store.ts";

/**
 * What the cache may hold: about 28 answers of 10,000 runs (2.2 MB each) or a thousand of the
 * 200 a page asks for. The bytes are the answers' JSON; each entry's own bookkeeping is a few
 * hundred bytes more.
 */
export const HISTORY_CACHE_BYTES = 64 * 1024 * 1024;

/** A history answer: its runs as JSON bytes (a JSON array of WatchRunResource) and their ETag. */
export interface CachedHistory {
  runsJson: Buffer;
  etag: string;
}

interface Entry extends CachedHistory {
  version: HistoryVersion;
  openFrom: number;
  kind: HistoryKind;
  runs: number;
  limit: number;
}

/** What the cache did, for tests and for a person reading the numbers. */
export interface HistoryCacheStats {
  entries: number;
  bytes: number;
  /** Answered from memory, the history unchanged. */
  hits: number;
  /** Only the runs from the oldest open job on read again, the ended runs kept. */
  refreshes: number;
  /** Read whole: first asked, evicted, or an ended run changed. */
  reads: number;
}

const RUN_START = '{"jobId":';

/**
 * A watch's history answers kept in memory, per watch and query (test, limit), least recently
 * used dropped first once they hold more than `maxBytes`. Each ask looks the watch's history
 * version up (one row, written by SQLite triggers with every change: migration 0019) and answers
 * from memory while it is unchanged, so repeated views of a page cost no query.
 *
 * When the history did change (a run of the watch was queued, progressed or ended), an answer is
 * not read whole again unless a run whose job had ended changed too (`rewrites`): its runs of
 * jobs below its oldest open job stand, and only the runs from that job on are read and put in
 * front of them. That is what makes the first read after a run ends cheap; a stale entry is
 * therefore kept, not dropped, until it is read or evicted. Only the first read of a query, or
 * one after an eviction or a rewrite, runs the whole query.
 */
export class WatchHistoryCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private hits = 0;
  private refreshes = 0;
  private reads = 0;
  private readonly tagPrefix = randomBytes(6).toString("base64url");

  constructor(
    private readonly history: WatchHistoryStore,
    private readonly maxBytes = HISTORY_CACHE_BYTES,
  ) {}

  get(watch: string, test: string | null, limit: number): CachedHistory {
    const key = JSON.stringify([watch, test, limit]);
    const cached = this.entries.get(key);
    const version = this.history.version(watch);
    if (cached && sameVersion(cached.version, version)) {
      this.hits += 1;
      this.remember(key, cached);
      return cached;
    }
    const entry =
      (cached && cached.version.rewrites === version.rewrites && this.refreshed(watch, test, cached)) ||
      this.read(watch, test, limit);
    this.remember(key, entry);
    return entry;
  }

  stats(): HistoryCacheStats {
    const { hits, refreshes, reads, bytes } = this;
    return { entries: this.entries.size, bytes, hits, refreshes, reads };
  }

  private read(watch: string, test: string | null, limit: number): Entry {
    this.reads += 1;
    const snapshot = this.history.snapshot(watch, test, limit);
    return this.entryOf(snapshot, Buffer.from(snapshot.json), snapshot.runs, limit);
  }

  /**
   * `cached` with its runs from its oldest open job on read again; null if that cannot be
   * done from what it holds (an ended run changed meanwhile, or it lost runs at its limit).
   */
  private refreshed(watch: string, test: string | null, cached: Entry): Entry | null {
    if (cached.kind === null) return null;
    const head = this.history.snapshot(watch, test, cached.limit, cached.openFrom, cached.kind);
    if (head.version.rewrites !== cached.version.rewrites) return null;
    const { offset, before } = tailOf(cached.runsJson, cached.openFrom);
    const tailRuns = cached.runs - before;
    // Fewer new runs than before at a full answer: the older runs it would now need were never read.
    if (cached.runs === cached.limit && head.runs < before) return null;
    const keep = Math.min(tailRuns, cached.limit - head.runs);
    const tail = cached.runsJson.subarray(offset, endOfRuns(cached.runsJson, offset, tailRuns, keep));
    const headRuns = Buffer.from(head.json.slice(1, -1));
    const parts: Buffer[] = [Buffer.from("["), headRuns];
    if (head.runs > 0 && keep > 0) parts.push(Buffer.from(","));
    if (keep > 0) parts.push(tail);
    parts.push(Buffer.from("]"));
    this.refreshes += 1;
    return this.entryOf(head, Buffer.concat(parts), head.runs + keep, cached.limit);
  }

  /**
   * The ETag names the version, not the bytes (hashing 2 MB would cost more than the rest of a
   * warm answer): one key's answer at one version is the same bytes, and the process's own prefix
   * keeps a restarted coordinator (or a new data directory, whose counts start again) from
   * matching a tag it did not give.
   */
  private entryOf(snapshot: HistorySnapshot, runsJson: Buffer, runs: number, limit: number): Entry {
    const { version, openFrom, kind } = snapshot;
    const etag = `W/"${this.tagPrefix}-${version.changes}.${version.rewrites}"`;
    return { runsJson, etag, version, openFrom, kind, runs, limit };
  }

  private remember(key: string, entry: Entry): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.runsJson.length;
    }
    this.entries.set(key, entry);
    this.bytes += entry.runsJson.length;
    for (const [oldest, evicted] of this.entries) {
      if (this.bytes <= this.maxBytes || oldest === key) break;
      this.entries.delete(oldest);
      this.bytes -= evicted.runsJson.length;
    }
  }
}

function sameVersion(a: HistoryVersion, b: HistoryVersion): boolean {
  return a.changes === b.changes && a.rewrites === b.rewrites;
}

/**
 * Where in `runsJson` (newest first) the runs of jobs below `openFrom` start, and how many runs
 * come before them. The runs' fields are ids, hashes, times and fixed words, so `{"jobId":`
 * starts a run and nothing else; the open runs are the newest, so this reads only the first few.
 */
function tailOf(runsJson: Buffer, openFrom: number): { offset: number; before: number } {
  let before = 0;
  let at = runsJson.indexOf(RUN_START);
  while (at !== -1) {
    const idStart = at + RUN_START.length;
    const idEnd = runsJson.indexOf(",", idStart);
    if (Number(runsJson.toString("latin1", idStart, idEnd)) < openFrom) return { offset: at, before };
    before += 1;
    at = runsJson.indexOf(RUN_START, idEnd);
  }
  return { offset: runsJson.length - 1, before };
}

/** The end of the first `keep` of the `count` runs from `offset` (the oldest are cut from the end). */
function endOfRuns(runsJson: Buffer, offset: number, count: number, keep: number): number {
  let end = runsJson.length - 1; // the closing bracket
  for (let cut = count; cut > keep; cut -= 1) {
    end = runsJson.lastIndexOf(`,${RUN_START}`, end - 1);
    if (end < offset) return offset;
  }
  return end;
}
