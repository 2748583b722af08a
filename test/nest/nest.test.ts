import 'reflect-metadata';
import { Controller, Get, Module, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ExpressAdapter } from '@nestjs/platform-express';
import express, { type Express } from 'express';
import request from 'supertest';
import { auth } from '../../lib/express/middleware';
import type { SsoGuardOptions } from '../../lib/options';
import type { Emulator } from '../../lib/testing';
import {
  Public,
  Sso,
  SsoAuth,
  SsoAuthGuard,
  SsoCloud,
  SsoCredentials,
  SsoUser,
  type CloudClient,
  type SsoContext,
} from '../../lib/nest';
import { APP_BASE_URL, signIn, startTestEmulator } from '../helpers/app';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from '../helpers/options';

const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

// The routes, without a guard of their own: the global variant adds APP_GUARD, the other @UseGuards.
@Controller()
class Routes {
  @Get('me')
  me(@SsoUser() user: SsoUser, @SsoUser('user_id') id: string, @SsoCredentials() creds: SsoCredentials) {
    return { user, id, accessKey: creds.accessKey };
  }

  @Get('dashboard')
  dashboard(@SsoUser('user_name') name: string) {
    return `<p>${name}</p>`;
  }

  @Public()
  @Get('health')
  health(@Sso() sso: SsoContext) {
    return { ok: true, signedIn: sso.isAuthenticated() };
  }

  @Public()
  @Get('public-user')
  publicUser(@SsoUser() user: SsoUser) {
    return { user };
  }

  @SsoAuth({ authorize: (user) => user.user_id === 'usr-nobody' })
  @Get('admin')
  admin() {
    return { admin: true };
  }

  @SsoAuth({ authorize: async (user, req) => user.user_id.length > 0 && req.path === '/staff' })
  @Get('staff')
  staff() {
    return { staff: true };
  }

  @SsoAuth({ mode: '401' })
  @Get('api-only')
  apiOnly() {
    return { ok: true };
  }

  @Get('instances')
  async instances(@SsoCloud() cloud: CloudClient) {
    const out = await cloud.call<{ total_count: number }>('DescribeInstances');
    return { total: out.total_count };
  }
}

@Controller('guarded')
@UseGuards(SsoAuthGuard)
class Guarded {
  @Get()
  get(@SsoUser('user_id') id: string) {
    return { id };
  }
}

@Module({ controllers: [Routes, Guarded], providers: [{ provide: APP_GUARD, useClass: SsoAuthGuard }] })
class GlobalGuardModule {}

@Controller('open')
class Open {
  @Get()
  get(@Sso() sso: SsoContext) {
    return { signedIn: sso.isAuthenticated() };
  }
}

@Module({ controllers: [Guarded, Open] })
class PerControllerModule {}

