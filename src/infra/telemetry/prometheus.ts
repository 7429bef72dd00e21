/**
 * Prometheus text exposition format, version 0.0.4 (what `GET /metrics` serves): pure functions from metric
 * values to text. {@link familiesFromSnapshots} turns Effect metric snapshots (`Metric.snapshot`) into
 * families, {@link renderPrometheus} writes families: `# HELP` and `# TYPE` lines, then one line per series.
 *
 * - Counters are named with a `_total` suffix (added when the Effect metric's id lacks it). A counter that is
 *   not incremental (it may go down) is written as a gauge.
 * - Histograms write cumulative `_bucket{le="…"}` lines ending with `le="+Inf"` (equal to `_count`), then
 *   `_sum` and `_count`. Effect already keeps its buckets cumulative; a `+Inf` bucket is added if missing.
 * - Summaries write `{quantile="…"}` lines, `_sum` and `_count`; frequencies a counter per key (`key` label).
 * - Label values escape `\`, `"` and line feeds; `# HELP` text escapes `\` and line feeds. Names that are not
 *   valid Prometheus names have their other characters replaced by `_`.
 *
 * Output is deterministic: families sorted by name, series by their label text.
 *
 * @module
 */
import type { Metric } from "effect"

/** Labels of one series. */
export type PrometheusLabels = Readonly<Record<string, string>>

/** One series of a counter or gauge. */
export interface ScalarSeries {
  readonly labels: PrometheusLabels
  readonly value: number | bigint
}

/** One series of a histogram: `buckets` are `[upper bound, cumulative count]`, ascending. */
export interface HistogramSeries {
  readonly labels: PrometheusLabels
  readonly buckets: ReadonlyArray<readonly [number, number]>
  readonly sum: number
  readonly count: number
}

/** One series of a summary: `quantiles` are `[quantile, value]`. */
export interface SummarySeries {
  readonly labels: PrometheusLabels
  readonly quantiles: ReadonlyArray<readonly [number, number | undefined]>
  readonly sum: number
  readonly count: number
}

/** A metric family: one name, one type, one help text, many series. */
export type MetricFamily =
  | {
      readonly name: string
      readonly help: string
      readonly type: "counter" | "gauge"
      readonly series: ReadonlyArray<ScalarSeries>
    }
  | {
      readonly name: string
      readonly help: string
      readonly type: "histogram"
      readonly series: ReadonlyArray<HistogramSeries>
    }
  | {
      readonly name: string
      readonly help: string
      readonly type: "summary"
      readonly series: ReadonlyArray<SummarySeries>
    }

/** The content type of the 0.0.4 text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** A valid metric name: other characters become `_`, a leading digit gets a `_` before it. */
export const metricName = (name: string): string => {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, "_")
  return /^[0-9]/.test(s) || s === "" ? `_${s}` : s
}

/** A valid label name (no `:`; names starting `__` are reserved, so they get an `x` prefix). */
export const labelName = (name: string): string => {
  const s = name.replace(/[^a-zA-Z0-9_]/g, "_")
  const t = /^[0-9]/.test(s) || s === "" ? `_${s}` : s
  return t.startsWith("__") ? `x${t}` : t
}

