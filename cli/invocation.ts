import { accessSync, constants, readFileSync, realpathSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/** A word as a POSIX shell reads it back unchanged: bare when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_/.,:=@%+-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

function realpathOrNull(file: string): string | null {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
}

/** The first executable `name` on PATH, as a shell would find it; null when there is none. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!isAbsolute(dir)) continue; // "" and relative entries depend on the directory a command runs in
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here; the next entry.
    }
  }
  return null;
}

/** An executable script with a #! line, which a shell runs by its path alone. */
function runsByItself(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return readFileSync(file, { encoding: "latin1" }).startsWith("#!");
  } catch {
    return false;
  }
}

/**
 * How to run this CLI again, for the commands it prints ("Run a first job", the join line): the
 * command a person can paste into a shell on this machine as it is. `memfarm` only when that name on
 * PATH is this very CLI; else the script that was run, by its absolute path, with node in front
 * unless the script runs by itself (bin/memfarm does; dist/cli/main.js, as `npm start` runs it,
 * does not).
 */
export function cliCommand(
  env: NodeJS.ProcessEnv,
  script: string = process.argv[1] ?? "",
  node: string = process.execPath,
): string {
  const file = resolve(script);
  const real = realpathOrNull(file);
  const installed = onPath("memfarm", env);
  if (installed && real !== null) {
    const target = realpathOrNull(installed);
    // bin/memfarm only imports dist/cli/main.js: the same CLI whichever of the two was run.
    const sameCli =
      target === real || target === realpathOrNull(join(real, "..", "..", "..", "bin", "memfarm"));
    if (sameCli) return "memfarm";
  }
  if (runsByItself(file)) return shellWord(file);
  const nodeOnPath = onPath("node", env);
  const nodeWord =
    nodeOnPath && realpathOrNull(nodeOnPath) === realpathOrNull(node) ? "node" : shellWord(node);
  return `${nodeWord} ${shellWord(file)}`;
}
