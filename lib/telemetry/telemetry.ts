import { performance } from 'node:perf_hooks';
import { loadApi, type Api } from './api';
import {
  emit,
  type CacheResult,
  type LoginEntry,
  type RefreshOutcome,
  type SessionEndReason,
  type SsoEndpoint,
  type SsoGuardEvents,
  type SsoOutcome,
} from './events';
import { safeLogger, type SsoGuardLogger } from './logger';
import { ATTRIBUTES as A, DURATION_BUCKETS, INSTRUMENTS, METER_NAME } from './names';

/** Outcome of a cloud API call (`cloud.outcome`). `api_error`: a non-zero `ret_code` or error status. */
export type CloudOutcome = 'ok' | 'api_error' | 'error' | 'timeout' | 'unavailable';

type Attrs = Readonly<Record<string, string | number>>;
interface Counter {
  add(value: number, attributes?: Attrs): void;
}
interface Histogram {
  record(value: number, attributes?: Attrs): void;
}
type Span = ReturnType<ReturnType<Api['trace']['getTracer']>['startSpan']>;

const NOOP: Counter & Histogram = { add() {}, record() {} };
const SSO_ENDPOINTS: readonly SsoEndpoint[] = ['token', 'check_token', 'refresh_token'];
const SSO_OUTCOMES: readonly SsoOutcome[] = ['ok', 'refused', 'error', 'timeout', 'unavailable'];
const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

/** Frozen attribute sets, built once so recording allocates nothing. */
function table<K extends string>(keys: readonly K[], attr: string): Readonly<Record<K, Attrs>> {
  return Object.freeze(
    Object.fromEntries(keys.map((k) => [k, Object.freeze({ [attr]: k })])) as unknown as Record<K, Attrs>,
  );
}

/** The outcome an SsoGuardError stands for (by its stable code). */
function outcomeOf(err: unknown): 'refused' | 'error' | 'timeout' | 'unavailable' {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'code_rejected' || code === 'refresh_rejected') return 'refused';
  if (code === 'upstream_timeout') return 'timeout';
  if (code === 'upstream_unavailable') return 'unavailable';
  return 'error';
}

/** What {@link createTelemetry} needs: the user's options and the hosts, nothing else of the config. */
export interface TelemetryOptions {
  logger?: SsoGuardLogger;
  events?: SsoGuardEvents;
  /** Host of the SSO (`server.address` of SSO spans). */
  ssoHost?: string;
}

/**
 * The one place that knows OpenTelemetry: metrics, spans, events and log lines of one `auth()`
 * instance. Every other layer calls one method of it per hook point. Instruments come from the
 * global meter and tracer providers at construction (register the SDK before calling `auth()`);
 * without `@opentelemetry/api`, or without an SDK, every call is a no-op.
 */
export class Telemetry {
  readonly log: SsoGuardLogger;
  private readonly api: Api | undefined;
  private readonly events: SsoGuardEvents;
  private readonly ssoDuration: Histogram = NOOP;
  private readonly cacheCounter: Counter = NOOP;
  private readonly refreshCounter: Counter = NOOP;
  private readonly started: Counter = NOOP;
  private readonly ended: Counter = NOOP;
  private readonly fallback: Counter = NOOP;
  private readonly cloudDuration: Histogram = NOOP;
  private readonly cacheAttrs = table<CacheResult>(['hit', 'miss', 'coalesced'], A.result);
  private readonly refreshAttrs = table<RefreshOutcome>(
    ['refreshed', 'adopted', 'refused', 'pending', 'failed'],
    A.outcome,
  );
  private readonly startAttrs = table<LoginEntry>(
    ['callback', 'launch-console', 'launch-redirect', 'testing'],
    A.entry,
  );
  private readonly endAttrs = table<SessionEndReason>(
    ['logout', 'refused', 'expired', 'lifetime', 'revoked', 'not_found', 'user_revoked'],
    A.reason,
  );
  private readonly ssoAttrs: Readonly<Record<SsoEndpoint, Readonly<Record<SsoOutcome, Attrs>>>>;
  private readonly ssoSpanAttrs: Readonly<Record<SsoEndpoint, Attrs>>;
  private readonly ssoHost: string | undefined;