/** A label value as written between quotes: `\` → `\\`, `"` → `\"`, line feed → `\n`. */
export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** `# HELP` text: `\` → `\\`, line feed → `\n`. */
export const escapeHelp = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

/** A sample value: integers and bigints as digits, `+Inf`, `-Inf`, `NaN`. */
export const formatValue = (v: number | bigint): string => {
  if (typeof v === "bigint") return v.toString()
  if (Number.isNaN(v)) return "NaN"
  if (v === Number.POSITIVE_INFINITY) return "+Inf"
  if (v === Number.NEGATIVE_INFINITY) return "-Inf"
  return String(v)
}

const labelText = (labels: PrometheusLabels, extra?: readonly [string, string]): string => {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${labelName(k)}="${escapeLabelValue(labels[k]!)}"`)
  if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`)
  return parts.length === 0 ? "" : `{${parts.join(",")}}`
}

const byLabels = <S extends { readonly labels: PrometheusLabels }>(series: ReadonlyArray<S>): S[] =>
  [...series].sort((a, b) => {
    const x = labelText(a.labels)
    const y = labelText(b.labels)
    return x < y ? -1 : x > y ? 1 : 0
  })

const histogramLines = (name: string, s: HistogramSeries): string[] => {
  const out: string[] = []
  let sawInf = false
  for (const [le, n] of s.buckets) {
    if (le === Number.POSITIVE_INFINITY) sawInf = true
    out.push(`${name}_bucket${labelText(s.labels, ["le", formatValue(le)])} ${formatValue(n)}`)
  }
  if (!sawInf) out.push(`${name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${formatValue(s.count)}`)
  out.push(`${name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`)
  out.push(`${name}_count${labelText(s.labels)} ${formatValue(s.count)}`)
  return out
}

const summaryLines = (name: string, s: SummarySeries): string[] => [
  ...s.quantiles.map(
    ([q, v]) => `${name}${labelText(s.labels, ["quantile", formatValue(q)])} ${formatValue(v ?? Number.NaN)}`,
  ),
  `${name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`,
  `${name}_count${labelText(s.labels)} ${formatValue(s.count)}`,
]

/**
 * Writes families in the text format, each family once (a later family of an already written name is
 * dropped: Prometheus refuses a name declared twice). Ends with a line feed.
 */
export const renderPrometheus = (families: ReadonlyArray<MetricFamily>): string => {
  const seen = new Set<string>()
  const lines: string[] = []
  const sorted = [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const f of sorted) {
    const name = metricName(f.name)
    if (seen.has(name)) continue
    seen.add(name)
    lines.push(`# HELP ${name} ${escapeHelp(f.help)}`)
    lines.push(`# TYPE ${name} ${f.type}`)
    switch (f.type) {
      case "counter":
      case "gauge":
        for (const s of byLabels(f.series))
          lines.push(`${name}${labelText(s.labels)} ${formatValue(s.value)}`)
        break
      case "histogram":
        for (const s of byLabels(f.series)) lines.push(...histogramLines(name, s))
        break
      case "summary":
        for (const s of byLabels(f.series)) lines.push(...summaryLines(name, s))
        break
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}

const counterName = (id: string): string => (id.endsWith("_total") ? id : `${id}_total`)

/**
 * Groups Effect metric snapshots into families (series of one id share a family). When one id was
 * registered with different types, the first type seen wins and the other series are dropped.
 */
export const familiesFromSnapshots = (snapshots: ReadonlyArray<Metric.Metric.Snapshot>): MetricFamily[] => {
  type Mutable = { name: string; help: string; type: MetricFamily["type"]; series: unknown[] }
  const families = new Map<string, Mutable>()
  const add = (name: string, help: string | undefined, type: MetricFamily["type"], series: unknown) => {
    const key = metricName(name)
    let f = families.get(key)
    if (f === undefined) {
      f = { name: key, help: help ?? name, type, series: [] }
      families.set(key, f)
    }
    if (f.type === type) f.series.push(series)
  }
  for (const s of snapshots) {
    const labels = s.attributes ?? {}
    switch (s.type) {
      case "Counter":
        if (s.state.incremental)
          add(counterName(s.id), s.description, "counter", { labels, value: s.state.count })
        else add(s.id, s.description, "gauge", { labels, value: s.state.count })
        break
      case "Gauge":
        add(s.id, s.description, "gauge", { labels, value: s.state.value })
        break
      case "Histogram":
        add(s.id, s.description, "histogram", {
          labels,
          buckets: s.state.buckets,
          sum: s.state.sum,
          count: s.state.count,
        })
        break
      case "Summary":
        add(s.id, s.description, "summary", {
          labels,
          quantiles: s.state.quantiles,
          sum: s.state.sum,
          count: s.state.count,
        })
        break
      case "Frequency":
        for (const [key, n] of s.state.occurrences)
          add(counterName(s.id), s.description, "counter", { labels: { ...labels, key }, value: n })
        break
    }
  }
  return [...families.values()] as MetricFamily[]
}
