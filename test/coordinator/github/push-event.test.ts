import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { isGithubRepo, pushedBranch } from "../../../coordinator/github/push-event.ts";

const require = createRequire(import.meta.url);
/** GitHub's own example of a push event. */
const githubPush = (
  require("@octokit/webhooks-examples/api.github.com/index.json") as {
    name: string;
    examples: { ref: string; repository: { full_name: string } }[];
  }[]
)
  .find((definition) => definition.name === "push")
  ?.examples.find((push) => push.ref.startsWith("refs/heads/"));

describe("GitHub push events for watched branches", () => {
  it("read the repository and the branch of a push, and nothing of a tag push", () => {
    assert.deepEqual(pushedBranch({ ref: "refs/heads/3.13", repository: { full_name: "Python/CPython" } }), {
      repository: "python/cpython",
      branch: "3.13",
    });
    assert.equal(
      pushedBranch({ ref: "refs/tags/v3.13.0", repository: { full_name: "python/cpython" } }),
      null,
    );
    assert.equal(pushedBranch({}), null);
    assert.ok(githubPush, "GitHub's example push payload");
    assert.deepEqual(pushedBranch(githubPush), {
      repository: githubPush.repository.full_name.toLowerCase(),
      branch: githubPush.ref.replace("refs/heads/", ""),
    });
  });

  it("match a watch's repository URL in the forms git takes", () => {
    for (const url of [
      "https://github.com/python/cpython",
      "https://github.com/python/cpython.git",
      "https://github.com/Python/CPython/",
      "git@github.com:python/cpython.git",
      "ssh://git@github.com/python/cpython.git",
    ]) {
      assert.ok(isGithubRepo(url, "python/cpython"), url);
    }
    assert.equal(isGithubRepo("https://github.com/python/cpython-fork", "python/cpython"), false);
    assert.equal(isGithubRepo("https://gitlab.com/python/cpython", "python/cpython"), false);
  });
});
