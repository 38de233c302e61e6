/**
 * Tracebacks in regrtest's output, each with the test it belongs to. JUnit XML has nothing for a
 * test file that crashed (an import error, a segfault, a worker that timed out), so the log is
 * the only place its traceback is: `test test_x crashed -- Traceback (most recent call last):`,
 * faulthandler's `Fatal Python error: ...` stack, or `Timeout (0:20:00)!` and each thread's stack.
 */
export interface Traceback {
  /** The test file whose output it is: the one named by the last `[n/N] test_x` line. */
  file: string;
  /** The test case, when unittest named it (`ERROR: test_m (mod.Class.test_m)` before it). */
  testCase: string | null;
  /** faulthandler's report: the interpreter died (a crash or a timeout), not an exception. */
  fatal: boolean;
  text: string;
}

const PROGRESS = /^(?:\d+:\d\d:\d\d )?(?:load avg: [\d.]+ )?\[\s*\d+\/\d+(?:\/\d+)?\] (test\S*)/;
const CASE_HEADER = /^(?:ERROR|FAIL): (\w+) \(([\w.]+)\)/;
const PYTHON_START = "Traceback (most recent call last):";
const FATAL_START = /Fatal Python error: |Timeout \(\d+:\d\d:\d\d\)!/;
const THREAD_HEADER = /^(?:Current thread|Thread) 0x[0-9a-f]+ .*\(most recent call first\):$/;
/** A traceback can be long (deep recursion); the end says what failed, so that is what is kept. */
const MAX_LINES = 400;

interface Open {
  block: Traceback;
  lines: string[];
  sawFrame: boolean;
}

/** What a line is to the traceback being read: more of it, its last line, or not part of it. */
type Step = "more" | "last" | "outside";

export class TracebackReader {
  private file: string | null = null;
  private testCase: string | null = null;
  private open: Open | null = null;

  /** Reads one line; returns the traceback it ended, if any. */
  read(line: string): Traceback[] {
    const text = line.trimEnd();
    let ended: Traceback[] = [];
    if (this.open) {
      const step = this.step(this.open, text);
      if (step === "more") return [];
      if (step === "last") return this.end();
      ended = this.end();
    }
    const progress = PROGRESS.exec(text);
    if (progress?.[1]) {
      this.file = progress[1];
      this.testCase = null;
      return ended;
    }
    const header = CASE_HEADER.exec(text);
    if (header?.[1] && header[2]) {
      this.testCase = header[2].endsWith(`.${header[1]}`) ? header[2] : `${header[2]}.${header[1]}`;
      return ended;
    }
    if (this.file === null) return ended;
    const python = text.indexOf(PYTHON_START);
    const fatal = FATAL_START.exec(text);
    if (python >= 0 || fatal) {
      const start = python >= 0 ? python : (fatal?.index ?? 0);
      this.open = {
        block: { file: this.file, testCase: this.testCase, fatal: python < 0, text: "" },
        lines: [text.slice(start)],
        sawFrame: false,
      };
    }
    return ended;
  }

  /** The traceback still open when the output ended (a crash cuts the last one short). */
  finish(): Traceback[] {
    return this.end();
  }

  private step(open: Open, text: string): Step {
    const frame = /^\s/.test(text) && text.trim() !== "";
    if (open.block.fatal) {
      if (text.startsWith("Extension modules:")) return this.keep(open, text, "last");
      // faulthandler separates the error, each thread's stack and the module list by blank lines.
      if (text === "" || frame || THREAD_HEADER.test(text)) return this.keep(open, text, "more");
      return "outside";
    }
    if (frame) {
      open.sawFrame = true;
      return this.keep(open, text, "more");
    }
    // The exception line (`ValueError: boom`) ends a Python traceback and is part of it.
    return open.sawFrame && text !== "" ? this.keep(open, text, "last") : "outside";
  }

  private keep(open: Open, text: string, step: Step): Step {
    open.lines.push(text);
    if (open.lines.length > MAX_LINES) open.lines.splice(1, open.lines.length - MAX_LINES);
    return step;
  }

  private end(): Traceback[] {
    const open = this.open;
    this.open = null;
    if (!open) return [];
    return [{ ...open.block, text: open.lines.join("\n").trimEnd() }];
  }
}
