/**
 * The environment of every git command a build runs: never prompt (there is no
 * one to answer, and a prompt would hang the job until its timeout), only the
 * transports the repository check allows (git refuses `ext::` and friends even
 * if a URL slipped through, and redirects to other transports), and no
 * inherited GIT_DIR-style variables that would point git at another repository.
 */
export function gitEnv(allowLocal: boolean, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of INHERITED_REPOSITORY_VARIABLES) delete env[name];
  env.GIT_TERMINAL_PROMPT = "0";
  env.GCM_INTERACTIVE = "never";
  env.SSH_ASKPASS_REQUIRE = "never";
  env.GIT_ALLOW_PROTOCOL = allowLocal ? "https:ssh:file" : "https:ssh";
  // Messages in the log tail read the same on every host.
  env.LC_ALL = "C";
  return env;
}

const INHERITED_REPOSITORY_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CEILING_DIRECTORIES",
  "GIT_PROTOCOL_FROM_USER",
];
