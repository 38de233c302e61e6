import assert from "node:assert/strict";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ProbeCache } from "../../../agent/cpython/probe-cache.ts";

/**
 * A fake interpreter for the probe: every run appends a line to `runs`; it answers like a Python
 * with a test package while `healthy` exists, and fails like one without it otherwise (as a
 * python whose libregrtest is missing until someone installs it).
 */
function fakePython(runs: string, healthy: string, version = "3.12.1"): string {
  return `#!/bin/sh
echo run >> '${runs}'
if [ ! -e '${healthy}' ]; then echo "ModuleNotFoundError: No module named 'test.libregrtest'" >&2; exit 1; fi
echo ${version}
`;
}

describe("the interpreter probe cache (real scripts, real files)", () => {
  let dir: string;
  let serial = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-probe-cache-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A new fake interpreter, healthy unless told; `runs()` counts how often it was started. */
  function install(healthy = true) {
    serial += 1;
    const python = join(dir, `python-${serial}`);
    const runsFile = join(dir, `runs-${serial}`);
    const healthyFile = join(dir, `healthy-${serial}`);
    writeFileSync(python, fakePython(runsFile, healthyFile));
    chmodSync(python, 0o755);
    if (healthy) writeFileSync(healthyFile, "");
    const runs = () => {
      try {
        return readFileSync(runsFile, "utf8").split("\n").length - 1;
      } catch {
        return 0;
      }
    };
    return { python, runs, healthyFile };
  }

  it("answers a second check of the same file without starting the interpreter again", async () => {
    const { python, runs } = install();
    const cache = new ProbeCache();
    assert.deepEqual(await cache.check(python), { usable: true, version: "3.12.1", tests: [] });
    assert.deepEqual(await cache.check(python), { usable: true, version: "3.12.1", tests: [] });
    assert.equal(runs(), 1);
  });

  it("shares one probe among checks that arrive while it runs", async () => {
    const { python, runs } = install();
    const cache = new ProbeCache();
    const replies = await Promise.all([cache.check(python), cache.check(python), cache.check(python)]);
    assert.ok(replies.every((reply) => reply.usable));
    assert.equal(runs(), 1);
  });

  it("probes again once the file is rewritten (a rebuild), and answers for the new one", async () => {
    const { python, runs, healthyFile } = install();
    const cache = new ProbeCache();
    await cache.check(python);
    writeFileSync(python, fakePython(join(dir, `runs-${serial}`), healthyFile, "3.13.0"));
    // Same size and a clock that did not tick would hide the rewrite: set the mtime apart.
    utimesSync(python, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await cache.check(python), { usable: true, version: "3.13.0", tests: [] });
    assert.equal(runs(), 2);
  });

  it("probes again when another file is put in its place (a new inode), also behind a symlink", async () => {
    const { python, runs, healthyFile } = install();
    const link = join(dir, `python-link-${serial}`);
    symlinkSync(python, link);
    const cache = new ProbeCache();
    await cache.check(link);
    const replacement = `${python}.new`;
    writeFileSync(replacement, fakePython(join(dir, `runs-${serial}`), healthyFile, "3.12.1"));
    chmodSync(replacement, 0o755);
    renameSync(replacement, python);
    await cache.check(link);
    assert.equal(runs(), 2);
  });

  it("does not keep a failed probe: the interpreter fixed in place is seen at its next check", async () => {
    const { python, runs, healthyFile } = install(false);
    const cache = new ProbeCache();
    const broken = await cache.check(python);
    assert.equal(broken.usable, false);
    assert.match(broken.problem ?? "", /cannot run regrtest: .*No module named 'test.libregrtest'/);
    assert.equal((await cache.check(python)).usable, false);
    assert.equal(runs(), 2, "a failed probe is run again, not answered from the cache");
    writeFileSync(healthyFile, "");
    assert.deepEqual(await cache.check(python), { usable: true, version: "3.12.1", tests: [] });
    assert.equal(runs(), 3);
  });

  it("says why a path that is not absolute or does not exist cannot be used", async () => {
    const cache = new ProbeCache();
    assert.match((await cache.check("python3")).problem ?? "", /python3 is not an absolute path/);
    assert.match(
      (await cache.check(join(dir, "no-such-python"))).problem ?? "",
      /does not exist or is not executable/,
    );
  });
});
