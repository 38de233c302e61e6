import { readFile } from "node:fs/promises";
import { nkeys } from "@nats-io/transport-node";
import { formatSeedFile, parseSeedFile } from "../../../protocol/nats-credentials.ts";
import { writePrivateFile } from "../../../protocol/private-file.ts";

/** A new NKey user: its seed (secret) and public key. */
export function createNkeyUser(): { seed: string; publicKey: string } {
  const pair = nkeys.createUser();
  return { seed: new TextDecoder().decode(pair.getSeed()), publicKey: pair.getPublicKey() };
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
