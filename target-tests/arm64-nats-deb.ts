import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./run-command.ts";

/**
 * Debian's nats-server for arm64, downloaded with apt on this amd64 machine without touching its own
 * apt configuration: a private sources list, package lists and status under `dir`, arm64 as the only
 * architecture. The archive's signatures are checked with Debian's keyring, as for any apt download.
 * Once a .deb is in `dir` it is reused with no network; delete `dir` to fetch the suite's newest.
 */
export async function natsServerDeb(options: {
  dir: string;
  /** The VM's Debian release (its VERSION_CODENAME), e.g. "bookworm". */
  codename: string;
  mirror: string;
  securityMirror: string;
  log: (line: string) => void;
}): Promise<string> {
  const { dir, codename } = options;
  const cached = await cachedDeb(dir);
  if (cached) return cached;
  const state = join(dir, "apt");
  await mkdir(join(state, "lists", "partial"), { recursive: true });
  await mkdir(join(state, "archives", "partial"), { recursive: true });
  await writeFile(join(state, "status"), "");
  const keyring = "signed-by=/usr/share/keyrings/debian-archive-keyring.gpg";
  await writeFile(
    join(state, "sources.list"),
    [
      `deb [arch=arm64 ${keyring}] ${options.mirror} ${codename} main`,
      `deb [arch=arm64 ${keyring}] ${options.mirror} ${codename}-updates main`,
      `deb [arch=arm64 ${keyring}] ${options.securityMirror} ${codename}-security main`,
      "",
    ].join("\n"),
  );
  const apt = [
    ["Dir::Etc::SourceList", join(state, "sources.list")],
    ["Dir::Etc::SourceParts", join(state, "no-source-parts")],
    ["Dir::Etc::Preferences", join(state, "no-preferences")],
    ["Dir::Etc::PreferencesParts", join(state, "no-preferences-parts")],
    ["Dir::State::Lists", join(state, "lists")],
    ["Dir::State::status", join(state, "status")],
    ["Dir::Cache", join(state, "cache")],
    ["Dir::Cache::archives", join(state, "archives")],
    ["APT::Architecture", "arm64"],
    ["APT::Architectures::", "arm64"],
    // Private state: the host's apt lock guards the host's lists, not these.
    ["Debug::NoLocking", "1"],
    ...(process.getuid?.() === 0 ? [["APT::Sandbox::User", "root"]] : []),
  ].flatMap(([name, value]) => ["-o", `${name}=${value}`]);
  options.log(`apt (private state in ${state}): nats-server for arm64 from ${options.mirror} ${codename}`);
  await runCommand("apt-get", [...apt, "-qq", "update"], { cwd: dir, timeoutMs: 300_000 });
  await runCommand("apt-get", [...apt, "-qq", "download", "nats-server"], { cwd: dir, timeoutMs: 300_000 });
  const deb = await cachedDeb(dir);
  if (!deb) throw new Error(`apt-get download nats-server left no nats-server_*_arm64.deb in ${dir}`);
  const fields = await runCommand("dpkg-deb", ["-f", deb, "Package", "Architecture"]);
  if (!/^Package: nats-server$/m.test(fields) || !/^Architecture: arm64$/m.test(fields))
    throw new Error(`${deb} is not nats-server for arm64:\n${fields}`);
  return deb;
}

async function cachedDeb(dir: string): Promise<string | null> {
  if (!existsSync(dir)) return null;
  const debs = (await readdir(dir)).filter((name) => /^nats-server_[^_]+_arm64\.deb$/.test(name)).sort();
  const newest = debs.at(-1);
  return newest ? join(dir, newest) : null;
}

/** VERSION_CODENAME from a root file system's os-release. */
export async function debianCodename(rootfs: string): Promise<string> {
  const file = join(rootfs, "etc", "os-release");
  const text = await readFile(file, "utf8").catch(() => "");
  const codename = /^VERSION_CODENAME=([a-z]+)$/m.exec(text)?.[1];
  if (!codename) throw new Error(`no VERSION_CODENAME in ${file}: is ${rootfs} a Debian root file system?`);
  return codename;
}
