import { createCore } from '../../lib/instance';
import { jwtExpiry } from '../../lib/util/crypto';
import { tokenHash } from '../../lib/util/crypto';
import { SsoGuardError } from '../../lib/errors';
import { fakeClock } from '../helpers/clock';
import { FakeSso, deferred } from '../helpers/fake-sso';
import { testOptions } from '../helpers/options';

const jwt = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;

function setup(cache = {}) {
  const clock = fakeClock();
  const sso = new FakeSso();
  const c = createCore(testOptions({ cache }), { sso: sso.asClient(), clock }).cache;
  return { clock, sso, c, far: clock() + 86_400_000 };
}

describe('CheckTokenCache', () => {
  it('keys by SHA-256 of the token and caches valid answers', async () => {
    const { c, sso, far, clock } = setup();
    const h = tokenHash('tok');
    const e = await c.lookup(h, 'tok', far);
    expect(e.kind).toBe('valid');
    expect(c.peek(h, clock())).toBe(e);
    expect(c.peek('tok', clock())).toBeUndefined();
    await c.lookup(h, 'tok', far);
    expect(sso.checks).toBe(1);
  });

  it('makes ONE call for any number of concurrent lookups of one token', async () => {
    const { c, sso, far } = setup();
    const d = deferred<undefined>();
    sso.check = async () => {
      await d.promise;
      return { user: { user_id: 'u' }, credentials: { accessKey: 'a', secretKey: 's', token: 't' } };
    };
    const all = Array.from({ length: 1000 }, () => c.lookup(tokenHash('t'), 't', far));
    d.resolve(undefined);
    const out = await Promise.all(all);
    expect(sso.checks).toBe(1);
    expect(new Set(out).size).toBe(1);
  });

  it('caps the TTL by the configured TTL, the token expiry and the STS token exp', async () => {
    const { c, sso, clock } = setup({ ttl: 300 });
    const now = clock();
    sso.check = async () => ({
      user: { user_id: 'u' },
      credentials: { accessKey: 'a', secretKey: 's', token: jwt(now / 1000 + 100) },
    });
    const byConfig = await c.lookup('h1', 't1', now + 86_400_000);
    expect(byConfig.until).toBe(now + 100_000); // STS exp (100 s) < ttl (300 s)
    sso.check = async () => ({
      user: { user_id: 'u' },
      credentials: { accessKey: 'a', secretKey: 's', token: 'opaque' },
    });
    expect((await c.lookup('h2', 't2', now + 86_400_000)).until).toBe(now + 300_000);
    expect((await c.lookup('h3', 't3', now + 20_000)).until).toBe(now + 20_000);
    clock.advance(20_000);
    expect(c.peek('h3', clock())).toBeUndefined();
    expect(c.peek('h2', clock())).toBeDefined();
  });

  it('caches an invalid answer briefly', async () => {
    const { c, sso, clock, far } = setup({ invalidTtl: 5 });
    sso.check = async () => undefined;
    expect((await c.lookup('h', 't', far)).kind).toBe('invalid');
    await c.lookup('h', 't', far);
    expect(sso.checks).toBe(1);
    clock.advance(5001);
    await c.lookup('h', 't', far);
    expect(sso.checks).toBe(2);
  });

  it('does not cache upstream failures and clears the in-flight call', async () => {
    const { c, sso, far } = setup();
    sso.check = async () => {
      throw new SsoGuardError('upstream_timeout', 'slow');
    };
    await expect(c.lookup('h', 't', far)).rejects.toMatchObject({ code: 'upstream_timeout' });
    sso.check = async () => ({ user: { user_id: 'u' }, credentials: { accessKey: 'a', secretKey: 's', token: 't' } });
    expect((await c.lookup('h', 't', far)).kind).toBe('valid');
    expect(sso.checks).toBe(2);
  });

  it('force skips the cached answer; delete drops it', async () => {
    const { c, sso, far, clock } = setup();
    await c.lookup('h', 't', far);
    await c.lookup('h', 't', far, { force: true });
    expect(sso.checks).toBe(2);
    c.delete('h');
    expect(c.peek('h', clock())).toBeUndefined();
  });

  it('is bounded by max', async () => {
    const { c, far } = setup({ max: 10 });
    for (let i = 0; i < 50; i++) await c.lookup(`h${i}`, `t${i}`, far);
    expect(c.size).toBe(10);
  });
});

describe('jwtExpiry', () => {
  it('reads exp or gives up quietly', () => {
    expect(jwtExpiry(jwt(123))).toBe(123);
    for (const t of ['', 'a.b', 'a.!!!.c', `e30.${Buffer.from('{"exp":"x"}').toString('base64url')}.s`, 'opaque'])
      expect(jwtExpiry(t)).toBeUndefined();
  });
});
