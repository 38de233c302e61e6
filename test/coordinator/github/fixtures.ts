import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeCpython, localBuildSuite } from "../../helpers/fake-cpython.ts";
import { makeJobsDir, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { GithubStandIn } from "./github-stand-in.ts";

export const SECRET = "a-webhook-secret-for-tests-only";
export const REPO_NAME = "python/cpython";

/**
 * A farm with the PR bot on, GitHub's REST API played by a local stand-in,
 * and a fake CPython git repository as the pull requests' base repository
 * (its `main`, and `refs/pull/N/head` refs pushed by the tests).
 */
export interface BotFixture {
  farm: TestFarm;
  github: GithubStandIn;
  cpython: FakeCpython;
  repo: { fullName: string; cloneUrl: string };
  stop(): Promise<void>;
}

/** One test file whose single test allocates MEMFARM_TEST_ALLOC_MB (set by the fake interpreter) and holds it a moment. */
const MEMORY_TEST = `import os, time, unittest
class MemoryTest(unittest.TestCase):
    def test_allocates(self):
        block = bytearray(int(os.environ.get("MEMFARM_TEST_ALLOC_MB", "20")) * 1024 * 1024)
        time.sleep(0.5)
        self.assertTrue(block is not None)
`;

export async function startBotFixture(): Promise<BotFixture> {
  const github = new GithubStandIn();
  await github.start();
  const cpython = new FakeCpython();
  const testDir = mkdtempSync(join(tmpdir(), "memfarm-bot-tests-"));
  writeFileSync(join(testDir, "test_memory.py"), MEMORY_TEST);
  const farm = await startFarm({
    allowLocalRepos: true,
    jobsDir: makeJobsDir({
      "local-build": localBuildSuite(testDir),
    }),
    github: {
      webhookSecret: SECRET,
      apiUrl: github.url,
      token: "ghp_stand-in-token",
      repos: REPO_NAME,
    },
  });
  return {
    farm,
    github,
    cpython,
    repo: { fullName: REPO_NAME, cloneUrl: cpython.url },
    async stop() {
      await farm.stop();
      await github.stop();
      cpython.remove();
    },
  };
}

/** Pushes a PR head to the base repository as GitHub does: `refs/pull/N/head`, here with a fake interpreter that allocates `allocMb` in the test. */
export function pushPullRequest(cpython: FakeCpython, pr: number, allocMb: number): string {
  const main = cpython.revParse("main");
  cpython.git("checkout", "--quiet", "-b", `pr-${pr}`);
  cpython.write(
    "python.in",
    `#!/bin/sh\nMEMFARM_TEST_ALLOC_MB=${allocMb} exec /usr/bin/python3 "$@"\n`,
    0o755,
  );
  const head = cpython.commit(`PR ${pr}: more memory`);
  cpython.git("update-ref", `refs/pull/${pr}/head`, head);
  cpython.git("checkout", "--quiet", "main");
  cpython.git("branch", "--quiet", "-D", `pr-${pr}`);
  if (cpython.revParse("main") !== main) throw new Error("main moved");
  return head;
}
