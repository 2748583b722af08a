import { randomBytes, randomInt } from 'node:crypto';
import { OAuthProblem } from './http';
import type { Settings } from './options';
import type { AccessKeyInfo, EmulatorUser, IssuedTokens, TokenIssuer } from './types';

/** The `token_issuer` values `/sso/token/` accepts. */
export const TOKEN_ISSUERS: readonly TokenIssuer[] = ['sso', 'iam', 'iam_jwt', 'app', 'app_dev'];

interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly userId: string;
  readonly tokenIssuer: TokenIssuer | undefined;
  readonly expiresAt: number;
  /** Set once exchanged: a second exchange revokes this grant (RFC 6749 §4.1.2). */
  grantId?: string;
}

/** Everything issued from one code exchange (or `issueTokens()`): the unit of refresh and revocation. */
interface Grant {
  readonly id: string;
  readonly clientId: string;
  readonly userId: string;
  readonly issuer: TokenIssuer;
  readonly accessTokens: Set<string>;
  readonly refreshTokens: Set<string>;
}

interface AccessRecord {
  readonly grantId: string;
  readonly expiresAt: number;
  revoked: boolean;
  sts?: StsRecord;
}

interface RefreshRecord {
  readonly grantId: string;
  readonly expiresAt: number;
  status: 'active' | 'used' | 'revoked';
}

interface StsRecord {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly token: string;
  readonly expiresAt: number;
  readonly userId: string;
}

