import { execFileSync } from "node:child_process";

/**
 * An interpreter with CPython's test package (test_bigmem included), for real
 * regrtest runs: MEMFARM_TEST_PYTHON, else Debian's /usr/bin/python3 with
 * libpython3.X-testsuite (scripts/setup.sh installs it), else python3 on PATH.
 */
export function findTestPython(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.MEMFARM_TEST_PYTHON, "/usr/bin/python3", whichPython()].filter(
    (candidate): candidate is string => Boolean(candidate),
  );
  for (const python of candidates) {
    try {
      execFileSync(python, ["-c", "import test.libregrtest, test.test_bigmem"], { stdio: "ignore" });
      return python;
    } catch {
      // Not usable for regrtest; try the next one.
    }
  }
  throw new Error(
    `no python3 with CPython's test package found (tried ${candidates.join(", ")}); run scripts/setup.sh or set MEMFARM_TEST_PYTHON`,
  );
}

function whichPython(): string | undefined {
  try {
    return execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}
