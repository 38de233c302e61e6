import type { TestCounts } from "../../protocol/messages.ts";

/**
 * Reads regrtest's output line by line and keeps what the result needs.
 * Formats differ between CPython versions (see shared/reference/regrtest.md),
 * so every pattern is optional and the exit code stays the source of truth.
 */
export interface RegrtestSummary {
  /** `SUCCESS`, `FAILURE`, `ENV CHANGED`, `NO TESTS RAN`, `INTERRUPTED`, ... or null if never printed. */
  result: string | null;
  /** Test-case counts from `Total tests: run=N failures=F skipped=S` (3.11.7+). */
  caseCounts: TestCounts | null;
  /** Test-case counts from verbose (`-v`) lines, for versions without `Total tests:`. */
  verboseCounts: TestCounts;
  /** Test-file counts from the `N tests OK.` / `N tests failed:` blocks (every version). */
  fileCounts: { ok: number; failed: number; skipped: number };
  failedFiles: string[];
  failedCases: string[];
  /** regrtest's own leak lines (`-R`), one per leaking file and kind: `test_x leaked [1, 1, 1] references, sum=3`. */
  leaks: string[];
  /** The test file regrtest most recently started. */
  currentTest: string | null;
  /** A per-file `--timeout` fired (`Timeout (0:01:40)!` in the log). */
  sawTimeout: boolean;
}

const RESULT_LINE = /^(?:Tests )?[Rr]esult: ([A-Z][A-Z ,]*[A-Z])$/;
const TOTAL_TESTS = /^Total tests: run=(\d+)(?: failures=(\d+))?(?: skipped=(\d+))?/;
/** "All 2 tests OK." when every file passed (regrtest says "All" for more than one), "1 test OK." otherwise. */
const FILE_BLOCK =
  /^(?:All )?(\d+) tests? (OK|failed|skipped|crashed|env changed|run no tests|failed again|altered the execution environment)[.:]/;
const BLOCK_ENTRY = /^ {4}(test\S*(?: test\S*)*)\s*$/;
const PROGRESS = /^(?:\d+:\d\d:\d\d )?(?:load avg: [\d.]+ )?\[\s*\d+\/\d+(?:\/\d+)?\] (test\S*)/;
const CASE_FAILED_HEADER = /^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)/;
const TIMEOUT = /^Timeout \(\d+:\d\d:\d\d\)!$/;
const LEAK = /^test\S* leaked \[[\d, -]+\] (?:references|memory blocks|file descriptors), sum=-?\d+/;
/** A verbose case line: `test_x (mod.Class.test_x) ... ok`, the outcome maybe on a later line. */
const CASE_START = /^(\w+) \(([\w.]+)\)(?: \S.*)? \.\.\.(.*)$/;
const CASE_OUTCOME = /(?:^|\s)(ok|skipped\b.*|FAIL|ERROR|expected failure|unexpected success)$/;

export class RegrtestOutputReader {
  private readonly summary: RegrtestSummary = {
    result: null,
    caseCounts: null,
    verboseCounts: { run: 0, failed: 0, skipped: 0 },
    fileCounts: { ok: 0, failed: 0, skipped: 0 },
    failedFiles: [],
    failedCases: [],
    leaks: [],
    currentTest: null,
    sawTimeout: false,
  };
  /** The `N tests failed:` style block whose indented entries follow, if any. */
  private openBlock: string | null = null;
  /** A verbose case line whose outcome has not been printed yet. */
  private pendingCase: string | null = null;

