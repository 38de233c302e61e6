import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type { ProbePythonReply } from "../../protocol/messages.ts";

const PROBE_TIMEOUT_MS = 20_000;

/**
 * Prints the version, then the test files of the interpreter's Lib/test (modules and packages
 * named test_*), so that the coordinator can refuse a job naming a test that does not exist.
 */
const PROBE_SCRIPT = `import os, sys, test.libregrtest
print(sys.version.split()[0])
d = os.path.dirname(test.__file__)
print(" ".join(sorted(n[:-3] if n.endswith(".py") else n for n in os.listdir(d)
  if n.startswith("test_") and (n.endswith(".py") or os.path.isfile(os.path.join(d, n, "__init__.py"))))))`;

/**
 * Whether `python` on this host can run regrtest: an absolute path to an
 * executable file whose `test.libregrtest` imports. Runs the interpreter with
 * an argument array, never through a shell.
 */
export async function probePython(python: string): Promise<ProbePythonReply> {
  if (!isAbsolute(python)) return { usable: false, problem: `${python} is not an absolute path` };
  try {
    const info = await stat(python);
    if (!info.isFile()) return { usable: false, problem: `${python} is not a file` };
    await access(python, constants.X_OK);
  } catch {
    return { usable: false, problem: `${python} does not exist or is not executable on this host` };
  }
  return new Promise((resolve) => {
    execFile(
      python,
      ["-E", "-c", PROBE_SCRIPT],
      { timeout: PROBE_TIMEOUT_MS, shell: false },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim().split("\n").at(-1) ?? error.message;
          resolve({ usable: false, problem: `${python} cannot run regrtest: ${detail}` });
        } else {
          const [version = "", tests = ""] = stdout.trim().split("\n");
          if (!/^\d+\.\d+/.test(version)) {
            resolve({ usable: false, problem: `${python} did not answer like a Python interpreter` });
          } else {
            resolve({ usable: true, version, tests: tests.split(" ").filter(Boolean) });
          }
        }
      },
    );
  });
}
