import { parseCloudInfo, type CloudInfo } from '../cloud/cloud-info';
import type { SpiHandledAction } from './spi-actions';

export { SPI_HANDLED_ACTIONS, type SpiAction, type SpiHandledAction } from './spi-actions';

/** What every SPI call carries, decoded. Parameters absent from the call are `undefined`. */
export interface SpiCommonParams {
  /** `time_stamp`, already checked to be within the accepted window. */
  readonly timeStamp: Date;
  /** `debug`: `true` for a test order of the app's developer. */
  readonly debug: boolean;
  readonly userId?: string;
  readonly appId?: string;
  readonly instanceId?: string;
  readonly orderId?: string;
  /** `period`, e.g. `1_month`. */
  readonly period?: string;
  /** `spec`, base64-decoded (UTF-8 text, usually JSON). */
  readonly spec?: string;
  /** `spec_package`, base64-decoded (UTF-8 text, usually JSON). */
  readonly specPackage?: string;
  /** `cloud_info` through `parseCloudInfo()`: the SSO and cloud API origins of this instance. */
  readonly cloudInfo?: CloudInfo;
  /** Every parameter of the call as received (URL-decoded), except `signature`. */
  readonly raw: Readonly<Record<string, string>>;
}

/** Parameters of `CreateAppInstance` (deduplicated on `order_id`). */
export interface CreateAppInstanceParams extends SpiCommonParams {
  readonly action: 'CreateAppInstance';
  readonly orderId: string;
}
/** Parameters of `RenewAppInstance` (deduplicated on `order_id`). */
export interface RenewAppInstanceParams extends SpiCommonParams {
  readonly action: 'RenewAppInstance';
  readonly orderId: string;
  readonly instanceId: string;
}
/** Parameters of `UpgradeAppInstance` (deduplicated on `order_id`). */
export interface UpgradeAppInstanceParams extends SpiCommonParams {
  readonly action: 'UpgradeAppInstance';
  readonly orderId: string;
  readonly instanceId: string;
}
/** Parameters of `ExpireAppInstance` (deduplicated on `instance_id`). */
export interface ExpireAppInstanceParams extends SpiCommonParams {
  readonly action: 'ExpireAppInstance';
  readonly instanceId: string;
}
/** Parameters of `DeleteAppInstance` (deduplicated on `instance_id`). */
export interface DeleteAppInstanceParams extends SpiCommonParams {
  readonly action: 'DeleteAppInstance';
  readonly instanceId: string;
}

/** The parameters each handled action receives. */
export interface SpiParamsByAction {
  CreateAppInstance: CreateAppInstanceParams;
  RenewAppInstance: RenewAppInstanceParams;
  UpgradeAppInstance: UpgradeAppInstanceParams;
  ExpireAppInstance: ExpireAppInstanceParams;
  DeleteAppInstance: DeleteAppInstanceParams;
}

/** Any decoded SPI call a handler receives. */
export type SpiParams = SpiParamsByAction[SpiHandledAction];

/** One account of `appInfo` (`frontEnd`, `admin`). */
export interface SpiAccount {
  url?: string;
  username?: string;
  password?: string;
}

/** `appInfo` of a created instance: where users launch it (`authUrl`) and its accounts. */
export interface SpiAppInfo {
  /** The console opens `authUrl?token=<user token>`. */
  authUrl?: string;
  frontEnd?: SpiAccount;
  admin?: SpiAccount;
}

/** A refusal: AppCenter shows `message` and retries. */
export interface SpiFailure {
  success: false;
  message?: string;
}

/** The answer of `CreateAppInstance`: `instanceId` (at most 128 characters, unique per creation). */
export type CreateAppInstanceResult =
  { success: true; instanceId: string; appInfo?: SpiAppInfo; message?: string } | SpiFailure;

/** The answer of the other actions. */
export type SpiResult = { success: true; message?: string } | SpiFailure;

/** The answer each handled action returns. */
export interface SpiResultByAction {
  CreateAppInstance: CreateAppInstanceResult;
  RenewAppInstance: SpiResult;
  UpgradeAppInstance: SpiResult;
  ExpireAppInstance: SpiResult;
  DeleteAppInstance: SpiResult;
}

/** The JSON body sent back to AppCenter. */
export type SpiAnswer = CreateAppInstanceResult | SpiResult;

/** A call that is refused before any handler runs: the message is sent as `{success:false, message}`. */
export class SpiRefusal extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SpiRefusal';
  }
}

/** Longer queries are refused unread (an SPI call is a few hundred characters plus `spec`). */
const MAX_QUERY_CHARS = 16_384;

/**
 * Reads a raw query string (after `?`) into a record. Values are URL-decoded (`+` is a space)
 * except `signature`, base64 where `+` is a plus. A repeated, undecodable or nameless parameter
 * is refused: a signer and a verifier that saw different values would be unsafe.
 */
export function parseSpiQuery(query: string): Record<string, string> {
  if (query.length > MAX_QUERY_CHARS) throw new SpiRefusal('query too long', 414);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(name === 'signature' ? rawValue : rawValue.replace(/\+/g, ' '));
    } catch {
      throw new SpiRefusal('malformed query', 400);
    }
    if (name === '') throw new SpiRefusal('malformed query', 400);
    if (Object.prototype.hasOwnProperty.call(out, name))
      throw new SpiRefusal(`parameter "${name.slice(0, 40)}" is repeated`, 400);
    out[name] = value;
  }
  return out;
}

