import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { describeHostKey, judgeHostKey } from "../../../coordinator/hosts/host-key.ts";

describe("host keys", () => {
  it("fingerprints a key blob as ssh-keygen does", () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-key-"));
    try {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
      const blob = Buffer.from(readFileSync(join(dir, "k.pub"), "utf8").split(" ")[1] ?? "", "base64");
      const expected = /SHA256:\S+/.exec(
        execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }),
      )?.[0];
      assert.deepEqual(describeHostKey(blob), { type: "ssh-ed25519", fingerprint: expected });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const key = { type: "ssh-ed25519", fingerprint: `SHA256:${"k".repeat(43)}` };
  const other = { type: "ssh-ed25519", fingerprint: `SHA256:${"o".repeat(43)}` };
  const judge = (recorded: typeof key | null, expectedFingerprint: string | null, acceptNew: boolean) =>
    judgeHostKey({ presented: key, recorded, expectedFingerprint, acceptNew, where: "h" }).kind;

  it("follows OpenSSH: recorded passes, changed never does, a first key needs a fingerprint or --accept-new", () => {
    assert.equal(judge(key, null, false), "known");
    assert.equal(judge(other, null, true), "changed");
    assert.equal(judge(other, key.fingerprint, true), "changed");
    assert.equal(judge(null, key.fingerprint, false), "expected");
    assert.equal(judge(null, other.fingerprint, true), "changed");
    assert.equal(judge(null, null, true), "accept-new");
    assert.equal(judge(null, null, false), "unknown");
  });
});
