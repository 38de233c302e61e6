import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "../../protocol/errors.ts";
import {
  checkGitRef,
  checkRepoUrl,
  DEFAULT_CPYTHON_REPO,
  isCommitSha,
  isFullCommitSha,
  isPullRequestRef,
} from "../../protocol/git-refs.ts";

function rejectedWith(field: string, pattern?: RegExp) {
  return (error: unknown) =>
    error instanceof ValidationError &&
    error.field === field &&
    (pattern === undefined || pattern.test(error.message));
}

describe("git refs", () => {
  it("accepts branches, tags, SHAs and pull request refs", () => {
    for (const ref of [
      "main",
      "3.13",
      "v3.13.0",
      "v3.14.0a1",
      "gh-12345-fix_bigmem",
      "feature/lzma+bz2",
      "refs/heads/main",
      "deadbee",
      "0123456789abcdef0123456789abcdef01234567",
      "pull/12345/head",
      "HEAD",
    ]) {
      assert.equal(checkGitRef(ref), ref);
    }
  });

  it("rejects what git could read as an option, a range or a shell word, saying why", () => {
    const cases: [string, RegExp][] = [
      ["--upload-pack=touch /tmp/x", /whitespace/],
      ["-x", /option/],
      ["a b", /whitespace/],
      ["$(id)", /not allowed/],
      ["main;rm", /not allowed/],
      ["main`id`", /not allowed/],
      ["main|cat", /not allowed/],
      ["main..dev", /range/],
      ["main@{1}", /reflog/],
      ["@", /HEAD/],
      ["a\\b", /backslash/],
      ["main.lock", /\.lock/],
      ["feature/x.lock/y", /\.lock/],
      ["/main", /starts or ends with \//],
      ["main/", /starts or ends with \//],
      ["a//b", /\/\//],
      ["main.", /ends with \./],
      [".hidden", /starts with \./],
      ["a/.b", /starts with \./],
      ["main\u0000", /control/],
      ["main\n", /control/],
      ["tab\there", /control/],
      ["main:refs/heads/x", /not allowed/],
      ["+main", /refspec/],
      ["ma*in", /not allowed/],
      ["ma?n", /not allowed/],
      ["ma[n", /not allowed/],
      ["ma~1", /not allowed/],
      ["ma^", /not allowed/],
      ["", /empty/],
      ["a".repeat(201), /longer than 200/],
    ];
    for (const [ref, reason] of cases) {
      assert.throws(() => checkGitRef(ref), rejectedWith("ref", reason), JSON.stringify(ref));
    }
  });

  it("tells commit SHAs and pull request refs apart from branch names", () => {
    assert.ok(isCommitSha("deadbee"));
    assert.ok(isCommitSha("0123456789abcdef0123456789abcdef01234567"));
    assert.ok(!isCommitSha("dead"));
    assert.ok(!isCommitSha("main"));
    assert.ok(!isCommitSha("0123456789abcdef0123456789abcdef012345678"));
    assert.ok(isPullRequestRef("pull/1/head"));
    assert.ok(!isPullRequestRef("pull/0/head"));
    assert.ok(!isPullRequestRef("pull/x/head"));
    assert.ok(!isPullRequestRef("pull/1/merge"));
  });

  it("pins builds to whole commit ids only: SHA-1 or SHA-256, as git prints them", () => {
    const sha1 = "0123456789abcdef0123456789abcdef01234567";
    const sha256 = `${sha1}${"89abcdef".repeat(3)}`;
    assert.ok(isFullCommitSha(sha1));
    assert.ok(isFullCommitSha(sha256));
    for (const text of [
      "deadbee",
      `${sha1}8`,
      sha256.slice(0, 63),
      `${sha256}0`,
      sha1.toUpperCase(),
      `${sha1}\n`,
      "",
    ]) {
      assert.ok(!isFullCommitSha(text), JSON.stringify(text));
    }
  });
});

describe("repository URLs", () => {
  const remote = { allowLocal: false };
  const local = { allowLocal: true };

  it("accepts https, ssh and scp-like URLs", () => {
    for (const url of [
      DEFAULT_CPYTHON_REPO,
      "https://github.com/python/cpython",
      "https://github.com/python/cpython/",
      "https://git.example.org:8443/mirrors/cpython.git",
      "ssh://git@github.com/python/cpython.git",
      "ssh://git@git.example.org:2222/python/cpython.git",
      "git@github.com:python/cpython.git",
      "github.com:python/cpython.git",
    ]) {
      assert.equal(checkRepoUrl(url, remote), url);
    }
  });

  it("accepts file:// URLs and absolute paths only when local repositories are allowed", () => {
    for (const url of ["file:///srv/git/cpython.git", "/srv/git/cpython", "/tmp/local"]) {
      assert.throws(() => checkRepoUrl(url, remote), rejectedWith("repo", /local repository/));
      assert.equal(checkRepoUrl(url, local), url);
    }
  });

  it("rejects options, remote helpers, other transports and odd characters, saying why", () => {
    const cases: [string, RegExp][] = [
      ["--upload-pack=touch /tmp/x", /whitespace/],
      ["-oProxyCommand=id", /option/],
      ["ext::sh -c touch% /tmp/pwned", /whitespace/],
      ["ext::sh", /remote helper/],
      ["fd::3", /remote helper/],
      ["https::example.org/x", /remote helper/],
      ["http://github.com/python/cpython.git", /transport/],
      ["git://github.com/python/cpython.git", /transport/],
      ["ftp://example.org/cpython.git", /transport/],
      ["https://user:token@github.com/python/cpython.git", /credentials/],
      ["ssh://-oProxyCommand=id/x", /not a valid URL/],
      ["https://github.com/python/../cpython", /not a valid URL/],
      ["https://github.com/python/cpython?x=1", /not a valid URL/],
      ["https://github.com/$(id)", /not a valid URL/],
      ["git@host:-upload", /not a repository URL/],
      ["https://github.com/python/cpython\n", /control/],
      ["https://github.com/python/cpython\u0000", /control/],
      ["relative/path", /not a repository URL/],
      ["", /empty/],
      [`https://example.org/${"a".repeat(1000)}`, /longer than/],
    ];
    for (const [url, reason] of cases) {
      for (const options of [remote, local]) {
        assert.throws(() => checkRepoUrl(url, options), rejectedWith("repo", reason), JSON.stringify(url));
      }
    }
    assert.throws(
      () => checkRepoUrl("file:///tmp/../etc", local),
      rejectedWith("repo", /not a usable local path/),
    );
    assert.throws(() => checkRepoUrl("/tmp/a b", local), rejectedWith("repo", /whitespace/));
  });
});