  /** `api`: `@opentelemetry/api` (loaded when installed); typed loosely so the declarations never name it. */
  constructor(options: TelemetryOptions = {}, otel: unknown = loadApi()) {
    const api = otel as Api | undefined;
    this.log = safeLogger(options.logger);
    this.events = options.events ?? {};
    this.api = api;
    this.ssoHost = options.ssoHost;
    this.ssoAttrs = Object.freeze(
      Object.fromEntries(
        SSO_ENDPOINTS.map((e) => [
          e,
          Object.freeze(
            Object.fromEntries(SSO_OUTCOMES.map((o) => [o, Object.freeze({ [A.ssoEndpoint]: e, [A.ssoOutcome]: o })])),
          ),
        ]),
      ) as unknown as Record<SsoEndpoint, Record<SsoOutcome, Attrs>>,
    );
    this.ssoSpanAttrs = Object.freeze(
      Object.fromEntries(
        SSO_ENDPOINTS.map((e) => [
          e,
          Object.freeze({
            [A.ssoEndpoint]: e,
            ...(this.ssoHost === undefined ? {} : { [A.serverAddress]: this.ssoHost }),
          }),
        ]),
      ) as unknown as Record<SsoEndpoint, Attrs>,
    );
    if (api === undefined) return;
    const meter = api.metrics.getMeter(METER_NAME);
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } };
    this.ssoDuration = meter.createHistogram(INSTRUMENTS.ssoDuration, {
      description: 'Duration of SSO calls',
      ...seconds,
    });
    this.cacheCounter = meter.createCounter(INSTRUMENTS.checkTokenCache, {
      description: 'check_token lookups by how they were answered',
    });
    this.refreshCounter = meter.createCounter(INSTRUMENTS.refresh, { description: 'Session refreshes by outcome' });
    this.started = meter.createCounter(INSTRUMENTS.sessionStarted, { description: 'Sessions started (sign-ins)' });
    this.ended = meter.createCounter(INSTRUMENTS.sessionEnded, { description: 'Sessions ended, by reason' });
    this.fallback = meter.createCounter(INSTRUMENTS.storeFallback, {
      description: 'Shared store calls that failed and fell back to in-process behaviour',
    });
    this.cloudDuration = meter.createHistogram(INSTRUMENTS.cloudDuration, {
      description: 'Duration of cloud API calls',
      ...seconds,
    });
  }

  /** Whether a listener of `name` is set (the callback then fetches the user for the event). */
  listens(name: keyof SsoGuardEvents): boolean {
    return this.events[name] !== undefined;
  }

  /**
   * Runs one SSO call inside a CLIENT span (a child of the active context), and records its
   * duration and outcome. `refused(result)` tells a refusal answered as a value (check_token).
   */
  async sso<T>(endpoint: SsoEndpoint, call: () => Promise<T>, refused?: (result: T) => boolean): Promise<T> {
    const start = performance.now();
    const span = this.startSpan(`sso ${endpoint}`, this.ssoSpanAttrs[endpoint]);
    let outcome: SsoOutcome = 'error';
    let failure: unknown;
    try {
      const result = await this.within(span, call);
      outcome = refused?.(result) === true ? 'refused' : 'ok';
      return result;
    } catch (err) {
      outcome = outcomeOf(err);
      failure = err;
      throw err;
    } finally {
      const seconds = (performance.now() - start) / 1000;
      this.ssoDuration.record(seconds, this.ssoAttrs[endpoint][outcome]);
      this.endSpan(span, A.ssoOutcome, outcome, failure);
      if (outcome !== 'ok' && outcome !== 'refused') {
        const code = String((failure as { code?: unknown } | null)?.code ?? 'error');
        const message = failure instanceof Error ? failure.message : 'SSO call failed';
        this.log.warn(`SSO ${endpoint} failed (${code}): ${message}`);
        emit(this.events, this.log, 'ssoError', {
          endpoint,
          outcome,
          code,
          message,
          durationMs: Math.round(seconds * 1000),
        });
      }
    }
  }

  /** Sets `http.response.status_code` on the active SSO or cloud span (needs a context manager). */
  httpStatus(status: number): void {
    this.api?.trace.getActiveSpan()?.setAttribute(A.httpStatus, status);
  }

  /** One check_token lookup: answered from the in-process cache, a new SSO lookup, or joined one in flight. */
  checkTokenCache(result: CacheResult): void {
    this.cacheCounter.add(1, this.cacheAttrs[result]);
  }

  /** One refresh decision (see {@link RefreshOutcome}); `since` is `performance.now()` at its start. */
  refresh(outcome: RefreshOutcome, since?: number): void {
    this.refreshCounter.add(1, this.refreshAttrs[outcome]);
    const durationMs = since === undefined ? 0 : Math.round(performance.now() - since);
    if (outcome === 'failed') this.log.warn(`session refresh failed upstream (${durationMs} ms)`);
    else this.log.debug(`session refresh: ${outcome}`);
    emit(this.events, this.log, 'refresh', { outcome, durationMs });
  }

  /** A session started (sign-in). */
  sessionStarted(userId: string | undefined, entry: LoginEntry): void {
    this.started.add(1, this.startAttrs[entry]);
    const via = entry === 'callback' ? '' : ` (${entry})`;
    this.log.info(`${userId === undefined ? 'sign-in' : `sign-in: user ${userId}`}${via}`);
    emit(this.events, this.log, 'login', { userId, entry });
  }

  /** A session ended; `logout` also emits the `logout` event. */
  sessionEnded(reason: SessionEndReason, userId?: string): void {
    this.ended.add(1, this.endAttrs[reason]);
    if (reason === 'logout') {
      this.log.info(userId === undefined ? 'sign-out' : `sign-out: user ${userId}`);
      emit(this.events, this.log, 'logout', { userId });
    } else {
      this.log.debug(`session ended: ${reason}`);
    }
    emit(this.events, this.log, 'sessionEnd', { reason, userId });
  }

  /** A shared store call failed and answered its in-process fallback. `first`: the store just became unavailable. */
  storeFallback(operation: string, first: boolean, why: string): void {
    this.fallback.add(1, { [A.operation]: operation });
    if (first) this.log.warn(`shared store unavailable (${operation}: ${why}); falling back to in-process behaviour`);
  }

  /** Runs one cloud API call inside a CLIENT span `cloud <Action>`, recording its duration and outcome. */
  async cloud<T>(action: unknown, host: string | undefined, call: () => Promise<T>): Promise<T> {
    // Only a plain API action name becomes a span name or attribute; anything else is refused by the client.
    const name = typeof action === 'string' && PLAIN_NAME.test(action) ? action : 'invalid';
    const start = performance.now();
    const span = this.startSpan(
      `cloud ${name}`,
      host === undefined ? { [A.cloudAction]: name } : { [A.cloudAction]: name, [A.serverAddress]: host },
    );
    let outcome: CloudOutcome = 'error';
    let failure: unknown;
    try {
      const result = await this.within(span, call);
      outcome = 'ok';
      return result;
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      outcome =
        code === 'cloud_api_error'
          ? 'api_error'
          : code === 'upstream_timeout'
            ? 'timeout'
            : code === 'upstream_unavailable'
              ? 'unavailable'
              : 'error';
      failure = err;
      throw err;
    } finally {
      this.cloudDuration.record((performance.now() - start) / 1000, {
        [A.cloudAction]: name,
        [A.cloudOutcome]: outcome,
      });
      this.endSpan(span, A.cloudOutcome, outcome, failure);
    }
  }

  private startSpan(name: string, attributes: Attrs): Span | undefined {
    const api = this.api;
    if (api === undefined) return undefined;
    return api.trace
      .getTracer(METER_NAME)
      .startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, api.context.active());
  }

  private within<T>(span: Span | undefined, call: () => Promise<T>): Promise<T> {
    const api = this.api;
    if (span === undefined || api === undefined) return call();
    return api.context.with(api.trace.setSpan(api.context.active(), span), call);
  }

  private endSpan(span: Span | undefined, key: string, outcome: string, failure: unknown): void {
    if (span === undefined) return;
    span.setAttribute(key, outcome);
    if (failure !== undefined && outcome !== 'refused') {
      span.setAttribute(A.errorType, String((failure as { code?: unknown } | null)?.code ?? 'error'));
      // The message is ours and secret-free (SsoGuardError); never recordException (stacks, causes).
      span.setStatus({
        code: this.api!.SpanStatusCode.ERROR,
        message: failure instanceof Error ? failure.message : undefined,
      });
    }
    span.end();
  }
}

/** A Telemetry for one `auth()` instance (or a standalone CloudClient). */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  return new Telemetry(options);
}
