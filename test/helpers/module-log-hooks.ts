import { appendFileSync } from "node:fs";

/**
 * Loader hooks (registered by module-log.ts) that append every module URL the process resolves to
 * the file in MEMFARM_MODULE_LOG, one a line, so a test can see what a command loaded.
 */
type Resolved = { url: string };
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(
  specifier: string,
  context: unknown,
  nextResolve: NextResolve,
): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  const log = process.env.MEMFARM_MODULE_LOG;
  if (log) appendFileSync(log, `${resolved.url}\n`);
  return resolved;
}
