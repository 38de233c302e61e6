import type { PeakMeasure, TestOutcome, TestRecord } from "../../protocol/messages.ts";
import type { JunitCase } from "./junit-xml.ts";
import type { RegrtestSummary } from "./regrtest-output.ts";
import { type Traceback, TracebackReader } from "./tracebacks.ts";

/**
 * Memory of the job's process tree as the timeline needs it: the peak since
 * the last reset. The agent implements it with /proc/PID/clear_refs and VmHWM,
 * so a test's peak is the kernel's, not the highest sample.
 */
export interface PeakWindow {
  /** Starts a new window (folding the previous window's peak into the job's peak first). */
  reset(): void;
  /** The highest resident memory of any process of the tree since the last reset. */
  peak(): number | null;
  /** How peak() measures, for the records (see PeakMeasure). */
  readonly measuredBy?: PeakMeasure;
}

const PROGRESS = /^(?:\d+:\d\d:\d\d )?(?:load avg: [\d.]+ )?\[\s*\d+\/\d+(?:\/\d+)?\] (test\S*)(.*)$/;
const RESULT =
  /^(test\S*) (passed|failed|skipped|timed out|interrupted|ran no tests|crashed|worker non-zero exit code|worker bug)(.*)$/;
const CASE_START = /^(\w+) \(([\w.]+)\)(?: \S.*)? \.\.\.(.*)$/;
const CASE_OUTCOME = /(?:^|\s)(ok|skipped(?: .*)?|FAIL|ERROR|expected failure|unexpected success)$/;
const LEAK = /^(test\S*) leaked \[[\d, -]+\] (references|memory blocks|file descriptors), sum=(-?\d+)/;
const MEM = /\bmem: (\d+) MiB\b/;
/** What a test's detail keeps of its tracebacks: the end, which names the error. */
const MAX_TRACEBACK_CHARS = 4000;
/** Tracebacks kept per test file until it is known to have failed (a passing file may print some). */
const TRACEBACKS_PER_FILE = 5;
const FAILING: readonly TestOutcome[] = ["failed", "error", "timed_out"];

interface OpenTest {
  record: TestRecord;
  startMs: number;
}

/**
 * Attributes time and memory to each test from regrtest's output as it
 * streams. Run sequentially (no -j), tests run in the main process one after
 * the other, so each verbose case line opens a window whose kernel peak is the
 * case's peak. With -j the workers' lines arrive only when a file finishes, so
 * files get regrtest's own duration and cases get their outcome only.
 */
export class TestTimeline {
  private openFile: OpenTest | null = null;
  private openCase: OpenTest | null = null;
  private readonly completed: TestRecord[] = [];
  private readonly files = new Map<string, TestRecord>();
  private readonly cases = new Map<string, TestRecord>();
  private readonly tracebacks = new TracebackReader();
  /** Tracebacks of each test file, until it closes failing or the run ends. */
  private readonly pending = new Map<string, Traceback[]>();

  constructor(
    private readonly options: {
      sequential: boolean;
      window: PeakWindow | null;
      /** Under -j: the peak of the worker that ran a test file (its own cgroup), null if unknown. */
      workerPeak?: (test: string) => number | null;
      now?: () => number;
    },
  ) {}

  read(line: string): void {
    for (const traceback of this.tracebacks.read(line)) this.noteTraceback(traceback);
    const text = line.trimEnd();
    const progress = PROGRESS.exec(text);
    if (progress?.[1]) {
      this.onProgress(progress[1], progress[2] ?? "");
      return;
    }
    const result = RESULT.exec(text);
    if (result?.[1] && result[2]) {
      // Sequential runs print the last file's result on a line of its own.
      this.closeFile(result[1], result[2], result[3] ?? "");
      return;
    }
    const leak = LEAK.exec(text);
    if (leak?.[1]) {
      this.noteLeak(leak[1], text);
      return;
    }
    const caseStart = CASE_START.exec(text);
    if (caseStart?.[1] && caseStart[2]) {
      const id = caseId(caseStart[1], caseStart[2]);
      if (this.openCase?.record.name !== id) this.openCaseRecord(id);
      const outcome = CASE_OUTCOME.exec(caseStart[3] ?? "");
      if (outcome?.[1]) this.closeCase(outcome[1]);
      return;
    }
    if (this.openCase) {
      const outcome = CASE_OUTCOME.exec(text);
      if (outcome?.[1] && text.startsWith(outcome[1])) this.closeCase(outcome[1]);
    }
  }

  /**
   * The unfinished last line of the output so far. unittest prints
   * `test_x (...) ... ` before running a case and its outcome after, so the
   * case starts when this partial line arrives, not when the line completes.
   */
  readPartial(text: string): void {
    const caseStart = CASE_START.exec(text);
    if (!caseStart?.[1] || !caseStart[2] || (caseStart[3] ?? "").trim() !== "") return;
    const id = caseId(caseStart[1], caseStart[2]);
    if (this.openCase?.record.name !== id) this.openCaseRecord(id);
  }

