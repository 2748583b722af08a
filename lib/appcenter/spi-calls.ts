import createDebug from 'debug';
import { SpiIdempotency } from './spi-idempotency';
import { resolveSpiOptions, type SpiConfig, type SpiHandler } from './spi-options';
import {
  SPI_HANDLED_ACTIONS,
  SpiRefusal,
  checkTimestamp,
  decodeSpiParams,
  dedupeValue,
  parseSpiQuery,
  shapeResult,
  type SpiAnswer,
  type SpiHandledAction,
} from './spi-params';
import { verifySpiSignature } from './spi-signature';

// Logs actions and outcomes only: never a signature, a key or a parameter value.
const debug = createDebug('express-sso-guard:spi');

/** One SPI request as the framework hands it over. */
export interface SpiRequest {
  /** The raw query string, without `?`. */
  readonly query: string;
  /** The `app_signature` header, used when the query has no `signature`. */
  readonly headerSignature: string | undefined;
}

/** The answer to send: always JSON. */
export interface SpiResponse {
  readonly status: number;
  readonly body: SpiAnswer;
}

const isHandled = (action: string | undefined): action is SpiHandledAction =>
  SPI_HANDLED_ACTIONS.includes(action as SpiHandledAction);

/**
 * The framework-agnostic SPI endpoint: validates the options once, then for each call checks the
 * signature (any accepted form, any key), the `time_stamp` window and the parameters, answers
 * TestConnection, and runs the action's handler once per `order_id` / `instance_id`, bounded by
 * `handlerTimeout`. A refusal runs nothing; a handler error is never sent.
 */
export function createSpiCalls(options: unknown): (req: SpiRequest) => Promise<SpiResponse> {
  const config = resolveSpiOptions(options);
  const idempotency = new SpiIdempotency({
    store: config.store,
    secrets: config.secretAppKey,
    ttlMs: config.idempotencyTtl * 1000,
    waitMs: config.handlerTimeout,
  });

  return async function spiCall(req: SpiRequest): Promise<SpiResponse> {
    try {
      const params = parseSpiQuery(req.query);
      const signature = params.signature ?? req.headerSignature;
      if (signature === undefined || signature === '') throw new SpiRefusal('signature missing', 401);
      const signed = { ...params };
      delete signed.signature;
      if (!verifySpiSignature(signed, signature, config.secretAppKey)) throw new SpiRefusal('invalid signature', 401);
      const timeStamp = checkTimestamp(params.time_stamp, config.clock(), config.timestampWindow * 1000);
      const action = params.action;
      if (action === 'TestConnection') return { status: 200, body: { success: true } };
      if (!isHandled(action)) throw new SpiRefusal('unknown action', 400);
      const decoded = decodeSpiParams(action, params, timeStamp);
      const body = await answer(config, idempotency, action, dedupeValue(action, params), () =>
        (config.handlers[action] as SpiHandler<typeof action> | undefined)?.(decoded as never),
      );
      debug('%s: success %s', action, body.success);
      return { status: 200, body };
    } catch (err) {
      if (!(err instanceof SpiRefusal)) throw err;
      debug('refused: %s', err.message);
      return { status: err.status, body: { success: false, message: err.message } };
    }
  };
}

/** Runs (or joins, or recalls) the handler, bounded by `handlerTimeout`; never rejects. */
async function answer(
  config: SpiConfig,
  idempotency: SpiIdempotency,
  action: SpiHandledAction,
  id: string,
  invoke: () => unknown,
): Promise<SpiAnswer> {
  if (config.handlers[action] === undefined) return { success: false, message: `${action} is not handled by this app` };
  const run = idempotency.run(action, id, async () => {
    const result = await invoke();
    return shapeResult(action, result) ?? { success: false, message: 'the app returned an invalid answer' };
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<SpiAnswer>((resolve) => {
    timer = setTimeout(
      () => resolve({ success: false, message: 'the app did not answer in time' }),
      config.handlerTimeout,
    );
  });
  try {
    return await Promise.race([run, late]);
  } catch (err) {
    // The error may quote anything (a database URL, a key): only its class is logged, nothing sent.
    debug('%s handler failed (%s)', action, err instanceof Error ? err.name : typeof err);
    return { success: false, message: 'the app could not handle this call' };
  } finally {
    clearTimeout(timer);
  }
}
