import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Writes a file readable by its owner only (0600), in a directory only the owner can enter, by
 * rename so that a reader (nats-server, an agent, another CLI) never sees half a file. The partial
 * file is named after this process, so two writers at once never write into the same one.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.partial`;
  try {
    await writeFile(partial, text, { mode: 0o600 });
    await chmod(partial, 0o600); // the mode option does not apply to a file left by a crash
    await rename(partial, file);
  } catch (thrown) {
    await rm(partial, { force: true });
    throw thrown;
  }
}
