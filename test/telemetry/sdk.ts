/**
 * The real OpenTelemetry SDK with in-memory exporters, registered globally the way an app does
 * before calling `auth()`: a MeterProvider read on demand, a tracer provider with an in-memory
 * span exporter, and the AsyncLocalStorage context manager (so spans nest under active ones).
 */
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A reader collected by the test itself (`collect()`), no timer. */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

export interface Point {
  attributes: Attributes;
  /** Counter: the sum. Histogram: the number of recordings. */
  value: number;
  /** Histogram only: the sum of recorded values. */
  sum?: number;
}

export interface TestSdk {
  metrics(): Promise<MetricData[]>;
  /** Data points of one instrument. */
  points(name: string): Promise<Point[]>;
  /** Sum of a counter (or count of a histogram) over the points matching `attrs`. */
  total(name: string, attrs?: Attributes): Promise<number>;
  spans(): ReadableSpan[];
  reset(): void;
  shutdown(): Promise<void>;
}

/** Registers fresh global providers (replacing any earlier ones). Call before `auth()`. */
export function installSdk(): TestSdk {
  metrics.disable();
  trace.disable();
  context.disable();
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  const all = async (): Promise<MetricData[]> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  };
  const points = async (name: string): Promise<Point[]> => {
    const metric = (await all()).find((m) => m.descriptor.name === name);
    if (metric === undefined) return [];
    return (metric.dataPoints as Array<{ attributes: Attributes; value: unknown }>).map((p) =>
      typeof p.value === 'number'
        ? { attributes: p.attributes, value: p.value }
        : {
            attributes: p.attributes,
            value: (p.value as { count: number }).count,
            sum: (p.value as { sum: number }).sum,
          },
    );
  };
  return {
    metrics: all,
    points,
    async total(name, attrs = {}) {
      const matching = (await points(name)).filter((p) =>
        Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
      );
      return matching.reduce((n, p) => n + p.value, 0);
    },
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      metrics.disable();
      trace.disable();
      context.disable();
    },
  };
}