  /** Records completed since the last call, to stream to the coordinator. */
  takeCompleted(): TestRecord[] {
    return this.completed.splice(0);
  }

  /** Closes what is still open once the run ended, using the summary's list of failed files. */
  finish(summary: RegrtestSummary): TestRecord[] {
    for (const traceback of this.tracebacks.finish()) this.noteTraceback(traceback);
    if (this.openCase) this.closeCase(null);
    if (this.openFile) {
      const name = this.openFile.record.name;
      // faulthandler's report in a file's output: the interpreter died in it (run without -j).
      const crashed = this.pending.get(name)?.some((traceback) => traceback.fatal) ?? false;
      this.closeFile(
        name,
        summary.failedFiles.includes(name) ? "failed" : crashed ? "crashed" : "passed",
        "",
      );
    }
    for (const name of summary.failedFiles) {
      const record = this.files.get(name);
      if (record && record.outcome === "passed") {
        record.outcome = "failed";
        this.attachPending(record);
        this.completed.push({ ...record });
      }
    }
    return this.takeCompleted();
  }

  /**
   * A traceback goes to the case unittest named before it, else to its test file once the file
   * is known to have failed: a file that passes may print tracebacks its tests expected.
   */
  private noteTraceback(traceback: Traceback): void {
    const testCase = traceback.testCase === null ? undefined : this.cases.get(traceback.testCase);
    if (testCase && FAILING.includes(testCase.outcome)) {
      if (testCase.detail === null) {
        testCase.detail = keepEnd(traceback.text);
        this.completed.push({ ...testCase });
      }
      return;
    }
    const kept = this.pending.get(traceback.file) ?? [];
    kept.push(traceback);
    this.pending.set(traceback.file, kept.slice(-TRACEBACKS_PER_FILE));
    // With -j a file's output follows the line with its result: the record was sent already.
    const file = this.files.get(traceback.file);
    if (file && file !== this.openFile?.record && this.attachPending(file)) this.completed.push({ ...file });
  }

