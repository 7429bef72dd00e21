/**
 * The mint error-code table (nuts `error_codes.md`) and the definitive/ambiguous split every recovery decision
 * rests on.
 *
 * - **definitive**: the mint refused the request before applying it; the wallet may compensate (release the
 *   reserved inputs, drop the outputs).
 * - **ambiguous**: the mint may have applied it — the failure can be the echo of the wallet's own earlier,
 *   successful request whose response was lost. Never compensate; recover (replay → checkstate → restore).
 *
 * Ambiguous is always the safe answer (it costs a recovery round trip); definitive when wrong can lose funds. So
 * everything not known to be a refusal — unknown codes, nutshell's catch-all code 0, CDK's 50000, 5xx, timeouts,
 * dropped connections, unreadable success bodies — is ambiguous. Sources: CDK `is_definitive_failure` and its
 * code mapping (`crates/cdk-common/src/error.rs`), CDK PR #2308, nutshell `cashu/core/errors.py` and
 * `cashu/mint/app.py`.
 *
 * @module
 */
import { DecodeError, type FailureKind, MintProtocolError } from "../model/index.js"
import { decodeMintValue } from "./decode.js"
import { parseJson } from "./json.js"
import { MintErrorBodySchema } from "./schemas/error.js"

/** One row of the error table. */
export interface MintErrorCodeInfo {
  readonly code: number
  readonly name: string
  /** The description from `error_codes.md`. */
  readonly description: string
  readonly kind: FailureKind
}

const row = (code: number, name: string, description: string, kind: FailureKind): MintErrorCodeInfo => ({
  code,
  name,
  description,
  kind,
})

