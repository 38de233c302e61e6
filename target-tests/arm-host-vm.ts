import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";

/**
 * The aarch64 Debian 12 VM of ../shared/tools/arm-host/ (systemd, cgroup v2, sshd), driven by its
 * own scripts. Every command run on the guest is a fixed string of this file: nothing from a job or
 * a user reaches a remote shell.
 */
export class ArmHostVm {
  readonly tools = process.env.ARM_HOST_TOOLS ?? join(PACKAGE_ROOT, "..", "shared", "tools", "arm-host");
  readonly dir = process.env.ARM_HOST_DIR ?? "/var/tmp/memfarm-arm-host";
  readonly sshPort = Number(process.env.SSH_PORT ?? 48022);
  readonly identityFile = join(this.dir, "keys", "farm_ed25519");
  readonly target = `ssh://farm@127.0.0.1:${this.sshPort}`;
  /** The same guest as root (the key is shared): `hosts add` then installs a system unit. */
  readonly rootTarget = `ssh://root@127.0.0.1:${this.sshPort}`;

  /** What is missing before the VM can boot, in words; null when it can. */
  missing(): string | null {
    if (!existsSync(join(this.tools, "start-vm.sh")))
      return `no arm-host tools at ${this.tools} (set ARM_HOST_TOOLS to the folder of start-vm.sh)`;
    if (!existsSync(join(this.dir, "base.img")))
      return `no VM image in ${this.dir}: build it once with ${join(this.tools, "build-image.sh")} (about an hour)`;
    return null;
  }

  /**
   * Boots a fresh overlay (no state from an earlier run). NET=gateway: the guest reaches this
   * machine's loopback as 10.0.2.2, so a coordinator here is advertised as nats://10.0.2.2:PORT.
   * 5 GiB of memory (MEM): a 2 GiB job limit fits beside the agent, and the OOM check's test reaches it first.
   */
  async boot(log: (line: string) => void): Promise<void> {
    const output = await this.script("start-vm.sh", ["--fresh"], {
      NET: "gateway",
      MEM: process.env.MEM ?? "5G",
    });
    for (const line of output.split("\n").filter(Boolean)) log(line);
  }

  async shutdown(): Promise<void> {
    await this.script("stop-vm.sh", []).catch(() => undefined);
  }

  /** The guest's ED25519 host key fingerprint, as build-image.sh recorded it, for `hosts add --fingerprint`. */
  hostKeyFingerprint(): string {
    const line = readFileSync(join(this.dir, "hostkeys.txt"), "utf8")
      .split("\n")
      .find((one) => one.includes("(ED25519)"));
    const fingerprint = line?.split(" ")[1];
    if (!fingerprint?.startsWith("SHA256:")) throw new Error(`no ED25519 key in ${this.dir}/hostkeys.txt`);
    return fingerprint;
  }

  /** Runs a fixed shell command on the guest as `user`; resolves with its stdout, rejects on a non-zero exit. */
  run(command: string, options: { user?: "farm" | "root"; input?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        "ssh",
        [...this.sshOptions(), `${options.user ?? "farm"}@127.0.0.1`, command],
        { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`on the guest, ${command}: ${error.message}\n${stderr}`));
          else resolve(stdout);
        },
      );
      child.stdin?.end(options.input ?? "");
    });
  }

  /** Copies a file of this machine to the guest, as root (scp: no shell on either side sees its name). */
  upload(localFile: string, remoteFile: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const options = this.sshOptions().map((option) => (option === "-p" ? "-P" : option));
      execFile(
        "scp",
        ["-q", ...options, localFile, `root@127.0.0.1:${remoteFile}`],
        { timeout: 600_000 },
        (error, _stdout, stderr) => {
          if (error) reject(new Error(`scp ${localFile} to the guest: ${error.message}\n${stderr}`));
          else resolve();
        },
      );
    });
  }

  /** A long-running command on the guest whose stdout lines go to `onLine`; kill() ends it. */
  watch(command: string, onLine: (line: string) => void): ChildProcess {
    const child = spawn("ssh", [...this.sshOptions(), "root@127.0.0.1", command], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let pending = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
    return child;
  }

  private sshOptions(): string[] {
    return [
      "-i",
      this.identityFile,
      "-p",
      String(this.sshPort),
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=20",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
    ];
  }

  private script(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        join(this.tools, name),
        args,
        { env: { ...process.env, ...env }, timeout: 1_200_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`${name}: ${error.message}\n${stdout}${stderr}`));
          else resolve(stdout + stderr);
        },
      );
    });
  }
}
