/**
 * After the full suite: every line the engines of the suite logged (at `trace`, into `CORECASHU_LOG_FILE`,
 * set by `scripts/test.sh`) goes through the secret scan of `test/support/log-scan.ts`. Fails (exit 1) on any
 * finding, and when the file is missing or holds fewer lines than a full run writes (a scan of nothing
 * proves nothing). `node --import tsx scripts/scan-logs.ts FILE [--min-lines N]`.
 */
import { existsSync, readFileSync } from "node:fs"
import { scanLogLines } from "../test/support/log-scan.js"

const file = process.argv[2]
const minArg = process.argv.indexOf("--min-lines")
const minLines = minArg > 0 ? Number(process.argv[minArg + 1]) : 0
if (file === undefined || !existsSync(file)) {
  console.error(`scan-logs: no log file ${file ?? "(none given)"}: the suite wrote no engine log`)
  process.exit(1)
}
const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
const findings = scanLogLines(lines)
const counts = new Map<string, number>()
for (const l of lines) {
  const msg = (() => {
    try {
      return String((JSON.parse(l) as { msg?: unknown }).msg)
    } catch {
      return "(not JSON)"
    }
  })()
  counts.set(msg, (counts.get(msg) ?? 0) + 1)
}
const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8)
console.log(
  `scan-logs: ${lines.length} lines scanned (${top.map(([m, n]) => `${m} ${n}`).join(", ")}); ${findings.length} findings`,
)
for (const f of findings.slice(0, 20)) console.error(`  line ${f.line}: ${f.problem}`)
if (findings.length > 0) process.exit(1)
if (lines.length < minLines) {
  console.error(`scan-logs: only ${lines.length} lines, fewer than the ${minLines} a full run writes`)
  process.exit(1)
}
