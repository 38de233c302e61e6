import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

const JOURNAL = ".jsonl";
const ACKED = ".acked";

/** An attempt's reports that a previous agent process wrote but never got acknowledged. */
export interface PendingJournal {
  attemptId: string;
  /** How many reports were acknowledged (the outbox counts on from there). */
  acknowledged: number;
  /** The reports, in order, after the last acknowledged one (JSON text, one per entry). */
  unacknowledged: string[];
  /** Whether the attempt's result is among them: it finished, and only its delivery is left. */
  hasResult: boolean;
}

/**
 * One attempt's reports on disk, in `DIR/<attemptId>.jsonl` (one report per line, appended before
 * it is sent) and `DIR/<attemptId>.acked` (how many of them the stream has acknowledged). A report
 * survives NATS being down and the agent process dying; a new process replays what is left.
 * Writes are synchronous and small (a few per second per attempt).
 *
 * A write that fails (the agent's disk is full) leaves nothing half-written: the line is cut back
 * off. The journal is then given up for good (its files removed, freeing their space): a journal
 * missing one report would replay the wrong ones. The attempt's reports still go from memory;
 * only an agent that dies before they are delivered loses them.
 */
export class ReportJournal {
  private readonly journalFile: string;
  private readonly ackedFile: string;
  /** Why the journal was given up, or null while it keeps every report. */
  private givenUp: string | null = null;

  constructor(
    readonly dir: string,
    readonly attemptId: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.journalFile = join(dir, `${attemptId}${JOURNAL}`);
    this.ackedFile = join(dir, `${attemptId}${ACKED}`);
  }

  /** Why the journal no longer keeps this attempt's reports (a write failed), or null. */
  get brokenBecause(): string | null {
    return this.givenUp;
  }

  /** Appends a report, whole or not at all; false once the journal is given up. */
  append(report: string): boolean {
    if (this.givenUp !== null) return false;
    let fd: number | undefined;
    try {
      fd = openSync(this.journalFile, "a", 0o600);
      const before = fstatSync(fd).size;
      const bytes = Buffer.from(`${report}\n`);
      try {
        for (let written = 0; written < bytes.length; ) {
          written += writeSync(fd, bytes, written, bytes.length - written);
        }
      } catch (thrown) {
        ftruncateSync(fd, before); // no half line for a replay to trip on
        throw thrown;
      }
      return true;
    } catch (thrown) {
      this.giveUp(thrown);
      return false;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  markAcknowledged(count: number): void {
    if (this.givenUp !== null) return;
    try {
      writeFileSync(this.ackedFile, String(count));
    } catch (thrown) {
      this.giveUp(thrown);
    }
  }

  private giveUp(thrown: unknown): void {
    this.givenUp = (thrown as Error).message;
    try {
      this.remove();
    } catch {
      // Nothing more to do: a later process finds a journal it cannot trust only if this failed.
    }
  }

  /** Everything was delivered: the journal is no longer needed. */
  remove(): void {
    rmSync(this.journalFile, { force: true });
    rmSync(this.ackedFile, { force: true });
  }

  /** Journals left by a previous process, oldest attempt first by name. */
  static pending(dir: string): PendingJournal[] {
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith(JOURNAL));
    } catch {
      return [];
    }
    return names.sort().map((name) => {
      const attemptId = name.slice(0, -JOURNAL.length);
      const lines = readFileSync(join(dir, name), "utf8").split("\n");
      // A line cut short by a crash mid-write is the last one; it was never sent, so drop it.
      const complete = lines.filter(
        (line, index) => line !== "" && (index < lines.length - 1 || isJson(line)),
      );
      const acked = readAcked(join(dir, `${attemptId}${ACKED}`));
      const unacknowledged = complete.slice(acked);
      const hasResult = complete.length > 0 && kindOf(complete.at(-1) as string) === "result";
      return { attemptId, acknowledged: acked, unacknowledged, hasResult };
    });
  }
}

function readAcked(file: string): number {
  try {
    const count = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isSafeInteger(count) && count > 0 ? count : 0;
  } catch {
    return 0;
  }
}

/** The result is always an attempt's last report. */
function kindOf(line: string): unknown {
  try {
    return (JSON.parse(line) as { kind?: unknown }).kind;
  } catch {
    return undefined;
  }
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
