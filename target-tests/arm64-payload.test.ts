import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";
import { type Arm64Payload, buildArm64Payload } from "./arm64-payload.ts";
import { checkArm64Payload, foreignBinaries, natsServerVersion, sysrootAt } from "./arm64-payload-check.ts";
import { runCommand } from "./run-command.ts";

/**
 * Opt-in (`npm run test:arm64-payload`; about 3 minutes the first time, then about 1 minute): the
 * coordinator payload for the aarch64 VM is built (or taken from its cache), unpacked as the VM
 * would, and loaded by the VM's own node under qemu-user; payloads with an x86-64 or a missing
 * native module are refused. Needs the VM's root file system (../shared/tools/arm-host/build-image.sh),
 * not the VM itself.
 */

const ARM_HOST_DIR = process.env.ARM_HOST_DIR ?? "/var/tmp/memfarm-arm-host";
const sysroot = sysrootAt(join(ARM_HOST_DIR, "rootfs"));
const log = (line: string) => console.log(`# ${line}`);

describe("the arm64 payload's checks, on files made here", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-arm64-elf-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("flag an x86-64 native module and pass aarch64 ones and scripts in bin/", async () => {
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "node_modules", "addon"), { recursive: true });
    copyFileSync("/usr/bin/true", join(dir, "node_modules", "addon", "host.node"));
    copyFileSync(join(sysroot.rootfs, "usr", "bin", "true"), join(dir, "bin", "true"));
    writeFileSync(join(dir, "bin", "memfarm"), "#!/usr/bin/env node\n");
    const foreign = await foreignBinaries(dir);
    assert.equal(foreign.length, 1, foreign.join("\n"));
    assert.match(foreign[0] ?? "", /host\.node \(ELF machine 62\)/);
  });

  it("read nats-server's version and refuse other output", () => {
    assert.deepEqual(natsServerVersion("nats-server: v2.9.10\n"), [2, 9, 10]);
    assert.throws(() => natsServerVersion("Usage: nats-server [options]"), /not a version/);
  });
});

describe("the arm64 payload under qemu-user", () => {
  let payload: Arm64Payload;
  let unpacked: string;

  before(async () => {
    if (!existsSync(sysroot.node))
      throw new Error(
        `no VM root file system at ${sysroot.rootfs}: build it once with ../shared/tools/arm-host/build-image.sh`,
      );
    const started = Date.now();
    payload = await buildArm64Payload({ log });
    log(
      `payload ${payload.cached ? "from the cache" : "built"} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    unpacked = mkdtempSync(join(tmpdir(), "memfarm-arm64-payload-"));
    await runCommand("tar", ["-xzf", payload.tarball, "-C", unpacked]);
  });
  after(() => {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  });

  it("holds the coordinator, its native modules for arm64 and nats-server, without the test code", () => {
    for (const file of [
      "dist/cli/main.js",
      "dist/agent-bundle/memfarm-agent.cjs",
      "views/job.ejs",
      "coordinator/store/migrations/0001_init.sql",
      "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
      "bin/nats-server",
      "payload.json",
    ])
      assert.ok(existsSync(join(unpacked, file)), `${file} is in the payload`);
    assert.ok(!existsSync(join(unpacked, "dist", "test")), "dist/test is left out");
    assert.ok(!existsSync(join(unpacked, "node_modules", "typescript")), "dev dependencies are left out");
  });

  it("loads in the VM's node, and its nats-server and coordinator start", async () => {
    const facts = await checkArm64Payload(
      unpacked,
      sysroot,
      { node: payload.manifest.node, sshCrypto: payload.manifest.sshCrypto },
      log,
    );
    assert.equal(facts.node, payload.manifest.node);
    assert.equal(facts.natsServer, payload.manifest.natsServer);
  });

  it("is refused with the host's x86-64 better-sqlite3 in it", async () => {
    const addon = join(unpacked, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
    const arm = `${addon}.arm64`;
    copyFileSync(addon, arm);
    copyFileSync(
      join(PACKAGE_ROOT, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node"),
      addon,
    );
    try {
      await assert.rejects(
        checkArm64Payload(
          unpacked,
          sysroot,
          { node: payload.manifest.node, sshCrypto: payload.manifest.sshCrypto },
          log,
        ),
        /not aarch64:\n.*better_sqlite3\.node \(ELF machine 62\)/,
      );
    } finally {
      copyFileSync(arm, addon);
      rmSync(arm);
    }
  });

  it("is refused when better-sqlite3's native module is missing", async () => {
    const addon = join(unpacked, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
    const aside = `${addon}.aside`;
    copyFileSync(addon, aside);
    rmSync(addon);
    try {
      await assert.rejects(
        checkArm64Payload(
          unpacked,
          sysroot,
          { node: payload.manifest.node, sshCrypto: payload.manifest.sshCrypto },
          log,
        ),
        /cannot load the payload's native modules: Could not locate the bindings file/,
      );
    } finally {
      copyFileSync(aside, addon);
      rmSync(aside);
    }
  });
});
