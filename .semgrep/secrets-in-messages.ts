// Fixtures for secrets-in-messages.yml, run by `bash scripts/semgrep.sh` (semgrep --test) before the scan.
// Each line after a "ruleid" annotation must be flagged by that rule, each after an "ok" one must not.

// ruleid: secret-in-error-message
new Error(`cannot restore from ${mnemonic}`)
// ruleid: secret-in-error-message
new DecodeError({ reason: "x", message: `the quote ${quote.quote} is unknown` })
// ruleid: secret-in-error-message
new OperationFailed({ message: "quote " + quoteId + " failed" })
// ruleid: secret-in-error-message
throw new CryptoError({ reason: "derivation", message: `bad seed ${bytesToHex(seedBytes)}` })
// ruleid: secret-in-error-message
new VaultError({ reason: "bad-passphrase", message: String(passphrase) })
// ruleid: secret-in-error-message
new Error("proof " + proof.secret)
// ruleid: secret-in-error-message
new TokenRejected({ message: `blinding ${blindingFactor.toString(16)}` })
// ok: secret-in-error-message
new DecodeError({ reason: "x", message: `the quote's amount (${quote.amount} ${unit}) is not the invoice's` })
// ok: secret-in-error-message
new InvalidArgument({ argument: "q", reason: "r", message: `the quote's amount ${check.quoteAmount}` })
// ok: secret-in-error-message
new CryptoError({ reason: "derivation", message: `seed must be ${SEED_LENGTH} bytes` })
// ok: secret-in-error-message
new DecodeError({ reason: "too-large", message: `secret is longer than ${MAX_SECRET_LENGTH}` })
// ok: secret-in-error-message
new OperationFailed({ message: `operation ${operationId} failed` })

// ruleid: secret-field-in-error
new QuoteRejected({ quoteId, message: "the mint refused the quote" })
// ruleid: secret-field-in-error
new OperationInDoubt({ operationId, secret: proof.secret, message: "in doubt" })
// ok: secret-field-in-error
new OperationInDoubt({ operationId, message: "in doubt" })
// ok: secret-field-in-error
new Map([[secret, 1]])

// ruleid: secret-in-log
Effect.logWarning(`restoring from ${mnemonic}`)
// ruleid: secret-in-log
Effect.logDebug("seed " + seed)
// ruleid: secret-in-log
Effect.annotateLogs(Effect.logError("wallet.append-in-doubt"), { walletId, mnemonic })
// ruleid: secret-in-log
Effect.annotateLogs(Effect.logInfo("melt"), { quote: started.quote })
// ruleid: secret-in-log
Effect.withSpan("wallet.melt", { attributes: { quoteId } })
// ruleid: secret-in-log
console.error(`passphrase was ${passphrase}`)
// ruleid: secret-in-log
span.setAttribute("preimage", preimage)
// ok: secret-in-log
Effect.logWarning(`melt: the fee paid (${feePaid}) exceeds the quote's fee reserve (${started.feeReserve})`)
// ok: secret-in-log
Effect.annotateLogs(Effect.logError("wallet.append-in-doubt"), { walletId, error })
// ok: secret-in-log
Effect.logWarning(`checkpoint of projection ${projection.name} is unreadable; rebuilding`)
