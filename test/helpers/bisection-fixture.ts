import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeCpython } from "./fake-cpython.ts";

/** What a commit of the bisection fixture does. */
export interface FixtureCommit {
  sha: string;
  subject: string;
  /** How many MiB test_hold holds at this commit. */
  holdMiB: number;
  builds: boolean;
}

/**
 * A fake CPython whose history is made for bisection: `test_hold` holds `baseMiB` at every commit
 * up to the culprit and `grownMiB` from it on; one commit in the range has a configure that fails
 * (the next one mends it); `test_flaky` fails once each time `flakyMarker` exists (it removes the
 * file), so a test can make it fail on one run of one commit only. The first commit is the one
 * a watch starts from; `range` are the commits after it, oldest first.
 */
export class BisectionFixture {
  readonly cpython = new FakeCpython();
  readonly testDir: string;
  readonly flakyMarker: string;
  readonly first: FixtureCommit;
  readonly range: FixtureCommit[] = [];

  /** `holdSeconds`: how long test_hold holds its memory (a slower probe, for tests that act mid-bisection). */
  constructor(options: {
    size: number;
    culprit: number;
    broken: number;
    baseMiB?: number;
    grownMiB?: number;
    holdSeconds?: number;
  }) {
    const base = options.baseMiB ?? 40;
    const grown = options.grownMiB ?? 300;
    this.testDir = this.cpython.workDir("tests");
    this.flakyMarker = join(this.cpython.root, "flaky-once");
    writeTests(this.testDir, this.flakyMarker, options.holdSeconds ?? 0);
    this.first = this.commit(base, true, `Hold ${base} MiB`);
    for (let index = 0; index < options.size; index++) {
      const holdMiB = index >= options.culprit ? grown : base;
      const builds = index !== options.broken;
      const subject =
        index === options.culprit
          ? `gh-1234: grow the held buffer to ${grown} MiB`
          : builds
            ? `Commit ${index + 1} of the range`
            : `Commit ${index + 1}: a configure that does not run`;
      this.range.push(this.commit(holdMiB, builds, subject));
    }
  }

  /** Adds one more commit to the branch (after `range`); returns it. */
  commit(holdMiB: number, builds: boolean, subject: string): FixtureCommit {
    this.cpython.write(
      "python.in",
      `#!/bin/sh\nMEMFARM_TEST_HOLD_MIB=${holdMiB} exec /usr/bin/python3 "$@"\n`,
      0o755,
    );
    // The fake configure fails in a tree that holds BROKEN.
    if (builds) rmSync(join(this.cpython.source, "BROKEN"), { force: true });
    else this.cpython.write("BROKEN", "configure fails at this commit\n");
    const sha = this.cpython.commit(subject);
    return { sha, subject, holdMiB, builds };
  }

  remove(): void {
    this.cpython.remove();
  }
}

function writeTests(dir: string, flakyMarker: string, holdSeconds: number): void {
  writeFileSync(
    join(dir, "test_hold.py"),
    [
      "import os, time, unittest",
      "class Hold(unittest.TestCase):",
      "    def test_hold(self):",
      "        held = b'x' * (int(os.environ.get('MEMFARM_TEST_HOLD_MIB', '0')) * 1024 * 1024)",
      `        time.sleep(${holdSeconds})`,
      "        self.assertTrue(len(held) >= 0)",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "test_flaky.py"),
    [
      "import os, unittest",
      `MARKER = ${JSON.stringify(flakyMarker)}`,
      "class Flaky(unittest.TestCase):",
      "    def test_sometimes(self):",
      "        if os.path.exists(MARKER):",
      "            os.remove(MARKER)",
      "            self.fail('flaky: failed this once')",
      "",
    ].join("\n"),
  );
}
