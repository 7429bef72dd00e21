/**
 * The two doors between mint JSON text and typed values.
 *
 * In: {@link decodeMintResponse} = bounded {@link parseJson} (integers beyond 2^53 stay exact `bigint`s; never
 * `JSON.parse`) then a Schema decode; any failure is a tagged {@link DecodeError} with the dotted path of the
 * first offending field (`signatures.3.amount`). Messages name what was expected, never the offending value.
 *
 * Out: {@link encodeMintRequest} = Schema encode (amounts become `number`, or `bigint` above 2^53) then
 * {@link stringifyJson}, which writes bigints exactly.
 *
 * @module
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { DecodeError } from "../model/index.js"
import { parseJson, stringifyJson } from "./json.js"
import { DEFAULT_LIMITS, type InputLimits } from "./limits.js"

/** A schema that decodes without services (all of ours). */
export type PureCodec<T, E> = Schema.Codec<T, E, never, never>

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Turns a Schema issue into a {@link DecodeError} carrying the first problem's path and message. */
export const decodeErrorFromIssue = (issue: SchemaIssue.Issue, what: string): DecodeError => {
  const first = formatter(issue).issues[0]
  const path = first?.path?.map((p) => String(typeof p === "object" ? p.key : p)).join(".")
  const message = `${what}: ${first?.message ?? "invalid value"}`
  return path === undefined || path === ""
    ? new DecodeError({ reason: "schema", message })
    : new DecodeError({ reason: "schema", message: `${message} at ${path}`, path })
}

/**
 * Decodes an already-parsed JSON value (e.g. a NUT-17 notification payload) with `schema`.
 *
 * @throws {DecodeError} `schema` with the path of the first problem.
 */
export const decodeMintValue = <T, E>(schema: PureCodec<T, E>, value: unknown): T => {
  const result = Schema.decodeUnknownResult(schema)(value)
  if (Result.isFailure(result)) throw decodeErrorFromIssue(result.failure.issue, "invalid mint response")
  return result.success
}

/**
 * Parses mint response text with the bounded JSON parser and decodes it with `schema`.
 *
 * @throws {DecodeError} from the parser (`json`, `too-large`, `depth`, `limit`, `duplicate`, `forbidden-key`)
 *   or `schema` with the path of the first problem.
 */
export const decodeMintResponse = <T, E>(
  schema: PureCodec<T, E>,
  text: string,
  limits: InputLimits = DEFAULT_LIMITS,
): T => decodeMintValue(schema, parseJson(text, limits))

/** {@link decodeMintResponse} as an Effect failing with {@link DecodeError}. */
export const decodeMintResponseEffect = <T, E>(
  schema: PureCodec<T, E>,
  text: string,
  limits: InputLimits = DEFAULT_LIMITS,
): Effect.Effect<T, DecodeError> =>
  Effect.try({
    try: () => decodeMintResponse(schema, text, limits),
    catch: (e) =>
      e instanceof DecodeError
        ? e
        : new DecodeError({ reason: "json", message: "mint response could not be read" }),
  })

/**
 * Encodes a request with `schema` and serialises it to JSON text (bigints exact). Fields a schema does not
 * declare are not written — e.g. a model `Proof`'s `dleq` never reaches the mint.
 *
 * @throws {DecodeError} `schema` when `value` does not satisfy the schema (a bug in the caller).
 */
export const encodeMintRequest = <T, E>(schema: PureCodec<T, E>, value: T): string => {
  const result = Schema.encodeUnknownResult(schema)(value)
  if (Result.isFailure(result)) throw decodeErrorFromIssue(result.failure.issue, "invalid mint request")
  return stringifyJson(result.success)
}
