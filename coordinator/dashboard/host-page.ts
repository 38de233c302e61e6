import type { HostResource } from "../../protocol/resources.ts";
import { formatBytes } from "../../protocol/sizes.ts";

export interface FactRow {
  label: string;
  value: string;
}

/** What each recorded fact is called on the page, in the order shown; unknown facts follow as they are. */
const FACT_LABELS: Record<string, string> = {
  arch: "Architecture",
  kernel: "Kernel",
  cores: "Cores",
  memoryBytes: "Memory",
  cgroup: "cgroup",
  cgroupMemory: "cgroup memory controller",
  diskFreeBytes: "Free disk in ~/.memfarm",
  home: "Home",
  uid: "uid",
  nodePath: "Node.js",
  nodeVersion: "Node.js version",
  git: "git",
  compiler: "C compiler",
  systemd: "systemd",
};

function factText(key: string, value: unknown): string {
  if (value === null || value === undefined) return "missing";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (key.endsWith("Bytes") && typeof value === "number") return formatBytes(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A host's facts as label/value rows, for a person to read (bytes in GiB, booleans as yes/no). */
export function hostFactRows(facts: Record<string, unknown> | null): FactRow[] {
  if (!facts) return [];
  const known = Object.keys(FACT_LABELS).filter((key) => key in facts);
  const others = Object.keys(facts).filter((key) => !(key in FACT_LABELS));
  return [...known, ...others].map((key) => ({
    label: FACT_LABELS[key] ?? key,
    value: factText(key, facts[key]),
  }));
}

/** `k=v, k2=v2`, or "-" for none. */
export function labelsText(labels: Record<string, string>): string {
  return (
    Object.entries(labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(", ") || "-"
  );
}

/** Everything the host page shows, as plain data. */
export function hostPage(host: HostResource) {
  return {
    host,
    facts: hostFactRows(host.facts),
    labels: labelsText(host.labels),
    // The page's script asks for the lines after this one while the operation runs.
    lastSeq: host.log.at(-1)?.seq ?? 0,
    working: host.status === "working",
  };
}
