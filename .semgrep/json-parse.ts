// Fixtures for json-parse.yml (semgrep --test).

// ruleid: json-parse-outside-protocol
const info = JSON.parse(text)
// ruleid: json-parse-outside-protocol
const body = await response.json()
// ok: json-parse-outside-protocol
const parsed = parseJson(text, limits)
// ok: json-parse-outside-protocol
const out = JSON.stringify(value)
