import { createCore } from '../../lib/instance';
import { tokenHash } from '../../lib/util/crypto';
import type { SsoGuardOptions } from '../../lib/options';
import { fakeClock } from '../helpers/clock';
import { FakeSso } from '../helpers/fake-sso';
import { testOptions } from '../helpers/options';
import { startRawSso, type RawSso } from '../helpers/raw-sso';

// A refresh answer that carries access_key, secret_key, token and user stands
// for the new token's check_token answer; an incomplete one is ignored.

const jwt = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
const TOKENS = { access_token: 'at-2', expires_in: 3600, token_type: 'Bearer', refresh_token: 'rt-2' };
const KEYS = { access_key: 'TMPAK', secret_key: 'SK', token: 'a.b.c', user: { user_id: 'usr-1', user_name: 'one' } };

describe('SsoClient.refresh reads the keys and user of a refresh answer', () => {
  let raw: RawSso;
  beforeAll(async () => {
    raw = await startRawSso();
  });
  afterAll(() => raw.close());
  const client = (options: SsoGuardOptions = {}) => createCore(testOptions({ ssoBaseUrl: raw.url, ...options })).sso;
  const answer = (body: unknown) => raw.respond(() => ({ kind: 'http', status: 200, body: JSON.stringify(body) }));

  it('a complete set becomes tokens.check', async () => {
    answer({ ...TOKENS, ...KEYS });
    expect((await client().refresh('at-1', 'rt-1')).check).toEqual({
      user: KEYS.user,
      credentials: { accessKey: 'TMPAK', secretKey: 'SK', token: 'a.b.c' },
    });
  });

  it.each([
    ['without user', { ...KEYS, user: undefined }],
    ['with an empty secret_key', { ...KEYS, secret_key: '' }],
    ['with a user that is not an object', { ...KEYS, user: 'usr-1' }],
    ['without token', { access_key: 'TMPAK', secret_key: 'SK', user: KEYS.user }],
  ])(
    'an incomplete set (%s) is ignored: the refresh still succeeds, check_token will be asked',
    async (_label, keys) => {
      answer({ ...TOKENS, ...keys });
      const tokens = await client().refresh('at-1', 'rt-1');
      expect(tokens.accessToken).toBe('at-2');
      expect(tokens.check).toBeUndefined();
    },
  );

  it('with userVerify, only a user carrying user_verify counts (check_token would have sent it)', async () => {
    answer({ ...TOKENS, ...KEYS });
    expect((await client({ userVerify: true }).refresh('at-1', 'rt-1')).check).toBeUndefined();
    answer({ ...TOKENS, ...KEYS, user: { ...KEYS.user, user_verify: { email_verified: true } } });
    expect((await client({ userVerify: true }).refresh('at-1', 'rt-1')).check?.user.user_verify).toEqual({
      email_verified: true,
    });
  });

  it('tokens only: no check, as before', async () => {
    answer(TOKENS);
    expect((await client().refresh('at-1', 'rt-1')).check).toBeUndefined();
  });
});

describe('CheckTokenCache.seed', () => {
  function setup(ttl = 300) {
    const clock = fakeClock();
    const sso = new FakeSso();
    const cache = createCore(testOptions({ cache: { ttl } }), { sso: sso.asClient(), clock }).cache;
    return { clock, sso, cache };
  }
  const result = (token: string) => ({
    user: { user_id: 'usr-1' },
    credentials: { accessKey: 'AK', secretKey: 'SK', token },
  });

  it('a seeded answer is served without a check_token call', async () => {
    const { clock, sso, cache } = setup();
    const h = tokenHash('at-2');
    await cache.seed(h, result(jwt(Math.floor(clock() / 1000) + 3600)), clock() + 3_600_000);
    const entry = await cache.lookup(h, 'at-2', clock() + 3_600_000);
    expect(entry).toMatchObject({ kind: 'valid', result: { credentials: { accessKey: 'AK' } } });
    expect(sso.checks).toBe(0);
  });

  it.each([
    ['the configured TTL', 300, 3600, 3600, 300_000],
    ['the access token expiry', 300, 120, 3600, 120_000],
    ['the STS token exp', 300, 3600, 45, 45_000],
  ])('TTL bounded by %s, like a check_token answer', async (_label, ttl, tokenSec, stsSec, want) => {
    const { clock, sso, cache } = setup(ttl);
    const h = tokenHash('at-2');
    const now = clock();
    await cache.seed(h, result(jwt(Math.floor(now / 1000) + stsSec)), now + tokenSec * 1000);
    expect(cache.peek(h, now)!.until - now).toBe(want);
    clock.advance(want);
    await cache.lookup(h, 'at-2', now + tokenSec * 1000);
    expect(sso.checks).toBe(1);
  });
});
