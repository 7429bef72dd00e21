/**
 * The mint's error body (NUT-00): HTTP 400 with `{"detail": str, "code": int}`.
 *
 * Only `code` is required. `detail` is kept as text when it is a string; FastAPI validation errors (HTTP 422)
 * put a list there and rate limiters omit `code` altogether — those bodies are "not a Cashu error" and the HTTP
 * status decides (see `mint-errors.ts`).
 *
 * @module
 */
import { Schema } from "effect"

/** `{detail, code}` with an integer `code`; `detail` is any JSON, read as text only when it is a string. */
export const MintErrorBodySchema = Schema.Struct({
  code: Schema.Number.check(Schema.isInt()),
  detail: Schema.optionalKey(Schema.Unknown),
})
/** Decoded {@link MintErrorBodySchema}. */
export type MintErrorBody = typeof MintErrorBodySchema.Type