/** The `check_token` answer. */
export interface CheckResult {
  access_key: string;
  secret_key: string;
  token: string;
  user: Record<string, unknown>;
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Sweep expired records at most this often (clock ms), so memory stays bounded in long runs. */
const SWEEP_INTERVAL_MS = 60_000;

function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function randomChars(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** `base64url(header).base64url(payload).base64url(random)`: JWT-shaped, not verifiable (nothing publishes keys). */
function jwtShaped(payload: Record<string, unknown>): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}.${randomToken()}`;
}

/** The codes, grants, tokens and temporary credentials of one emulator instance. */
export class EmulatorStore {
  /** Known users by id, including those created from the sign-in page. */
  readonly users = new Map<string, EmulatorUser>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly grants = new Map<string, Grant>();
  private readonly accessTokens = new Map<string, AccessRecord>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly stsByAccessKey = new Map<string, StsRecord>();
  private lastSweep: number;

  constructor(
    private readonly clock: () => number,
    private readonly settings: Readonly<Settings>,
    users: readonly EmulatorUser[],
  ) {
    for (const user of users) this.users.set(user.user_id, user);
    this.lastSweep = clock();
  }

  /** Finds a user by exact `user_name` or `user_id`, or creates one with that name. */
  userByName(name: string): EmulatorUser {
    for (const user of this.users.values()) if (user.user_name === name || user.user_id === name) return user;
    const slug = name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32);
    const id = slug && !this.users.has(`usr-${slug}`) ? `usr-${slug}` : `usr-${randomBytes(6).toString('hex')}`;
    const user: EmulatorUser = {
      user_id: id,
      user_name: name,
      email: slug ? `${slug}@example.com` : '',
      phone: '',
      lang: 'en',
      user_verify: { email_verified: false, phone_verified: false, mfa_enabled: false },
    };
    this.users.set(id, user);
    return user;
  }

  /** Issues an authorization code bound to client, redirect URI and user. */
  issueCode(params: { clientId: string; redirectUri: string; userId: string; tokenIssuer?: TokenIssuer }): string {
    this.sweep();
    const code = randomToken();
    this.codes.set(code, {
      ...params,
      tokenIssuer: params.tokenIssuer,
      expiresAt: this.clock() + this.settings.codeTtl * 1000,
    });
    return code;
  }

  /** Exchanges a code (client already authenticated). Refusals are `invalid_grant`. */
  exchangeCode(params: {
    code: string;
    clientId: string;
    redirectUri: string;
    tokenIssuer: TokenIssuer | undefined;
  }): IssuedTokens {
    const record = this.codes.get(params.code);
    if (!record) throw new OAuthProblem('invalid_grant', 'unknown authorization code');
    if (record.grantId !== undefined) {
      // A replayed code may be stolen: revoke what the first exchange issued.
      this.revokeGrant(record.grantId);
      throw new OAuthProblem('invalid_grant', 'authorization code already used');
    }
    if (this.clock() >= record.expiresAt) {
      this.codes.delete(params.code);
      throw new OAuthProblem('invalid_grant', 'authorization code expired');
    }
    if (record.clientId !== params.clientId)
      throw new OAuthProblem('invalid_grant', 'authorization code was issued to another client');
    if (record.redirectUri !== params.redirectUri)
      throw new OAuthProblem('invalid_grant', 'redirect_uri does not match the authorization request');
    const { grant, tokens } = this.createGrant(
      record.clientId,
      record.userId,
      params.tokenIssuer ?? record.tokenIssuer ?? 'sso',
      {},
    );
    record.grantId = grant.id;
    return tokens;
  }

  /** Starts a grant and issues its first tokens. */
  createGrant(
    clientId: string,
    userId: string,
    issuer: TokenIssuer,
    opts: { accessTokenTtl?: number; refreshToken?: boolean },
  ): { grant: Grant; tokens: IssuedTokens } {
    this.sweep();
    const grant: Grant = {
      id: randomToken(16),
      clientId,
      userId,
      issuer,
      accessTokens: new Set(),
      refreshTokens: new Set(),
    };
    this.grants.set(grant.id, grant);
    const withRefresh = issuer !== 'iam_jwt' && (opts.refreshToken ?? this.settings.refreshTokens);
    const tokens = this.issueAccessToken(grant, opts.accessTokenTtl ?? this.settings.accessTokenTtl);
    if (withRefresh) tokens.refresh_token = this.issueRefreshToken(grant);
    return { grant, tokens };
  }

  /** `check_token`: the temporary credentials of a live access token (stable until their own expiry) and its user. */
  check(accessToken: string, withUserVerify: boolean): CheckResult {
    const record = this.accessTokens.get(accessToken);
    if (!record) throw new OAuthProblem('invalid_token', 'unknown access token');
    if (record.revoked) throw new OAuthProblem('invalid_token', 'access token revoked');
    const now = this.clock();
    if (now >= record.expiresAt) throw new OAuthProblem('invalid_token', 'access token expired');
    const grant = this.grants.get(record.grantId);
    const user = grant && this.users.get(grant.userId);
    if (!user) throw new OAuthProblem('invalid_token', 'unknown access token');
    if (!record.sts || now >= record.sts.expiresAt) {
      if (record.sts) this.stsByAccessKey.delete(record.sts.accessKey);
      record.sts = this.mintSts(user.user_id, now);
      this.stsByAccessKey.set(record.sts.accessKey, record.sts);
    }
    return {
      access_key: record.sts.accessKey,
      secret_key: record.sts.secretKey,
      token: record.sts.token,
      user: publicUser(user, withUserVerify),
    };
  }

  /** `refresh_token`: `bearer` must be an access token (expired is fine) of the refresh token's grant. */
  refresh(bearer: string, refreshToken: string): IssuedTokens {
    const record = this.refreshTokens.get(refreshToken);
    if (!record) throw new OAuthProblem('invalid_grant', 'unknown refresh token');
    if (record.status === 'used') throw new OAuthProblem('invalid_grant', 'refresh token already used (rotated)');
    if (record.status === 'revoked') throw new OAuthProblem('invalid_grant', 'refresh token revoked');
    if (this.clock() >= record.expiresAt) throw new OAuthProblem('invalid_grant', 'refresh token expired');
    const access = this.accessTokens.get(bearer);
    if (!access) throw new OAuthProblem('invalid_token', 'the Bearer access token is unknown');
    const grant = this.grants.get(record.grantId);
    if (!grant || access.grantId !== grant.id)
      throw new OAuthProblem('invalid_grant', 'the Bearer access token does not belong to this refresh token');
    this.sweep();
    let tokens: IssuedTokens;
    if (!this.settings.rotateRefreshTokens) {
      tokens = { ...this.issueAccessToken(grant, this.settings.accessTokenTtl), refresh_token: refreshToken };
    } else {
      record.status = 'used';
      // The previous access tokens stop working; their temporary credentials live on until their own exp.
      for (const token of grant.accessTokens) {
        const previous = this.accessTokens.get(token);
        if (previous) previous.revoked = true;
      }
      tokens = this.issueAccessToken(grant, this.settings.accessTokenTtl);
      tokens.refresh_token = this.issueRefreshToken(grant);
    }
    // The account guide's variant: the new token's check_token answer comes along (the same
    // credentials a check_token call would then return).
    return this.settings.refreshWithCredentials ? { ...tokens, ...this.check(tokens.access_token, false) } : tokens;
  }

  /** Revokes one access token (and its temporary credentials) or refresh token; unknown tokens are ignored. */
  revokeToken(token: string): void {
    const access = this.accessTokens.get(token);
    if (access) {
      access.revoked = true;
      if (access.sts) this.stsByAccessKey.delete(access.sts.accessKey);
    }
    const refresh = this.refreshTokens.get(token);
    if (refresh && refresh.status === 'active') refresh.status = 'revoked';
  }

  /** Revokes every grant of a user. */
  revokeUser(userId: string): void {
    for (const grant of this.grants.values()) if (grant.userId === userId) this.revokeGrant(grant.id);
  }

  /** The temporary credentials of an access key, while not revoked. */
  lookupAccessKey(accessKey: string): AccessKeyInfo | undefined {
    const sts = this.stsByAccessKey.get(accessKey);
    const user = sts && this.users.get(sts.userId);
    if (!sts || !user) return undefined;
    return { secretKey: sts.secretKey, token: sts.token, expiresAt: sts.expiresAt, user: { ...user } };
  }

  private revokeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (!grant) return;
    for (const token of grant.accessTokens) this.revokeToken(token);
    for (const token of grant.refreshTokens) this.revokeToken(token);
  }

  private issueAccessToken(grant: Grant, ttlSeconds: number): IssuedTokens {
    const now = this.clock();
    const expiresAt = now + ttlSeconds * 1000;
    // iam_jwt access tokens look like JWTs (token_type JWT); the others are opaque random strings.
    const token =
      grant.issuer === 'iam_jwt'
        ? jwtShaped({
            iss: 'sso-emulator',
            sub: grant.userId,
            aud: grant.clientId,
            iat: Math.floor(now / 1000),
            exp: Math.floor(expiresAt / 1000),
            jti: randomToken(16),
          })
        : randomToken();
    this.accessTokens.set(token, { grantId: grant.id, expiresAt, revoked: false });
    grant.accessTokens.add(token);
    return {
      access_token: token,
      expires_in: Math.ceil(ttlSeconds),
      token_type: grant.issuer === 'iam_jwt' ? 'JWT' : 'Bearer',
    };
  }

  private issueRefreshToken(grant: Grant): string {
    const token = randomToken();
    this.refreshTokens.set(token, {
      grantId: grant.id,
      expiresAt: this.clock() + this.settings.refreshTokenTtl * 1000,
      status: 'active',
    });
    grant.refreshTokens.add(token);
    return token;
  }

  private mintSts(userId: string, now: number): StsRecord {
    const accessKey = `TMP${randomChars(17, UPPER_ALNUM)}`;
    const expiresAt = now + this.settings.stsTokenTtl * 1000;
    const token = jwtShaped({
      sub: userId,
      ak: accessKey,
      iat: Math.floor(now / 1000),
      exp: Math.floor(expiresAt / 1000),
    });
    return { accessKey, secretKey: randomChars(40, ALNUM), token, expiresAt, userId };
  }

  /**
   * Drops records that can no longer change an answer: expired codes (after a grace period that
   * keeps replay detection), and grants whose every token and credential is dead. A dropped token
   * reads as "unknown", which is refused exactly like "expired".
   */
  private sweep(): void {
    const now = this.clock();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [code, record] of this.codes) if (now >= record.expiresAt + SWEEP_INTERVAL_MS) this.codes.delete(code);
    for (const grant of this.grants.values()) {
      const accessAlive = [...grant.accessTokens].some((t) => {
        const a = this.accessTokens.get(t);
        return (
          a !== undefined &&
          ((!a.revoked && now < a.expiresAt) ||
            (a.sts !== undefined && now < a.sts.expiresAt && this.stsByAccessKey.has(a.sts.accessKey)))
        );
      });
      const refreshAlive = [...grant.refreshTokens].some((t) => {
        const r = this.refreshTokens.get(t);
        return r !== undefined && r.status === 'active' && now < r.expiresAt;
      });
      if (accessAlive || refreshAlive) continue;
      for (const t of grant.accessTokens) {
        const sts = this.accessTokens.get(t)?.sts;
        if (sts) this.stsByAccessKey.delete(sts.accessKey);
        this.accessTokens.delete(t);
      }
      for (const t of grant.refreshTokens) this.refreshTokens.delete(t);
      this.grants.delete(grant.id);
    }
  }
}

/** The `user` object of `check_token`: documented fields always present, extra keys passed through. */
function publicUser(user: EmulatorUser, withUserVerify: boolean): Record<string, unknown> {
  const { user_verify, ...rest } = user;
  const out: Record<string, unknown> = {
    ...rest,
    email: user.email ?? '',
    phone: user.phone ?? '',
    lang: user.lang ?? 'en',
  };
  if (withUserVerify) out.user_verify = { ...(user_verify ?? {}) };
  return out;
}
