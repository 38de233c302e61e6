/** What `hosts add` and `hosts facts` learn about a host, before anything is installed. */
export interface RemoteFacts {
  arch: string;
  kernel: string;
  memoryBytes: number;
  cores: number;
  /** "v2", "v1" or "none" */
  cgroup: string;
  /** Whether the memory controller can limit a job (else the agent's RSS watchdog does). */
  cgroupMemory: boolean;
  diskFreeBytes: number;
  home: string;
  uid: number;
  nodePath: string | null;
  nodeVersion: string | null;
  git: string | null;
  compiler: string | null;
  systemd: boolean;
}

/**
 * One fixed script, no argument: key=value lines. `command -v` finds tools on the PATH of a
 * non-interactive login, which is the PATH the agent's service will have too.
 */
export const FACTS_SCRIPT = `
echo "arch=$(uname -m)"
echo "kernel=$(uname -r)"
echo "mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
  echo cgroup=v2
  if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then echo cgroup_memory=yes; else echo cgroup_memory=no; fi
elif [ -d /sys/fs/cgroup/memory ]; then
  echo cgroup=v1
  if [ -w /sys/fs/cgroup/memory ]; then echo cgroup_memory=yes; else echo cgroup_memory=no; fi
else
  echo cgroup=none; echo cgroup_memory=no
fi
mkdir -p "$HOME/.memfarm"
echo "disk_free_kb=$(df -Pk "$HOME/.memfarm" | awk 'NR == 2 {print $4}')"
echo "home=$HOME"
echo "uid=$(id -u)"
if command -v node >/dev/null 2>&1; then echo "node_path=$(command -v node)"; echo "node_version=$(node --version)"; fi
if command -v git >/dev/null 2>&1; then echo "git=$(git --version)"; fi
for cc in cc gcc clang; do if command -v $cc >/dev/null 2>&1; then echo "compiler=$(command -v $cc)"; break; fi; done
if [ -d /run/systemd/system ]; then echo systemd=yes; else echo systemd=no; fi
`;

export function parseFacts(output: string): RemoteFacts {
  const values = new Map<string, string>();
  for (const line of output.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const text = (key: string) => values.get(key) || null;
  const whole = (key: string) => {
    const value = Number(values.get(key));
    return Number.isFinite(value) ? value : 0;
  };
  return {
    arch: text("arch") ?? "unknown",
    kernel: text("kernel") ?? "unknown",
    memoryBytes: whole("mem_kb") * 1024,
    cores: whole("cores"),
    cgroup: text("cgroup") ?? "none",
    cgroupMemory: values.get("cgroup_memory") === "yes",
    diskFreeBytes: whole("disk_free_kb") * 1024,
    home: text("home") ?? "",
    uid: whole("uid"),
    nodePath: text("node_path"),
    nodeVersion: text("node_version"),
    git: text("git"),
    compiler: text("compiler"),
    systemd: values.get("systemd") === "yes",
  };
}

/** Room for the agent, its logs and a few CPython builds' worth of scratch. */
export const MIN_DISK_FREE_BYTES = 2 * 1024 ** 3;
const MIN_NODE_MAJOR = 20;

/** Errors stop the add; warnings say what the host cannot do. Each names what to install or free. */
export function checkRequirements(facts: RemoteFacts): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const major = Number(/^v?(\d+)\./.exec(facts.nodeVersion ?? "")?.[1] ?? 0);
  if (facts.nodePath === null) {
    errors.push(
      `Node.js is not installed (or not on the PATH of a non-interactive SSH login): install Node.js ${MIN_NODE_MAJOR} or newer (Debian/Ubuntu: apt-get install nodejs)`,
    );
  } else if (major < MIN_NODE_MAJOR) {
    errors.push(
      `Node.js ${facts.nodeVersion} at ${facts.nodePath} is too old: the agent needs Node.js ${MIN_NODE_MAJOR} or newer`,
    );
  }
  if (!facts.home.startsWith("/"))
    errors.push("the SSH user has no home directory to install the agent into");
  if (facts.diskFreeBytes < MIN_DISK_FREE_BYTES) {
    errors.push(
      `only ${formatGiB(facts.diskFreeBytes)} free in ${facts.home}/.memfarm: free at least ${formatGiB(MIN_DISK_FREE_BYTES)} (the agent's work dir, logs and builds live there)`,
    );
  }
  const builds = "this host can run given interpreters (--python) only, not --ref builds";
  if (facts.git === null) warnings.push(`git is missing: ${builds}; install git to build CPython refs`);
  if (facts.compiler === null)
    warnings.push(`no C compiler (cc, gcc, clang): ${builds}; install gcc and make`);
  if (!facts.cgroupMemory) {
    warnings.push(
      `no usable cgroup memory controller (${facts.cgroup}): jobs are limited by the agent's RSS watchdog instead`,
    );
  }
  return { errors, warnings };
}

export function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export function describeFacts(facts: RemoteFacts): string {
  return [
    `${facts.arch}, kernel ${facts.kernel}`,
    `${formatGiB(facts.memoryBytes)} memory, ${facts.cores} cores`,
    `cgroup ${facts.cgroup}${facts.cgroupMemory ? " (memory controller usable)" : ""}`,
    `${formatGiB(facts.diskFreeBytes)} free`,
    `node ${facts.nodeVersion ?? "missing"}`,
    `git ${facts.git ? "yes" : "no"}`,
    `compiler ${facts.compiler ? "yes" : "no"}`,
    `systemd ${facts.systemd ? "yes" : "no"}`,
  ].join("; ");
}
