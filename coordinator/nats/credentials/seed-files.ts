import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { formatSeedFile, parseSeedFile } from "../../../protocol/nats-credentials.ts";

/** A new NKey user: its seed (secret) and public key. */
export function createNkeyUser(): { seed: string; publicKey: string } {
  const pair = nkeys.createUser();
  return { seed: new TextDecoder().decode(pair.getSeed()), publicKey: pair.getPublicKey() };
}

/**
 * Writes a file readable by its owner only (0600), in a directory only the owner can enter, by
 * rename so that nats-server or an agent never reads half a file.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.partial`;
  await writeFile(partial, text, { mode: 0o600 });
  await chmod(partial, 0o600); // the mode option does not apply to a file left by a crash
  await rename(partial, file);
}

/** The public key of the seed file `file`, or null if it is missing or unusable. */
export async function publicKeyOfSeedFile(file: string): Promise<string | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  if (text === null) return null;
  try {
    return parseSeedFile(text, file).publicKey;
  } catch {
    return null;
  }
}

export async function writeSeedFile(file: string, seed: string, comments: string[]): Promise<void> {
  await writePrivateFile(file, formatSeedFile(seed, comments));
}
