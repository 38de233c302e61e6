import { between, pick } from "../../bench/packing/rng.ts";

/**
 * Broken NATS messages for the fuzz test (test/nats-fuzz.test.ts): each case takes one valid
 * message of a kind and breaks it in one way, so a failure names exactly what got through.
 */
export type Random = () => number;

/** What a field holds, which decides the wrong values thrown at it. */
export type FieldKind =
  | "string"
  | "strings"
  | "id"
  | "name"
  | "count"
  | "bool"
  | "ids"
  | "objects"
  | "object";

export interface MessageShape {
  /** A message the receiver accepts, or one it refuses for a reason of its own (another agent's attempt). */
  valid: () => Record<string, unknown>;
  /** Fields (paths into the message) and what they hold; `optional` ones may be left out. */
  fields: { path: string[]; kind: FieldKind; optional?: boolean }[];
  /**
   * Whether `valid` is accepted: then a message with an unknown extra field is accepted too (older
   * and newer peers ignore what they do not know), and such cases are expected to pass, harmlessly.
   */
  validIsAccepted: boolean;
}

export type Expectation = "rejected" | "harmless" | "client-refuses";

export interface FuzzCase {
  kind: string;
  payload: string | Uint8Array;
  expect: Expectation;
}

/** nats-server's default max_payload (1 MiB), which the client enforces before sending. */
export const SERVER_MAX_PAYLOAD = 1024 * 1024;

const WRONG: Record<FieldKind, unknown[]> = {
  string: [0, true, null, [], {}, ["x"], { a: "x" }],
  id: ["", "a b", "../1", "1.1", "*", ">", "é", "x".repeat(65), "1\u0000", 1, null, [], {}],
  name: ["", ".", "a.b", "*", ">", "rogue\n", "-x", "x".repeat(64), 1, null, [], {}],
  count: [-1, 1.5, 1e308, 2 ** 53, "1", null, true, [], {}],
  bool: [0, 1, "true", null, [], {}],
  strings: ["a", 1, null, {}, [1], [null], [["a"]], [{}], [true]],
  ids: ["a", 1, null, {}, [1], [null], [["a"]], ["bad id"], ["a.b"], ["*"], [">"], ["x".repeat(65)]],
  objects: ["x", 1, null, {}, [1], [null], [{}], [[]]],
  object: ["x", 1, null, true, [], [{}]],
};

/** Raw JSON number texts no JSON.stringify would write: overflow to Infinity, or not JSON at all. */
const RAW_NUMBERS = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "0x10", "1_000"];

const MALFORMED = [
  "{",
  "[",
  "}",
  '{"name":',
  "{name: 'rogue'}",
  '{"a":1}}',
  '{"a":undefined}',
  "\ufeff{}x",
  "\u0000",
  "nul",
  '{"a":"\\x41"}',
  '{"a":"unterminated}',
];

const TOP_LEVEL_NOT_OBJECT = ["[]", "[{}]", "1", "-1", "null", "true", '"a string"', "1e999"];

function set(message: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(message);
  let here: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) here = here[key] as Record<string, unknown>;
  here[path.at(-1) as string] = value;
  return copy;
}

function remove(message: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const copy = structuredClone(message);
  let here: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) here = here[key] as Record<string, unknown>;
  delete here[path.at(-1) as string];
  return copy;
}

/** `message` as JSON with the value at `path` replaced by raw text (a placeholder keeps it findable). */
function withRaw(message: Record<string, unknown>, path: string[], raw: string): string {
  const marker = "\u0001raw\u0001";
  return JSON.stringify(set(message, path, marker)).replace(JSON.stringify(marker), raw);
}

function randomBytes(random: Random): Uint8Array {
  return Uint8Array.from({ length: between(random, 1, 4000) }, () => between(random, 0, 255));
}

/** A huge value of the field's own type: as big as the server still carries. */
function huge(random: Random, kind: FieldKind, room: number): unknown {
  const size = between(random, 64 * 1024, room);
  switch (kind) {
    case "ids":
    case "strings":
      return Array.from({ length: Math.floor(size / 4) }, (_, n) => `a${n % 10}`);
    case "objects":
      return Array.from({ length: Math.floor(size / 40) }, () => ({ stream: "stdout", text: "x" }));
    case "object":
      return Object.fromEntries(Array.from({ length: Math.floor(size / 12) }, (_, n) => [`k${n}`, "v"]));
    case "count":
      return Number.MAX_VALUE;
    default:
      return "x".repeat(size);
  }
}

export function makeCase(random: Random, shape: MessageShape): FuzzCase {
  const valid = shape.valid();
  const field = pick(random, shape.fields);
  const room = SERVER_MAX_PAYLOAD - JSON.stringify(valid).length - 1024;
  const kind = pick(random, [
    "invalid-json",
    "random-bytes",
    "empty",
    "not-an-object",
    "missing-field",
    "wrong-type",
    "wrong-type",
    "raw-number",
    "huge-value",
    "deep-nesting",
    "extra-field",
    "just-over-max-payload",
  ]);
  const rejected = (payload: string | Uint8Array): FuzzCase => ({ kind, payload, expect: "rejected" });
  switch (kind) {
    case "invalid-json":
      return rejected(
        random() < 0.5
          ? pick(random, MALFORMED)
          : JSON.stringify(valid).slice(0, between(random, 1, JSON.stringify(valid).length - 1)),
      );
    case "random-bytes":
      return rejected(randomBytes(random));
    case "empty":
      return rejected("");
    case "not-an-object":
      return rejected(pick(random, TOP_LEVEL_NOT_OBJECT));
    case "missing-field": {
      const required = shape.fields.filter((one) => !one.optional);
      return rejected(JSON.stringify(remove(valid, pick(random, required).path)));
    }
    case "wrong-type":
      return rejected(JSON.stringify(set(valid, field.path, pick(random, WRONG[field.kind]))));
    case "raw-number":
      return rejected(withRaw(valid, field.path, pick(random, RAW_NUMBERS)));
    case "huge-value": {
      const payload = JSON.stringify(set(valid, field.path, huge(random, field.kind, room)));
      // Kept under the server's limit, which is its own case (just-over-max-payload).
      return rejected(
        payload.length < SERVER_MAX_PAYLOAD - 512
          ? payload
          : JSON.stringify(set(valid, field.path, "x".repeat(room))),
      );
    }
    case "deep-nesting": {
      const depth = between(random, 500, 50_000);
      const nested =
        random() < 0.5
          ? `${"[".repeat(depth)}${"]".repeat(depth)}`
          : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
      return rejected(withRaw(valid, field.path, nested));
    }
    case "extra-field": {
      const key = pick(random, ["bogus", "__proto__", "constructor", "toString", "status", "agent"]);
      const payload = JSON.stringify(valid).replace(/^\{/, `{${JSON.stringify(key)}:{"polluted":true},`);
      return { kind, payload, expect: shape.validIsAccepted ? "harmless" : "rejected" };
    }
    default: {
      const over = between(random, 2048, 64 * 1024);
      const payload = JSON.stringify(set(valid, field.path, "x".repeat(room + 1024 + over)));
      return { kind, payload, expect: "client-refuses" };
    }
  }
}
