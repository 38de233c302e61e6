import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { remoteScript, shellQuote } from "../../../coordinator/hosts/shell-quote.ts";
import { defaultHostName, formatSshTarget, parseSshTarget } from "../../../coordinator/hosts/ssh-target.ts";

const HOSTILE = [
  "",
  "plain",
  "it's",
  "'",
  "''",
  "'\\''",
  "$(id)",
  "`id`",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, on purpose
  "${HOME}",
  "a; rm -rf /",
  "a && b || c | d",
  "line\nbreak",
  "tab\there",
  "back\\slash\\",
  '"double"',
  "*?[a-z]",
  "~root",
  "-n",
  "--config=x",
  "!event",
  "#comment",
  "é ü 漢字 🙂",
  "\u0001\u001f\u007f",
];

/** What a remote POSIX shell makes of a command line: each argument on its own, NUL-separated. */
function throughShell(commandLine: string, shell: string): string[] {
  const output = execFileSync(shell, ["-c", commandLine], { encoding: "utf8" });
  return output.split("\0").slice(0, -1);
}

describe("shellQuote", () => {
  for (const shell of ["/bin/sh", "/bin/bash"]) {
    it(`hands every hostile string through ${shell} unchanged, as one argument`, () => {
      const line = `printf '%s\\0' ${HOSTILE.map(shellQuote).join(" ")}`;
      assert.deepEqual(throughShell(line, shell), HOSTILE);
    });
  }

  it("passes arguments to a fixed script as $1.. without the script seeing them as code", () => {
    const line = remoteScript('printf "%s\\0" "$@"', HOSTILE);
    assert.deepEqual(throughShell(line, "/bin/sh"), HOSTILE);
  });

  it("refuses a NUL byte rather than truncating", () => {
    assert.throws(() => shellQuote("a\0b"), /NUL/);
  });
});

describe("ssh targets", () => {
  it("parses user, host and port, IPv6 in brackets", () => {
    assert.deepEqual(parseSshTarget("ssh://farm@arm1.example.org"), {
      user: "farm",
      address: "arm1.example.org",
      port: 22,
    });
    assert.deepEqual(parseSshTarget("ssh://_x-1@10.0.0.7:2222"), {
      user: "_x-1",
      address: "10.0.0.7",
      port: 2222,
    });
    assert.deepEqual(parseSshTarget("ssh://farm@[::1]:22/"), { user: "farm", address: "::1", port: 22 });
    assert.equal(formatSshTarget({ user: "farm", address: "::1", port: 2222 }), "ssh://farm@[::1]:2222");
  });

  it("refuses what is not a user, a host or a port", () => {
    for (const text of [
      "farm@host",
      "ssh://host",
      "ssh://Root@host",
      "ssh://a b@host",
      "ssh://$(id)@host",
      "ssh://farm@-oProxyCommand=sh",
      "ssh://farm@host;id",
      "ssh://farm@host..org",
      "ssh://farm@[host]",
      "ssh://farm@host:0",
      "ssh://farm@host:65536",
      "ssh://farm@host:22x",
      `ssh://${"a".repeat(33)}@host`,
    ]) {
      assert.throws(() => parseSshTarget(text), { name: "ValidationError" }, text);
    }
  });

  it("names a host after its first label, with the port when it is not 22", () => {
    assert.equal(defaultHostName(parseSshTarget("ssh://farm@arm1.example.org")), "arm1");
    assert.equal(defaultHostName(parseSshTarget("ssh://farm@127.0.0.1:2201")), "127-0-0-1-2201");
  });
});
