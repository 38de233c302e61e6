import ssh2 from "ssh2";

/**
 * An in-process SSH server (ssh2's own Server) that plays a host with given facts, for what a real
 * host here cannot show: no Node, a full disk, no compiler. It accepts any public key, answers the
 * facts script with `factsOutput`, every other command with exit 0, and refuses SFTP (so an install
 * fails at its upload). Commands it received are kept in `commands`. `hold` may keep a command
 * from answering until a promise settles, so a test can watch an operation while it runs.
 */
export interface FakeSshHost {
  port: number;
  commands: string[];
  identity: string;
  stop(): Promise<void>;
}

/**
 * ssh2's generateKeyPairSync writes about 1 ed25519 key in 250 that its own parser refuses as
 * "Malformed OpenSSH private key" (a public key with a leading zero byte is written 31 bytes long),
 * which made the tests that use this host fail now and then. Draw again until ssh2 can read it.
 */
function parsableEd25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519");
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

export async function startFakeSshHost(
  factsOutput: string,
  hold: (command: string, index: number) => Promise<void> = async () => undefined,
): Promise<FakeSshHost> {
  const hostKey = parsableEd25519KeyPair();
  const clientKey = parsableEd25519KeyPair();
  const commands: string[] = [];
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on("authentication", (ctx) =>
      ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"]),
    );
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        session.on("exec", (acceptExec, _reject, info) => {
          const index = commands.push(info.command) - 1;
          const channel = acceptExec();
          void hold(info.command, index).then(() => {
            if (info.command.includes("uname -m")) channel.write(factsOutput);
            channel.exit(0);
            channel.end();
          });
        });
        session.on("subsystem", (_accept, reject) => reject());
      });
    });
    client.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    commands,
    identity: clientKey.private,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Facts of a healthy host, with `overrides` (a key set to null is left out, as a missing tool is). */
export function factsOutput(overrides: Record<string, string | null> = {}): string {
  const facts: Record<string, string | null> = {
    arch: "aarch64",
    kernel: "6.8.0-memfarm",
    mem_kb: String(500 * 1024 * 1024),
    cores: "192",
    cgroup: "v2",
    cgroup_memory: "yes",
    disk_free_kb: String(400 * 1024 * 1024),
    home: "/home/farm",
    uid: "1000",
    node_path: "/usr/bin/node",
    node_version: "v22.11.0",
    git: "git version 2.43.0",
    compiler: "/usr/bin/cc",
    systemd: "no",
    ...overrides,
  };
  return Object.entries(facts)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `${key}=${value}\n`)
    .join("");
}
