// Bundles the agent (cli/agent-main.ts) into one file that `memfarm hosts add` uploads: no native
// module, so it runs on x86_64 and aarch64 alike. Fails when a coordinator-only dependency slips in.
import { build } from "esbuild";

const FORBIDDEN = ["better-sqlite3", "express", "ejs", "ssh2", "/coordinator/", "@octokit"];
const outfile = "dist/agent-bundle/memfarm-agent.cjs";
const result = await build({
  entryPoints: ["cli/agent-main.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile,
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
});
const inputs = Object.keys(result.metafile.inputs);
const leaked = inputs.filter((input) => FORBIDDEN.some((name) => input.includes(name)));
if (leaked.length > 0) {
  console.error(`bundle-agent: the agent bundle must not contain ${leaked.join(", ")}`);
  process.exit(1);
}
const bytes = result.metafile.outputs[outfile]?.bytes ?? 0;
console.error(`bundle-agent: ${outfile} (${Math.round(bytes / 1024)} KiB, ${inputs.length} inputs)`);
