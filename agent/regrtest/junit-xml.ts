import type { TestOutcome } from "../../protocol/messages.ts";

/** One `<testcase>` of regrtest's JUnit XML. */
export interface JunitCase {
  /** `test.test_bigmem.StrTest.test_capitalize`: classname + name, as the verbose lines name it. */
  name: string;
  outcome: TestOutcome;
  durationSeconds: number | null;
  /** The failure or error message, or the skip reason. */
  detail: string | null;
}

const TESTCASE = /<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g;
const ATTRIBUTE = /([\w:-]+)="([^"]*)"/g;
const CHILD = /<(failure|error|skipped)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/;
/** Enough for a traceback's end, which is what a person reads first. */
const MAX_DETAIL = 4000;

function attributes(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [, key, value] of text.matchAll(ATTRIBUTE)) if (key) found.set(key, decodeEntities(value ?? ""));
  return found;
}

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (entity, name: string) => {
    if (name === "lt") return "<";
    if (name === "gt") return ">";
    if (name === "quot") return '"';
    if (name === "apos") return "'";
    if (name === "amp") return "&";
    const code = name.startsWith("#x") ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
    return Number.isFinite(code) ? String.fromCodePoint(code) : entity;
  });
}

/**
 * Reads the test cases out of regrtest's `--junit-xml` file. The XML is
 * lossy (a crashed file contributes nothing, reruns appear twice), so it only
 * adds detail to what the log already says: the exit code and summary lines
 * stay the truth. A later entry of the same case (a rerun) wins.
 */
export function parseJunitXml(xml: string): JunitCase[] {
  const cases = new Map<string, JunitCase>();
  for (const [, attributeText = "", body = ""] of xml.matchAll(TESTCASE)) {
    const attrs = attributes(attributeText);
    const method = attrs.get("name");
    if (!method) continue;
    const classname = attrs.get("classname");
    const name = classname ? `${classname}.${method}` : method;
    const time = Number(attrs.get("time"));
    const child = CHILD.exec(body);
    const childAttrs = child ? attributes(child[2] ?? "") : new Map<string, string>();
    const kind = child?.[1];
    const outcome: TestOutcome =
      kind === "failure" ? "failed" : kind === "error" ? "error" : kind === "skipped" ? "skipped" : "passed";
    // A failure's body is its traceback; a skip's body (or message) is its reason.
    const text = (decodeEntities(child?.[3] ?? "").trim() || childAttrs.get("message")?.trim()) ?? "";
    cases.set(name, {
      name,
      outcome,
      durationSeconds: Number.isFinite(time) && attrs.has("time") ? time : null,
      detail: text === "" ? null : text.length > MAX_DETAIL ? `…${text.slice(-MAX_DETAIL)}` : text,
    });
  }
  return [...cases.values()];
}

/** Where `--junit-xml FILE` or `--junit-xml=FILE` in regrtest's arguments writes, or null. */
export function junitXmlPath(args: string[]): string | null {
  for (const [index, arg] of args.entries()) {
    if (arg === "--junit-xml") return args[index + 1] ?? null;
    if (arg.startsWith("--junit-xml=")) return arg.slice("--junit-xml=".length);
  }
  return null;
}
