/**
 * What one job of each suite writes to the coordinator's store, as realistically as this machine
 * can tell without running hours of bigmem: the sampler's rate is the agent's default (1 Hz), the
 * counts of test files and cases are CPython 3.11's own (`python3 -m test --list-tests`: 464 files;
 * `--list-cases`: 41,347 cases; `--list-cases test_bigmem`: 165), the bigmem-smoke run time is the
 * measured one (docs/benchmarks/start-up-and-tests.md), and the rest are estimates named below.
 */
export interface SuiteProfile {
  suite: string;
  /** Wall-clock time of the regrtest run: samples = runSeconds at 1 Hz. */
  runSeconds: number;
  /** Lines of a pydebug build from a git ref (configure + make); 0 for a given interpreter. */
  buildLines: number;
  /** Lines regrtest prints. */
  testLines: number;
  testFiles: number;
  /** Per-case records: from -v lines (bigmem-smoke) or the --junit-xml file (bigmem). */
  testCases: number;
  why: string;
}

/** A CPython pydebug build's output (estimate): ~800 configure lines and ~1,200 make lines, most of them gcc command lines. */
const BUILD_LINES = 2_000;

export const SUITE_PROFILES: SuiteProfile[] = [
  {
    suite: "bigmem-smoke",
    runSeconds: 70,
    buildLines: 0,
    testLines: 200,
    testFiles: 1,
    testCases: 165,
    why: "test_bigmem -M 2G -v on a given python: ~60-70 s measured, one -v line per case",
  },
  {
    suite: "refleak",
    runSeconds: 4 * 3600,
    buildLines: BUILD_LINES,
    testLines: 464 * 4,
    testFiles: 464,
    testCases: 0,
    why: "-R 3:3 -j4 over 464 files, ~4 h (estimate); ~4 lines a file; no -v, no JUnit: no case records",
  },
  {
    suite: "bigmem",
    runSeconds: 8 * 3600,
    buildLines: BUILD_LINES,
    testLines: 464 * 2 + 100,
    testFiles: 464,
    testCases: 41_347,
    why: "-M60g -uall -j4, ~8 h (estimate; its timeout is 12 h); JUnit XML gives every case a record",
  },
  {
    suite: "bigmem",
    runSeconds: 6 * 86_400,
    buildLines: BUILD_LINES,
    testLines: 464 * 2 + 100,
    testFiles: 464,
    testCases: 41_347,
    why: "the worst case the dashboard benchmark assumes: a bigmem job sampled at 1 Hz for six days",
  },
];