  /** Sets a failing file's detail from its tracebacks; true if it changed. */
  private attachPending(record: TestRecord): boolean {
    const kept = this.pending.get(record.name);
    if (!kept || !FAILING.includes(record.outcome)) return false;
    this.pending.delete(record.name);
    const text = kept.map((traceback) => traceback.text).join("\n\n");
    record.detail = keepEnd(record.detail ? `${record.detail}\n\n${text}` : text);
    return true;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private onProgress(name: string, rest: string): void {
    if (!this.options.sequential) {
      const result = RESULT.exec(`${name}${rest}`);
      if (result?.[2]) this.fileFromWorker(name, result[2], result[3] ?? "");
      return;
    }
    // `[2/3] test_b -- test_a failed (1 failure)`: the suffix is the previous file's result.
    const previous =
      /^ -- (test\S*) (passed|failed|skipped|timed out|interrupted|ran no tests|crashed)(.*)$/.exec(rest);
    if (this.openFile) {
      const outcome =
        previous && previous[1] === this.openFile.record.name ? (previous[2] ?? "passed") : "passed";
      this.closeFile(this.openFile.record.name, outcome, previous?.[3] ?? "");
    }
    this.options.window?.reset();
    const record = this.newRecord(name, "file");
    this.openFile = { record, startMs: this.now() };
  }

  private fileFromWorker(name: string, result: string, rest: string): void {
    const record = this.newRecord(name, "file");
    record.outcome = fileOutcome(result, rest);
    record.durationSeconds = parseDuration(rest);
    record.startedAt =
      record.durationSeconds === null ? null : Math.round(this.now() - record.durationSeconds * 1000);
    const worker = this.options.workerPeak?.(name) ?? null;
    const mem = memFrom(rest);
    setPeak(record, maxOf(worker, mem), worker !== null ? "worker-cgroup" : "regrtest");
    this.files.set(name, record);
    this.completed.push({ ...record });
  }

  private closeFile(name: string, result: string, rest: string): void {
    const open = this.openFile;
    if (!open || open.record.name !== name) return;
    if (this.openCase) this.closeCase(null);
    const record = open.record;
    if (record.outcome !== "leaked") record.outcome = fileOutcome(result, rest);
    record.durationSeconds = (this.now() - open.startMs) / 1000;
    const measured = maxOf(record.peakRssBytes, this.options.window?.peak() ?? null);
    const peak = maxOf(measured, memFrom(rest));
    setPeak(record, peak, measured === null ? "regrtest" : this.options.window?.measuredBy);
    this.openFile = null;
    this.attachPending(record);
    this.files.set(name, record);
    this.completed.push({ ...record });
  }

  private openCaseRecord(name: string): void {
    if (this.openCase) this.closeCase(null);
    const timed = this.options.sequential;
    if (timed) this.options.window?.reset();
    const record = this.newRecord(name, "case");
    this.openCase = { record, startMs: this.now() };
  }

  private closeCase(outcome: string | null): void {
    const open = this.openCase;
    if (!open) return;
    this.openCase = null;
    const record = open.record;
    record.outcome = caseOutcome(outcome);
    if (outcome?.startsWith("skipped"))
      record.detail = outcome.replace(/^skipped ?/, "").replace(/^'(.*)'$/, "$1") || null;
    if (this.options.sequential) {
      record.durationSeconds = (this.now() - open.startMs) / 1000;
      setPeak(record, this.options.window?.peak() ?? null, this.options.window?.measuredBy);
      if (this.openFile) {
        const file = this.openFile.record;
        setPeak(file, maxOf(file.peakRssBytes, record.peakRssBytes), this.options.window?.measuredBy);
      }
    } else {
      record.startedAt = null;
    }
    this.cases.set(record.name, record);
    this.completed.push({ ...record });
  }

  /**
   * Adds what the JUnit XML knows to the cases: failure messages, and
   * durations the log could not give (-j). Returns the records that changed
   * or were new, to send again. The log's outcome stands where both have one.
   */
  enrich(junit: JunitCase[]): TestRecord[] {
    const changed: TestRecord[] = [];
    for (const entry of junit) {
      const known = this.cases.get(entry.name) ?? this.cases.get(entry.name.replace(/^test\./, ""));
      if (!known) {
        const record = {
          ...this.newRecord(entry.name, "case"),
          ...entry,
          startedAt: null,
          peakRssBytes: null,
        };
        this.cases.set(entry.name, record);
        changed.push(record);
        continue;
      }
      const detail = known.detail ?? entry.detail;
      const durationSeconds = known.durationSeconds ?? entry.durationSeconds;
      if (detail === known.detail && durationSeconds === known.durationSeconds) continue;
      Object.assign(known, { detail, durationSeconds });
      changed.push({ ...known });
    }
    return changed;
  }

  private noteLeak(name: string, text: string): void {
    const record = this.openFile?.record.name === name ? this.openFile.record : this.files.get(name);
    if (!record) return;
    record.outcome = "leaked";
    record.detail = record.detail ? `${record.detail}; ${text}` : text;
    if (record !== this.openFile?.record) this.completed.push({ ...record });
  }

  private newRecord(name: string, kind: "file" | "case"): TestRecord {
    return {
      name,
      kind,
      outcome: "passed",
      startedAt: this.now(),
      durationSeconds: null,
      peakRssBytes: null,
      detail: null,
    };
  }
}

/** Sets a record's peak and how it was measured (no label where there is no figure). */
function setPeak(record: TestRecord, bytes: number | null, measuredBy: PeakMeasure | undefined): void {
  record.peakRssBytes = bytes;
  if (bytes !== null && measuredBy !== undefined) record.peakMeasuredBy = measuredBy;
  else delete record.peakMeasuredBy;
}

function keepEnd(text: string): string {
  return text.length > MAX_TRACEBACK_CHARS ? `…${text.slice(-MAX_TRACEBACK_CHARS)}` : text;
}

function caseId(method: string, qualified: string): string {
  return qualified.endsWith(`.${method}`) ? qualified : `${qualified}.${method}`;
}

function caseOutcome(outcome: string | null): TestOutcome {
  if (outcome === null) return "error"; // the case never printed its outcome (crash, timeout)
  if (outcome === "ok" || outcome === "expected failure") return "passed";
  if (outcome.startsWith("skipped")) return "skipped";
  if (outcome === "ERROR") return "error";
  return "failed";
}

function fileOutcome(result: string, rest: string): TestOutcome {
  if (result === "passed") return "passed";
  if (result === "skipped" || result === "ran no tests") return "skipped";
  if (result === "timed out") return "timed_out";
  if (result === "failed" && rest.includes("reference leak")) return "leaked";
  if (result === "failed") return "failed";
  return "error";
}

/** regrtest's format_duration: `38.4 sec`, `1 min 5 sec`, `2 hour 3 min`, `250 ms`. */
export function parseDuration(text: string): number | null {
  const match =
    /\((?:in )?((?:\d+(?:\.\d+)? (?:hour|min|sec|ms) ?)+)\)|in ((?:\d+(?:\.\d+)? (?:hour|min|sec|ms) ?)+)/.exec(
      text,
    );
  const spec = match?.[1] ?? match?.[2];
  if (!spec) return null;
  let seconds = 0;
  for (const [, amount, unit] of spec.matchAll(/(\d+(?:\.\d+)?) (hour|min|sec|ms)/g)) {
    const value = Number(amount);
    seconds +=
      unit === "hour" ? value * 3600 : unit === "min" ? value * 60 : unit === "ms" ? value / 1000 : value;
  }
  return seconds;
}

function memFrom(text: string): number | null {
  const match = MEM.exec(text);
  return match ? Number(match[1]) * 1024 * 1024 : null;
}

function maxOf(...values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length > 0 ? Math.max(...known) : null;
}
