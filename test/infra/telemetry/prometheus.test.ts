import { Effect, Metric } from "effect"
import { describe, expect, it } from "vitest"
import {
  escapeLabelValue,
  familiesFromSnapshots,
  formatValue,
  metricName,
  renderPrometheus,
} from "../../../src/infra/telemetry/prometheus.js"

/** Runs `program` against a fresh metric registry and returns the rendered text. */
const render = (program: Effect.Effect<unknown>): string =>
  Effect.runSync(
    Effect.gen(function* () {
      yield* program
      return renderPrometheus(familiesFromSnapshots(yield* Metric.snapshot))
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())),
  )

describe("prometheus text format", () => {
  it("writes HELP and TYPE once per family, counters with _total, series sorted by labels", () => {
    const c = Metric.counter("demo_calls", { description: "Calls", incremental: true })
    const text = render(
      Effect.all([
        Metric.update(Metric.withAttributes(c, { outcome: "ok" }), 3),
        Metric.update(Metric.withAttributes(c, { outcome: "fail" }), 1),
      ]),
    )
    expect(text).toBe(
      [
        "# HELP demo_calls_total Calls",
        "# TYPE demo_calls_total counter",
        'demo_calls_total{outcome="fail"} 1',
        'demo_calls_total{outcome="ok"} 3',
        "",
      ].join("\n"),
    )
  })

  it("escapes label values and help text", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd')
    const text = renderPrometheus([
      {
        name: "x",
        help: "line one\nback\\slash",
        type: "gauge",
        series: [{ labels: { path: 'C:\\dir "q"\nnext' }, value: 2 }],
      },
    ])
    expect(text).toContain("# HELP x line one\\nback\\\\slash\n")
    expect(text).toContain('x{path="C:\\\\dir \\"q\\"\\nnext"} 2\n')
    // one sample line per series: the escaped line feed keeps the series on one line
    expect(text.trimEnd().split("\n")).toHaveLength(3)
  })

  it("writes histograms with cumulative buckets, +Inf equal to _count, _sum and _count", () => {
    const h = Metric.histogram("demo_seconds", {
      description: "Latency",
      boundaries: Metric.boundariesFromIterable([0.1, 1, 10]),
    })
    const text = render(Effect.forEach([0.05, 0.5, 0.7, 5, 50], (v) => Metric.update(h, v)))
    expect(text).toBe(
      [
        "# HELP demo_seconds Latency",
        "# TYPE demo_seconds histogram",
        'demo_seconds_bucket{le="0.1"} 1',
        'demo_seconds_bucket{le="1"} 3',
        'demo_seconds_bucket{le="10"} 4',
        'demo_seconds_bucket{le="+Inf"} 5',
        "demo_seconds_sum 56.25",
        "demo_seconds_count 5",
        "",
      ].join("\n"),
    )
  })

  it("adds the +Inf bucket when the buckets lack it, and puts le after the other labels", () => {
    const text = renderPrometheus([
      {
        name: "h",
        help: "h",
        type: "histogram",
        series: [{ labels: { kind: "a" }, buckets: [[1, 2]], sum: 9, count: 3 }],
      },
    ])
    expect(text).toContain('h_bucket{kind="a",le="1"} 2\nh_bucket{kind="a",le="+Inf"} 3\n')
  })

  it("writes gauges, non-incremental counters as gauges, bigints and special values", () => {
    const g = Metric.gauge("demo_gauge", { description: "G", bigint: true })
    const down = Metric.counter("demo_updown", { description: "U" })
    const text = render(Effect.all([Metric.update(g, 12345678901234567890n), Metric.update(down, -2)]))
    expect(text).toContain("# TYPE demo_gauge gauge\ndemo_gauge 12345678901234567890\n")
    expect(text).toContain("# TYPE demo_updown gauge\ndemo_updown -2\n")
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("+Inf")
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe("-Inf")
    expect(formatValue(Number.NaN)).toBe("NaN")
  })

  it("makes names valid and drops a second family of the same name", () => {
    expect(metricName("a.b-c")).toBe("a_b_c")
    expect(metricName("9lives")).toBe("_9lives")
    const text = renderPrometheus([
      { name: "dup", help: "first", type: "gauge", series: [{ labels: {}, value: 1 }] },
      { name: "dup", help: "second", type: "counter", series: [{ labels: {}, value: 2 }] },
    ])
    expect(text).toBe("# HELP dup first\n# TYPE dup gauge\ndup 1\n")
  })

  it("renders nothing for no metrics", () => {
    expect(renderPrometheus([])).toBe("")
  })
})
