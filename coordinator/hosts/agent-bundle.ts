import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../paths.ts";
import { StepError } from "./step-error.ts";

export const AGENT_BUNDLE_FILE = join(PACKAGE_ROOT, "dist", "agent-bundle", "memfarm-agent.cjs");

/** The single-file agent that hosts get (built by `npm run build`), named by its content. */
export interface AgentBundle {
  file: string;
  /** The package version and a hash of the bundle: a rebuilt agent is a new version. */
  version: string;
  bytes: number;
}

export async function loadAgentBundle(file = AGENT_BUNDLE_FILE): Promise<AgentBundle> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    throw new StepError(
      "install",
      `the agent bundle ${file} is missing on the coordinator; run "npm run build"`,
    );
  }
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 12);
  return { file, version: `${pkg.version}-${hash}`, bytes: content.length };
}
