// Fixtures for randomness.yml (semgrep --test).

// ruleid: no-math-random
const id = `w${Math.floor(Math.random() * 1e9).toString(36)}`
// ruleid: no-math-random
const pick = Math.random
// ok: no-math-random
const id2 = globalThis.crypto.randomUUID()
// ok: no-math-random
const bytes = randomBytes(32)