/** `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`, the ISO 8601 form AppCenter sends (`2021-06-22T09:15:03Z`). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** The `time_stamp` as a Date, when it is ISO 8601 and at most `windowMs` away from `now` either way. */
export function checkTimestamp(value: string | undefined, now: number, windowMs: number): Date {
  const ms = value !== undefined && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new SpiRefusal('time_stamp missing or not ISO 8601', 401);
  if (Math.abs(now - ms) > windowMs) throw new SpiRefusal('time_stamp outside the accepted window', 401);
  return new Date(ms);
}

function decodeBase64Text(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(/[\t\n\r ]/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.length % 4 === 1)
    throw new SpiRefusal(`${name} is not base64`, 400);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'base64'));
  } catch {
    throw new SpiRefusal(`${name} is not base64 of UTF-8 text`, 400);
  }
}

function decodeBoolean(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new SpiRefusal(`${name} must be true or false`, 400);
}

/** The parameter an action is deduplicated on, and the ones it requires. */
const KEYS: Record<SpiHandledAction, { dedupe: 'order_id' | 'instance_id'; required: readonly string[] }> = {
  CreateAppInstance: { dedupe: 'order_id', required: ['order_id'] },
  RenewAppInstance: { dedupe: 'order_id', required: ['order_id', 'instance_id'] },
  UpgradeAppInstance: { dedupe: 'order_id', required: ['order_id', 'instance_id'] },
  ExpireAppInstance: { dedupe: 'instance_id', required: ['instance_id'] },
  DeleteAppInstance: { dedupe: 'instance_id', required: ['instance_id'] },
};

/** The value a call is deduplicated on: `order_id` (Create/Renew/Upgrade) or `instance_id` (Expire/Delete). */
export function dedupeValue(action: SpiHandledAction, raw: Readonly<Record<string, string>>): string {
  return raw[KEYS[action].dedupe]!;
}

/** Decodes a verified call for its handler (base64 `spec`/`spec_package`, `cloud_info`, `debug`). */
export function decodeSpiParams<A extends SpiHandledAction>(
  action: A,
  raw: Readonly<Record<string, string>>,
  timeStamp: Date,
): SpiParamsByAction[A] {
  for (const name of KEYS[action].required) {
    if (!raw[name]) throw new SpiRefusal(`${name} is required for ${action}`, 400);
  }
  let cloudInfo: CloudInfo | undefined;
  if (raw.cloud_info !== undefined) {
    try {
      cloudInfo = parseCloudInfo(raw.cloud_info);
    } catch (err) {
      // parseCloudInfo's message names the rule, never the value.
      throw new SpiRefusal((err as Error).message, 400);
    }
  }
  const rest = { ...raw };
  delete rest.signature;
  return Object.freeze({
    action,
    timeStamp,
    debug: decodeBoolean('debug', raw.debug),
    userId: raw.user_id,
    appId: raw.app_id,
    instanceId: raw.instance_id,
    orderId: raw.order_id,
    period: raw.period,
    spec: decodeBase64Text('spec', raw.spec),
    specPackage: decodeBase64Text('spec_package', raw.spec_package),
    cloudInfo,
    raw: Object.freeze(rest),
  }) as unknown as SpiParamsByAction[A];
}

function optionalString(v: unknown): v is string | undefined {
  return v === undefined || typeof v === 'string';
}

function account(v: unknown): SpiAccount | undefined | null {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object') return null;
  const { url, username, password } = v as Record<string, unknown>;
  if (!optionalString(url) || !optionalString(username) || !optionalString(password)) return null;
  return { url, username, password };
}

/**
 * A handler's result in the documented shape, copied field by field (nothing else is sent), or
 * undefined when it is not one: `{success:true}` (plus `instanceId` ≤ 128 characters and an
 * optional `appInfo` for CreateAppInstance) or `{success:false, message?}`.
 */
export function shapeResult(action: SpiHandledAction, result: unknown): SpiAnswer | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  if (!optionalString(r.message)) return undefined;
  const message = r.message === undefined ? {} : { message: r.message };
  if (r.success === false) return { success: false, ...message };
  if (r.success !== true) return undefined;
  if (action !== 'CreateAppInstance') return { success: true, ...message };
  if (typeof r.instanceId !== 'string' || r.instanceId === '' || r.instanceId.length > 128) return undefined;
  if (r.appInfo === undefined) return { success: true, instanceId: r.instanceId, ...message };
  if (r.appInfo === null || typeof r.appInfo !== 'object') return undefined;
  const info = r.appInfo as Record<string, unknown>;
  const frontEnd = account(info.frontEnd);
  const admin = account(info.admin);
  if (!optionalString(info.authUrl) || frontEnd === null || admin === null) return undefined;
  const appInfo: SpiAppInfo = JSON.parse(JSON.stringify({ authUrl: info.authUrl, frontEnd, admin })) as SpiAppInfo;
  return { success: true, instanceId: r.instanceId, appInfo, ...message };
}
