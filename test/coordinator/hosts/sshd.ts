import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allPids, isLive, readProcStat } from "../../../protocol/proc-stat.ts";
import { freePort } from "../../helpers/free-port.ts";

/**
 * A real OpenSSH server (Debian's openssh-server) for one test, as root on a free loopback port:
 * its own config, host key and authorized key, and a throwaway login user whose home is in the
 * test's dir. stop() kills the sshd and every process of that user (by pid), deletes the user
 * and the dir.
 */
export interface TestSshd {
  port: number;
  user: string;
  home: string;
  /** The client's private key (authorized for `user`). */
  identityFile: string;
  /** `SHA256:...` of the server's host key. */
  hostKeyFingerprint: string;
  target: string;
  /** A private key the server does not accept. */
  strangerIdentityFile: string;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "memfarm-test", "-f", file]);
}

function fingerprintOf(publicKeyFile: string): string {
  const line = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile], { encoding: "utf8" });
  const match = /SHA256:[A-Za-z0-9+/]{43}/.exec(line);
  if (!match) throw new Error(`no fingerprint in ${line}`);
  return match[0];
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Pids of the processes owned by `uid` (the throwaway user's agent and jobs). */
export function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const pid of allPids()) {
    try {
      if (statSync(`/proc/${pid}`).uid === uid && isLive(readProcStat(pid))) pids.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-sshd-"));
  chmodSync(dir, 0o755); // the user's home is inside; mkdtemp makes 0700
  const user = `mfssh${randomBytes(4).toString("hex")}`;
  const home = join(dir, "home");
  mkdirSync(home);
  execFileSync("useradd", ["-M", "-p", "*", "-d", home, "-s", "/bin/bash", user]);
  const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
  execFileSync("chown", [`${user}:${user}`, home]);
  keygen(join(dir, "host_key"));
  keygen(join(dir, "client_key"));
  keygen(join(dir, "stranger_key"));
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "UsePAM no",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      `AllowUsers ${user}`,
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true });
  const sshd: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  sshd.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise((resolve) => sshd.once("exit", resolve));
  const cleanup = async () => {
    if (sshd.exitCode === null && sshd.signalCode === null) {
      sshd.kill("SIGTERM");
      await exited;
    }
    for (const pid of processesOf(uid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    for (let i = 0; i < 50 && processesOf(uid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    try {
      execFileSync("userdel", [user], { stdio: "ignore" });
    } catch {
      // Removed already.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; !(await portAccepts(port)); i++) {
    if (i > 100 || sshd.exitCode !== null) {
      await cleanup();
      throw new Error(`sshd did not start: ${errors}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    user,
    home,
    identityFile: join(dir, "client_key"),
    strangerIdentityFile: join(dir, "stranger_key"),
    hostKeyFingerprint: fingerprintOf(join(dir, "host_key.pub")),
    target: `ssh://${user}@127.0.0.1:${port}`,
    stop: cleanup,
  };
}

export function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}
