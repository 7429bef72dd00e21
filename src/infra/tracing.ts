/**
 * Traces over OTLP: Effect's own exporter (`effect/observability`, OTLP/HTTP with JSON bodies) sending the
 * engine's spans to a collector — the OpenTelemetry collector, Jaeger, Tempo, anything that takes
 * `POST /v1/traces`. One exporter per engine, in the engine's scope: closing the engine flushes what is
 * buffered (bounded by `shutdownTimeoutMs`).
 *
 * What the spans carry is decided where they are made: names of operations and steps, wallet ids, kinds,
 * outcomes and mint origins — never amounts tied to ids, paths (quote ids), proofs or tokens. The mint
 * client's own HTTP spans are disabled (`mint-client/http.ts`), so no URL and no trace header reaches them.
 *
 * @module
 */
import { Effect, Layer, type Scope, type Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"

/** Where traces go. */
export interface OtlpOptions {
  /** The collector's traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly url: string
  /** `service.name` of the spans (default `corecashu`). */
  readonly serviceName?: string
  /** Extra HTTP headers (an API key of a hosted collector). */
  readonly headers?: Readonly<Record<string, string>>
  /** How often buffered spans are sent, ms (default 1000). */
  readonly exportIntervalMs?: number
  /** How long closing the engine waits for the last spans to be sent, ms (default 3000). */
  readonly shutdownTimeoutMs?: number
}

/** An OTLP tracer living in the caller's scope (flushed when it closes). */
export const otlpTracer = (options: OtlpOptions): Effect.Effect<Tracer.Tracer, never, Scope.Scope> =>
  OtlpTracer.make({
    url: options.url,
    resource: { serviceName: options.serviceName ?? "corecashu" },
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
    exportInterval: `${options.exportIntervalMs ?? 1000} millis`,
    shutdownTimeout: `${options.shutdownTimeoutMs ?? 3000} millis`,
  }).pipe(
    Effect.provide(
      Layer.mergeAll(FetchHttpClient.layer, OtlpSerialization.layerJson, OtlpExporter.layerFlusher),
    ),
  )