  read(line: string): void {
    const text = line.trimEnd();
    if (this.openBlock !== null) {
      const entry = BLOCK_ENTRY.exec(text);
      if (entry) {
        if (this.openBlock === "failed") this.addAll(this.summary.failedFiles, entry[1]?.split(" ") ?? []);
        return;
      }
      this.openBlock = null;
    }
    const result = RESULT_LINE.exec(text);
    if (result?.[1]) {
      this.summary.result = result[1];
      return;
    }
    const totals = TOTAL_TESTS.exec(text);
    if (totals) {
      this.summary.caseCounts = {
        run: Number(totals[1]),
        failed: Number(totals[2] ?? 0),
        skipped: Number(totals[3] ?? 0),
      };
      return;
    }
    const block = FILE_BLOCK.exec(text);
    if (block) {
      const count = Number(block[1]);
      const kind = block[2] ?? "";
      if (kind === "OK") this.summary.fileCounts.ok = count;
      if (kind === "failed" || kind === "crashed") this.summary.fileCounts.failed += count;
      if (kind === "skipped") this.summary.fileCounts.skipped = count;
      this.openBlock = kind === "crashed" ? "failed" : kind;
      return;
    }
    const progress = PROGRESS.exec(text);
    if (progress?.[1]) {
      this.summary.currentTest = progress[1];
      return;
    }
    if (this.readVerboseCase(text)) return;
    const failedCase = CASE_FAILED_HEADER.exec(text);
    if (failedCase?.[1] && failedCase[2]) {
      this.addAll(this.summary.failedCases, [caseId(failedCase[1], failedCase[2])]);
      return;
    }
    if (LEAK.test(text)) {
      this.addAll(this.summary.leaks, [text]);
      return;
    }
    if (TIMEOUT.test(text)) this.summary.sawTimeout = true;
  }

  /** Counts verbose case outcomes; true if the line was one. */
  private readVerboseCase(text: string): boolean {
    const start = CASE_START.exec(text);
    if (start?.[1] && start[2]) {
      this.pendingCase = caseId(start[1], start[2]);
      const outcome = CASE_OUTCOME.exec(start[3] ?? "");
      if (outcome?.[1]) this.countCase(outcome[1]);
      return true;
    }
    if (this.pendingCase !== null) {
      const outcome = CASE_OUTCOME.exec(text);
      if (outcome?.[1] && (text === outcome[1] || text.startsWith(outcome[1]))) {
        this.countCase(outcome[1]);
        return true;
      }
    }
    return false;
  }

  private countCase(outcome: string): void {
    const counts = this.summary.verboseCounts;
    counts.run += 1;
    if (outcome.startsWith("skipped")) counts.skipped += 1;
    if (outcome === "FAIL" || outcome === "ERROR" || outcome === "unexpected success") {
      counts.failed += 1;
      if (this.pendingCase) this.addAll(this.summary.failedCases, [this.pendingCase]);
    }
    this.pendingCase = null;
  }

  get(): RegrtestSummary {
    return structuredClone(this.summary);
  }

  private addAll(into: string[], names: string[]): void {
    for (const name of names) if (name !== "" && !into.includes(name)) into.push(name);
  }
}

/** `test_bad (test_x.T.test_bad)` (3.11+) and `test_bad (test_x.T)` (older) both give `test_x.T.test_bad`. */
function caseId(method: string, qualified: string): string {
  return qualified.endsWith(`.${method}`) ? qualified : `${qualified}.${method}`;
}

/** Counts for the job: test cases where regrtest reports them or verbose lines show them, test files otherwise. */
export function countsOf(summary: RegrtestSummary): TestCounts | null {
  const counts = caseOrFileCounts(summary);
  // A leak fails the file, not a case: "46 run, 0 failed" alone would hide it.
  if (counts && summary.leaks.length > 0) return { ...counts, leaks: [...summary.leaks] };
  return counts;
}

function caseOrFileCounts(summary: RegrtestSummary): TestCounts | null {
  if (summary.caseCounts) return summary.caseCounts;
  if (summary.verboseCounts.run > 0) return summary.verboseCounts;
  const { ok, failed, skipped } = summary.fileCounts;
  if (ok + failed + skipped === 0) return null;
  return { run: ok + failed, failed, skipped };
}

/**
 * The most precise names of what failed: the failing test cases where the log
 * names them, and the failing files for which it does not.
 */
export function failedTestsOf(summary: RegrtestSummary): string[] {
  const names = [...summary.failedCases];
  for (const file of summary.failedFiles) {
    const covered = summary.failedCases.some(
      (name) => name.startsWith(`${file}.`) || name.startsWith(`test.${file}.`),
    );
    if (!covered) names.push(file);
  }
  return names;
}
