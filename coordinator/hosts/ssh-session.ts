import { Client, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { describeHostKey, type PresentedKey } from "./host-key.ts";
import type { SshTarget } from "./ssh-target.ts";
import { StepError } from "./step-error.ts";

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The identity for one operation; held in memory only. */
export interface SshIdentity {
  privateKey: string;
  passphrase?: string;
}

const CONNECT_TIMEOUT_MS = 15_000;
const EXEC_TIMEOUT_MS = 120_000;

/**
 * One SSH connection to a host (ssh2). `verifyHostKey` sees the server's key before any
 * authentication; returning a message refuses the connection, and that message is the error.
 */
export class SshSession {
  private sftpChannel: Promise<SFTPWrapper> | null = null;

  private constructor(
    private readonly client: Client,
    readonly where: string,
  ) {}

  static connect(
    target: SshTarget,
    identity: SshIdentity,
    verifyHostKey: (key: PresentedKey) => string | null,
  ): Promise<SshSession> {
    const where = `${target.user}@${target.address}:${target.port}`;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let refusal: string | null = null;
      const config: ConnectConfig = {
        host: target.address,
        port: target.port,
        username: target.user,
        privateKey: identity.privateKey,
        passphrase: identity.passphrase,
        readyTimeout: CONNECT_TIMEOUT_MS,
        hostVerifier: (blob: Buffer) => {
          refusal = verifyHostKey(describeHostKey(blob));
          return refusal === null;
        },
      };
      client.once("ready", () => resolve(new SshSession(client, where)));
      client.once("error", (error: Error & { level?: string; code?: string }) => {
        client.end();
        reject(new StepError("connect", explainConnectError(error, target, refusal), { cause: error }));
      });
      try {
        client.connect(config);
      } catch (thrown) {
        // ssh2 throws synchronously on a key it cannot parse (or a wrong passphrase).
        reject(
          new StepError(
            "connect",
            `the identity cannot be used: ${(thrown as Error).message}; give an OpenSSH or PEM private key (and its passphrase)`,
          ),
        );
      }
    });
  }

  /** Runs a command line built by remote-commands.ts; never rejects on a non-zero exit. */
  exec(command: string, timeoutMs = EXEC_TIMEOUT_MS): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) return reject(error);
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
          channel.close();
          reject(new Error(`a remote command took longer than ${timeoutMs / 1000} s`));
        }, timeoutMs);
        channel.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        channel.on("close", (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? null, signal: signal ?? null, stdout, stderr });
        });
      });
    });
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= new Promise((resolve, reject) =>
      this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))),
    );
    return this.sftpChannel;
  }

  close(): void {
    this.client.end();
  }
}

function explainConnectError(
  error: Error & { level?: string; code?: string },
  target: SshTarget,
  refusal: string | null,
): string {
  if (refusal !== null) return refusal;
  const where = `${target.address}:${target.port}`;
  if (error.level === "client-authentication") {
    return `${where} refused the identity for user ${target.user}: add its public key to ~${target.user}/.ssh/authorized_keys on the host, or give the right --identity`;
  }
  if (error.code === "ECONNREFUSED")
    return `nothing listens on ${where} (connection refused): is sshd running, is the port right?`;
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN")
    return `the host name ${target.address} does not resolve`;
  if (error.code === "EHOSTUNREACH" || error.code === "ENETUNREACH")
    return `${where} is unreachable from the coordinator`;
  if (/timed out/i.test(error.message))
    return `no SSH handshake with ${where} within ${CONNECT_TIMEOUT_MS / 1000} s: a firewall, or not an SSH server`;
  return `cannot connect to ${where}: ${error.message}`;
}
