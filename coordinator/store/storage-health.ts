import type { Statement } from "better-sqlite3";
import { MemfarmError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { Db } from "./database.ts";

/** How often the store is written to while it is failing, to notice at once that it is back. */
const PROBE_WHILE_FAILING_MS = 1_000;
/** How often it is written to while it works: /healthz tells a full disk within this, traffic or not. */
const PROBE_WHILE_WORKING_MS = 5_000;

/**
 * What a storage error means in words a person acts on, or null if `thrown` is not one: SQLite's
 * result codes (better-sqlite3 gives them as `code`) and the errno of a file operation.
 */
export function storageProblem(thrown: unknown): string | null {
  const code = (thrown as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return null;
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT") return "its disk is full";
  if (code.startsWith("SQLITE_READONLY") || code === "EROFS") return "its database is read-only";
  if (code.startsWith("SQLITE_IOERR") || code === "EIO") return "its disk fails to read or write";
  if (code === "SQLITE_CANTOPEN") return "it cannot open its database file";
  return null;
}

/** The store cannot be written: a request that would change the farm gets 503 with this. */
export class StorageUnavailableError extends MemfarmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("storage_unavailable", message, options);
  }
}

/**
 * Whether the coordinator can write its SQLite file, as the last write showed: a full disk, a
 * read-only file system or an I/O error turns it to failing (logged once, with the file and what
 * to do), and the next write that works turns it back (logged once). A small probe write keeps
 * the answer fresh when nothing else writes.
 */
export class StorageHealth {
  private failing: { problem: string; since: string; detail: string } | null = null;
  private readonly probe: Statement<[string]>;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    db: Db,
    readonly file: string,
    private readonly log: Logger,
  ) {
    this.probe = db.prepare(
      `INSERT INTO storage_probe (id, written_at) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at`,
    );
  }

  /** Null while writes work; else what is wrong, since when. */
  get problem(): { problem: string; since: string; message: string } | null {
    return this.failing && { ...this.failing, message: this.message(this.failing.problem) };
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Records a failed write; true if it was a storage error (then it is logged once for the whole
   * fault, not once per write). Anything else is the caller's to report.
   */
  failed(thrown: unknown): boolean {
    const problem = storageProblem(thrown);
    if (problem === null) return false;
    if (this.failing?.problem !== problem) {
      this.failing = { problem, since: new Date().toISOString(), detail: String((thrown as Error).message) };
      this.log.error(this.message(problem), { file: this.file, error: this.failing.detail });
      this.schedule();
    }
    return true;
  }

  /** A write worked: the fault, if there was one, is over. */
  succeeded(): void {
    if (!this.failing) return;
    this.log.info("the coordinator can write its database again; reports held back are applied now", {
      file: this.file,
      failingSince: this.failing.since,
    });
    this.failing = null;
    this.schedule();
  }

  /** The error a request that would write gets while the store fails. */
  unavailable(): StorageUnavailableError {
    return new StorageUnavailableError(this.message(this.failing?.problem ?? "it cannot write its database"));
  }

  private message(problem: string): string {
    return `the coordinator cannot write its database ${this.file}: ${problem}. Free space on that disk or make it writable; agents' reports wait in NATS meanwhile and nothing is lost`;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const delay = this.failing ? PROBE_WHILE_FAILING_MS : PROBE_WHILE_WORKING_MS;
    this.timer = setTimeout(() => this.check(), delay);
    this.timer.unref();
  }

  private check(): void {
    try {
      this.probe.run(new Date().toISOString());
      this.succeeded();
    } catch (thrown) {
      if (!this.failed(thrown)) this.log.warn("the storage probe failed", { error: String(thrown) });
    }
    this.schedule();
  }
}
