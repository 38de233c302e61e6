import { readFile } from "node:fs/promises";
import { type Authenticator, credsAuthenticator, nkeyAuthenticator, nkeys } from "@nats-io/transport-node";
import { MemfarmError } from "./errors.ts";

/** A credentials file that cannot be used: missing, unreadable, or not NATS credentials. */
export class CredentialsFileError extends MemfarmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("nats_credentials", message, options);
  }
}

/** What a `--creds FILE` holds. */
export type NatsCredentials =
  /** A decorated `.creds` file (user JWT + seed), for servers in operator (JWT) mode. */
  | { kind: "jwt"; authenticator: Authenticator }
  /** An NKey user seed, for servers that list users by public key in their config (memfarm's own). */
  | { kind: "nkey"; authenticator: Authenticator; publicKey: string };

const JWT_MARKER = "-----BEGIN NATS USER JWT-----";
/** A user seed: "SU" then base32; nats-server tools (nats --nkey) read such a line from a file too. */
const USER_SEED_LINE = /^SU[A-Z2-7]{50,}$/;

/**
 * The text of an NKey seed file as memfarm writes it: comment lines, then the seed on a line of its
 * own (the layout the nats CLI's --nkey reads as well).
 */
export function formatSeedFile(seed: string, comments: string[]): string {
  return `${comments.map((line) => `# ${line}\n`).join("")}${seed}\n`;
}

/** The user seed in a seed file's text, checked (its checksum and that it is a user key). */
export function parseSeedFile(text: string, file: string): { seed: string; publicKey: string } {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const seeds = lines.filter((line) => USER_SEED_LINE.test(line));
  if (seeds.length !== 1 || lines.length !== 1) {
    throw new CredentialsFileError(
      `${file} is not a NATS credentials file: expected a .creds file (JWT and seed) or an NKey user seed (one line starting with SU)`,
    );
  }
  const seed = seeds[0] as string;
  try {
    return { seed, publicKey: nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey() };
  } catch (thrown) {
    throw new CredentialsFileError(
      `${file} holds a damaged NKey seed (${(thrown as Error).message}); issue new credentials`,
      { cause: thrown },
    );
  }
}

/** Reads `--creds FILE`: a JWT `.creds` file or an NKey seed file, told apart by content. */
export async function readCredentialsFile(file: string): Promise<NatsCredentials> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (thrown) {
    const code = (thrown as NodeJS.ErrnoException).code ?? (thrown as Error).message;
    throw new CredentialsFileError(`cannot read the NATS credentials file ${file} (${code})`, {
      cause: thrown,
    });
  }
  if (text.includes(JWT_MARKER)) {
    // nats.js checks the JWT and seed blocks itself when it connects; a garbled file fails there.
    return { kind: "jwt", authenticator: credsAuthenticator(new TextEncoder().encode(text)) };
  }
  const { seed, publicKey } = parseSeedFile(text, file);
  return { kind: "nkey", authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), publicKey };
}
