import type { LogLine, Report, Sample, TestRecord } from "../../protocol/messages.ts";
import { encode, reportMessageId } from "../../protocol/messages.ts";
import type { AttemptOutcome } from "../attempts/run-attempt.ts";
import type { Outbox } from "./outbox.ts";

/**
 * One progress message a second at most (besides the forced ones: started, commit, version, a full
 * batch): each costs a journal append, a JetStream publish and its acknowledgement, and at 4 a
 * second they were a fifth of the agent's cost per job. Samples and lines are batched, not dropped.
 */
const FLUSH_INTERVAL_MS = 1000;
/** Keeps each progress message well under NATS's 1 MiB payload limit. */
const MAX_BATCH_CHARS = 256 * 1024;

/**
 * Batches an attempt's log lines and samples into numbered progress messages
 * and sends its result last, all through the attempt's outbox so they arrive in order.
 */
export class AttemptReporter {
  private log: LogLine[] = [];
  private samples: Sample[] = [];
  private tests: TestRecord[] = [];
  private commit: string | undefined;
  private commitTime: string | null = null;
  private pythonVersion: string | undefined;
  private batchChars = 0;
  private seq = 0;
  private started = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly attemptId: string,
    private readonly outbox: Outbox,
  ) {
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  markStarted(): void {
    this.started = true;
    this.flush(true);
  }

  addLog(line: LogLine): void {
    // Stamped here, as it is read, so a message held back in the outbox keeps the line's real time.
    this.log.push(line.at === undefined ? { ...line, at: Date.now() } : line);
    this.batchChars += line.text.length + 32;
    if (this.batchChars >= MAX_BATCH_CHARS) this.flush();
  }

  addSample(sample: Sample): void {
    this.samples.push(sample);
  }

  addTests(records: TestRecord[]): void {
    this.tests.push(...records);
    this.batchChars += records.length * 200;
  }

  /** The exact commit the job runs, once a ref is resolved, and its committer time; sent with the next message. */
  setCommit(commit: string, commitTime: string | null): void {
    this.commit = commit;
    this.commitTime = commitTime;
    this.flush(true);
  }

  /** The version of the interpreter the job runs; sent with the next message. */
  setPythonVersion(version: string): void {
    this.pythonVersion = version;
    this.flush(true);
  }

  /** Sends what is buffered, then the result; resolves when the coordinator has it. */
  async finish(outcome: AttemptOutcome): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await this.send({ kind: "result", ...outcome, lastSeq: this.seq });
    this.outbox.finish();
  }

  /** The attempt was handed back: nothing more of it is worth sending, now or after a restart. */
  abandon(): void {
    clearInterval(this.timer);
    this.outbox.discard();
  }

  private send(report: Report): Promise<void> {
    return this.outbox.send(encode(report), reportMessageId(report));
  }

  private flush(force = false): void {
    if (!force && this.log.length === 0 && this.samples.length === 0 && this.tests.length === 0) return;
    this.seq += 1;
    const progress: Report = {
      kind: "progress",
      attemptId: this.attemptId,
      seq: this.seq,
      started: this.started,
      log: this.log,
      samples: this.samples,
      tests: this.tests,
      ...(this.commit === undefined ? {} : { commit: this.commit }),
      ...(this.commitTime === null ? {} : { commitTime: this.commitTime }),
      ...(this.pythonVersion === undefined ? {} : { pythonVersion: this.pythonVersion }),
    };
    this.log = [];
    this.samples = [];
    this.tests = [];
    this.batchChars = 0;
    void this.send(progress);
  }
}