// Nest 11's Express adapter runs on Express 5 only (an Express 4 instance fails in app.init());
// Nest 10 on Express 4 is installed from the tarball by test/package/smoke.mjs.
describe('NestJS 11 (Express adapter)', () => {
  let sso: Emulator;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    sso = await startTestEmulator();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await sso.close();
  });

  /** A real Nest application on the Express adapter, `auth({ authRequired: false })` mounted with app.use(). */
  async function nest(module: Type, options: SsoGuardOptions = {}, mount = true): Promise<Express> {
    const instance = express();
    const app = await NestFactory.create(module, new ExpressAdapter(instance), { logger: false });
    apps.push(app);
    if (mount)
      app.use(
        auth({
          ssoBaseUrl: sso.url,
          appBaseUrl: APP_BASE_URL,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          secret: SECRET,
          authRequired: false,
          cloud: { apiBaseUrl: sso.url },
          ...options,
        }),
      );
    await app.init();
    return instance;
  }

  describe('global guard (APP_GUARD)', () => {
    let app: Express;
    let cookie: string;
    beforeAll(async () => {
      app = await nest(GlobalGuardModule);
      cookie = (await signIn(app, sso, '/me')).cookie;
    });

    it('signs in through the emulator and hands the user and credentials to the decorators', async () => {
      const res = await request(app).get('/me').set('Cookie', cookie).expect(200);
      expect(res.body).toMatchObject({ user: { user_id: 'usr-alice' }, id: 'usr-alice' });
      expect(res.body.accessKey).toEqual(expect.any(String));
    });

    it('answers a signed-out API call with 401 JSON and WWW-Authenticate', async () => {
      const res = await request(app).get('/me').set('Accept', 'application/json').expect(401);
      expect(res.body).toEqual({ error: 'unauthenticated', message: 'Sign-in required' });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('redirects a signed-out page navigation to login with its returnTo', async () => {
      const res = await request(app).get('/dashboard?tab=1').set('Accept', HTML_ACCEPT).expect(302);
      expect(res.headers.location).toBe(`/login?returnTo=${encodeURIComponent('/dashboard?tab=1')}`);
    });

    it('lets @Public() routes through, signed in or not', async () => {
      await request(app).get('/health').expect(200, { ok: true, signedIn: false });
      await request(app).get('/health').set('Cookie', cookie).expect(200, { ok: true, signedIn: true });
    });

    it('answers @SsoUser() on a signed-out @Public() route with Nest 401', async () => {
      const res = await request(app).get('/public-user').expect(401);
      expect(res.body).toMatchObject({ error: 'unauthenticated' });
    });

    it('applies a per-route authorize: 403 JSON for an API, a page for a navigation', async () => {
      const api = await request(app).get('/admin').set('Cookie', cookie).expect(403);
      expect(api.body).toEqual({ error: 'forbidden', message: expect.any(String) });
      const page = await request(app).get('/admin').set('Cookie', cookie).set('Accept', HTML_ACCEPT).expect(403);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      await request(app).get('/staff').set('Cookie', cookie).expect(200, { staff: true });
      // Signed out, authorize is not asked: the usual 401.
      await request(app).get('/staff').expect(401);
    });

    it('answers in the language of Accept-Language, as the middleware does', async () => {
      const api = await request(app).get('/me').set('Accept-Language', 'zh-CN').expect(401);
      expect(api.body).toEqual({ error: 'unauthenticated', message: '需要登录' });
      expect(api.headers['content-language']).toBe('zh-CN');
      const page = await request(app)
        .get('/admin')
        .set('Cookie', cookie)
        .set('Accept', HTML_ACCEPT)
        .set('Accept-Language', 'zh')
        .expect(403);
      expect(page.text).toContain('<h1>无权访问</h1><p>此账号无权访问此页面</p>');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.headers['cache-control']).toBe('no-store');
    });

    it('honours @SsoAuth({ mode: "401" }) for navigations', async () => {
      await request(app).get('/api-only').set('Accept', HTML_ACCEPT).expect(401);
    });

    it('calls the cloud API as the signed-in user', async () => {
      const res = await request(app).get('/instances').set('Cookie', cookie).expect(200);
      expect(res.body.total).toEqual(expect.any(Number));
      await request(app).get('/instances').expect(401);
    });
  });

  describe('per-controller guard (@UseGuards)', () => {
    it('guards its controller only', async () => {
      const app = await nest(PerControllerModule);
      await request(app).get('/open').expect(200, { signedIn: false });
      await request(app).get('/guarded').expect(401);
      const { cookie } = await signIn(app, sso, '/guarded');
      await request(app).get('/guarded').set('Cookie', cookie).expect(200, { id: 'usr-alice' });
    });

    it('with renderErrors: false, leaves the answer to Nest: an HttpException with the error as cause', async () => {
      const app = await nest(PerControllerModule, { renderErrors: false });
      const res = await request(app).get('/guarded').expect(401);
      expect(res.body).toEqual({ error: 'unauthenticated', message: 'Sign-in required' });
    });

    it('answers 500 when auth() is not mounted', async () => {
      const app = await nest(PerControllerModule, {}, false);
      const res = await request(app).get('/guarded').expect(500);
      expect(res.body).toMatchObject({ error: 'invalid_option' });
      expect(res.text).toMatch(/auth\(\) to be mounted/);
    });
  });
});

describe('SsoAuthGuard outside HTTP', () => {
  class Gateway {
    @Public()
    open() {}
    closed() {}
  }
  const ws = (handler: () => void): ExecutionContextHost => {
    const host = new ExecutionContextHost([{}, {}], Gateway, handler);
    host.setType('ws');
    return host;
  };

  it('refuses a WebSocket or microservice handler unless it is @Public()', async () => {
    const guard = new SsoAuthGuard();
    await expect(guard.canActivate(ws(Gateway.prototype.closed))).resolves.toBe(false);
    await expect(guard.canActivate(ws(Gateway.prototype.open))).resolves.toBe(true);
  });
});