/** Every code of nuts `error_codes.md`, with its classification. The comment on each row says why. */
export const MINT_ERROR_CODES: ReadonlyArray<MintErrorCodeInfo> = [
  // Signature check of the inputs failed: validation, nothing was spent (CDK: TokenNotVerified → definitive).
  row(10001, "ProofVerificationFailed", "Proof verification failed", "definitive"),
  // AMBIGUOUS: our own swap/melt may have spent these inputs and only its response was lost (CDK PR #2308).
  row(11001, "ProofsAlreadySpent", "Proofs already spent", "ambiguous"),
  // AMBIGUOUS: an in-flight operation — possibly ours — holds the inputs; it may still complete.
  row(11002, "ProofsPending", "Proofs are pending", "ambiguous"),
  // AMBIGUOUS: our own earlier request may have had these outputs signed (replay after a lost response).
  // (Nutshell also reuses 11003 for "secret too long"; treating it as ambiguous only costs a checkstate.)
  row(11003, "OutputsAlreadySigned", "Outputs already signed", "ambiguous"),
  // AMBIGUOUS: outputs of an in-flight operation — possibly ours. (Nutshell reuses 11004 for "witness too long".)
  row(11004, "OutputsPending", "Outputs are pending", "ambiguous"),
  // Balance check failed before anything was applied: definitive.
  row(11005, "TransactionUnbalanced", "Transaction is not balanced (inputs != outputs)", "definitive"),
  // Amount outside the mint's limits: request validation.
  row(11006, "AmountOutOfLimitRange", "Amount outside of limit range", "definitive"),
  // Duplicate inputs/outputs: request validation.
  row(11007, "DuplicateInputs", "Duplicate inputs provided", "definitive"),
  row(11008, "DuplicateOutputs", "Duplicate outputs provided", "definitive"),
  // Unit checks: request validation.
  row(11009, "MultipleUnits", "Inputs/Outputs of multiple units", "definitive"),
  row(11010, "UnitMismatch", "Inputs and outputs not of same unit", "definitive"),
  // Melt quote validation: no payment was attempted.
  row(11011, "AmountlessInvoiceNotSupported", "Amountless invoice is not supported", "definitive"),
  row(11012, "IncorrectQuoteAmount", "Amount in request does not equal invoice", "definitive"),
  row(11013, "UnitNotSupported", "Unit in request is not supported", "definitive"),
  // Request-size limits (CDK decodes them to MaxInputs/OutputsExceeded → definitive).
  row(11014, "MaxInputsExceeded", "Max inputs exceeded", "definitive"),
  row(11015, "MaxOutputsExceeded", "Max outputs exceeded", "definitive"),
  // NUT-29 batch validation happens before any quote is touched (all-or-nothing).
  row(11016, "DuplicateQuoteIds", "Duplicate quote IDs provided", "definitive"),
  row(11017, "MaxBatchSizeExceeded", "Max batch size exceeded", "definitive"),
  // Keyset checks: request validation (unknown or inactive keyset).
  row(12001, "KeysetUnknown", "Keyset is not known", "definitive"),
  row(12002, "KeysetInactive", "Keyset is inactive, cannot sign messages", "definitive"),
  row(12003, "KeysetExpired", "Keyset has expired", "definitive"),
  // Unpaid quote: nothing to issue.
  row(20001, "QuoteNotPaid", "Quote request is not paid", "definitive"),
  // AMBIGUOUS (CDK says definitive): the retry of our own successful mint whose response was lost answers
  // exactly this, and the outputs can still be restored (NUT-09). A front-runner's mint ends in an empty restore.
  row(20002, "QuoteAlreadyIssued", "Quote has already been issued", "ambiguous"),
  // Minting disabled: refused up front.
  row(20003, "MintingDisabled", "Minting is disabled", "definitive"),
  // AMBIGUOUS (as in CDK, whose mapping falls to its ambiguous catch-all): the payment outcome must be confirmed
  // from the melt quote state before the inputs are released (`src/engine/ops/melt-recovery.ts`).
  row(20004, "LightningPaymentFailed", "Lightning payment failed", "ambiguous"),
  // AMBIGUOUS: the quote is being processed — possibly by our own earlier request (CDK PendingQuote).
  row(20005, "QuotePending", "Quote is pending", "ambiguous"),
  // AMBIGUOUS: the echo of our own successful melt of the same invoice (CDK: RequestAlreadyPaid, ambiguous).
  row(20006, "InvoiceAlreadyPaid", "Invoice already paid", "ambiguous"),
  // Expired quote: refused.
  row(20007, "QuoteExpired", "Quote is expired", "definitive"),
  // NUT-20 checks: refused before minting.
  row(20008, "MintSignatureInvalid", "Signature for mint request invalid", "definitive"),
  row(20009, "PubkeyRequired", "Pubkey required for mint quote", "definitive"),
  // NUT-21/22 authentication is checked before the endpoint runs.
  row(30001, "ClearAuthRequired", "Endpoint requires clear auth", "definitive"),
  row(30002, "ClearAuthFailed", "Clear authentication failed", "definitive"),
  row(31001, "BlindAuthRequired", "Endpoint requires blind auth", "definitive"),
  row(31002, "BlindAuthFailed", "Blind authentication failed", "definitive"),
  row(31003, "BatMintMaxExceeded", "Maximum BAT mint amount exceeded", "definitive"),
  row(31004, "BatRateLimitExceeded", "BAT mint rate limit exceeded", "definitive"),
]

/**
 * Nutshell (the reference mint) emits its auth errors under 8xxxx instead of the spec's 3xxxx
 * (`cashu/core/errors.py`); they are read as the spec codes they stand for.
 */
export const NUTSHELL_CODE_ALIASES: ReadonlyMap<number, number> = new Map([
  [80001, 30001],
  [80002, 30002],
  [81001, 31001],
  [81002, 31002],
  [81003, 31003],
  [81004, 31004],
])

const BY_CODE: ReadonlyMap<number, MintErrorCodeInfo> = new Map(MINT_ERROR_CODES.map((r) => [r.code, r]))

/** The table row of a code (following nutshell aliases), or `undefined` for a code outside the spec. */
export const mintErrorInfo = (code: number): MintErrorCodeInfo | undefined =>
  BY_CODE.get(NUTSHELL_CODE_ALIASES.get(code) ?? code)

/**
 * Classifies a Cashu error code. Unknown codes are ambiguous: nutshell answers every uncaught exception with
 * code 0 (`cashu/mint/app.py`) and uses its generic 11000 for "quote already pending/issued" (`cashu/mint/db/
 * write.py`); CDK internal errors use 50000 — each can follow a request that was (partly) applied.
 */
