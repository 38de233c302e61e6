import type { Request } from "express";
import { type MemfarmError, ValidationError } from "../../protocol/errors.ts";
import { rawField } from "./dashboard-guards.ts";

/**
 * A refused form, to render again: what was typed (so nothing has to be typed twice), the error,
 * and the field it is about (null: the form as a whole), which the template marks and puts the
 * message beside.
 */
export interface FormState {
  values: Record<string, string>;
  error: string;
  field: string | null;
}

/** No form was refused: empty values, no error. */
export const FRESH_FORM: FormState = { values: {}, error: "", field: null };

/**
 * The state of a refused form. `kept` are the fields sent back into the page; a secret (a private
 * key, a passphrase) is never among them. The error's field counts when it is one of `fields`
 * (`tests[2]` is about `tests`).
 */
export function refusedForm(
  req: Request,
  error: MemfarmError,
  kept: readonly string[],
  fields: readonly string[] = kept,
): FormState {
  const values = Object.fromEntries(kept.map((name) => [name, rawField(req, name)]));
  const named = error instanceof ValidationError ? (error.field ?? "").split(/[[.]/)[0] : "";
  return { values, error: error.message, field: fields.includes(named ?? "") ? (named as string) : null };
}