export const classifyErrorCode = (code: number): FailureKind => mintErrorInfo(code)?.kind ?? "ambiguous"

/**
 * Classifies an HTTP status that came without a Cashu error body (e.g. 429 `{"detail": "Rate limit
 * exceeded."}`, a 422 validation list, a proxy's 404). 4xx: the server refused the request → definitive (as CDK).
 * 5xx: the server failed somewhere in the middle → ambiguous. Anything else (1xx, 3xx, or a 2xx whose body did
 * not decode) is not a refusal → ambiguous.
 */
export const classifyHttpStatus = (status: number): FailureKind =>
  status >= 400 && status <= 499 ? "definitive" : "ambiguous"

/** How a request failed below HTTP. */
export type TransportFailureKind =
  /** No answer in time: the request may have been processed. */
  | "timeout"
  /** The connection failed or dropped: the request may have reached the mint before it did. */
  | "connection"
  /** A success status whose body was unreadable or failed its schema: it may be a garbled success (CDK). */
  | "invalid-response"
  /**
   * The client knows the request never left (failed before a connection existed, e.g. DNS resolution or building
   * the request). Only this transport failure is definitive; report `connection` when in doubt.
   */
  | "not-sent"

/** Classifies a transport failure: only `not-sent` is definitive. */
export const classifyTransportFailure = (kind: TransportFailureKind): FailureKind =>
  kind === "not-sent" ? "definitive" : "ambiguous"

/**
 * Classifies an error response from its HTTP status and, when the body was a Cashu error, its code. A 5xx is
 * ambiguous whatever the body says (the server failed; the code may describe a later step). Otherwise the code
 * decides, and without one the status does.
 */
export const classifyErrorResponse = (status: number, code?: number): FailureKind => {
  if (status >= 500) return "ambiguous"
  if (code !== undefined) return classifyErrorCode(code)
  return classifyHttpStatus(status)
}

/**
 * Classifies any failure of a mint request: a Cashu error code (`11001`), a transport failure (`"timeout"`), or
 * an HTTP error response (`{status, code?}`).
 */
export const classifyMintError = (
  failure: number | TransportFailureKind | { readonly status: number; readonly code?: number },
): FailureKind => {
  if (typeof failure === "number") return classifyErrorCode(failure)
  if (typeof failure === "string") return classifyTransportFailure(failure)
  return classifyErrorResponse(failure.status, failure.code)
}

const MAX_DETAIL = 300

/**
 * Mints echo identifiers into `detail` (nutshell: "Mint quote <id> not found."). Quote ids are bearer secrets
 * and 32-byte hex strings may be proof secrets, so both are masked before the text is kept anywhere.
 */
const scrubDetail = (detail: string): string =>
  detail
    .slice(0, MAX_DETAIL)
    .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, "<redacted>")
    .replace(/[0-9a-fA-F]{32,}/g, "<redacted>")
const ERROR_BODY_LIMITS = {
  maxBytes: 64 * 1024,
  maxDepth: 8,
  maxItems: 2_000,
  maxIntegerDigits: 20,
  maxStringLength: 16 * 1024,
}

/**
 * Reads a non-2xx mint response. Returns a {@link MintProtocolError} when the body is a Cashu error (an integer
 * `code`), classified with {@link classifyErrorResponse}; returns `undefined` otherwise — then classify the bare
 * status with {@link classifyHttpStatus}.
 */
export const mintErrorFromResponse = (status: number, bodyText: string): MintProtocolError | undefined => {
  let body: { readonly code: number; readonly detail?: unknown }
  try {
    body = decodeMintValue(MintErrorBodySchema, parseJson(bodyText, ERROR_BODY_LIMITS))
  } catch (e) {
    if (e instanceof DecodeError) return undefined
    throw e
  }
  const info = mintErrorInfo(body.code)
  const detail = typeof body.detail === "string" ? scrubDetail(body.detail) : ""
  const codeName = info?.name ?? "Unknown"
  return new MintProtocolError({
    code: body.code,
    codeName,
    detail,
    status,
    kind: classifyErrorResponse(status, body.code),
    message: `mint error ${body.code} (${codeName}), HTTP ${status}`,
  })
}
