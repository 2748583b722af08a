'use strict';
// The example app: the code to copy. `server.js` beside it reads the environment and starts it.
const { randomUUID } = require('node:crypto');
const express = require('express');
const { appCenterSpi, auth, requiresAuth } = require('express-sso-guard');

const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Show enough of the temporary access key to recognise it, never the whole key.
const mask = (key) => (key.length > 8 ? `${key.slice(0, 4)}…${key.slice(-2)}` : '…');

const page = (title, body) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${escape(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}` +
  'dt{font-weight:600}dd{margin:0 0 .6rem}code{background:#f3f3f3;padding:0 .3em}</style>' +
  `</head><body>${body}</body></html>`;

/** "Your instances": one signed cloud API call, so a newcomer sees the temporary keys at work. */
async function instancesSection(req) {
  try {
    const out = await req.sso.cloud.call('DescribeInstances', { limit: 20 });
    const rows = out.instance_set.map(
      (i) =>
        `<li>${escape(i.instance_name)} <code>${escape(i.instance_id)}</code> ${escape(i.status)} (${escape(i.zone)})</li>`,
    );
    return `<h2>Your instances</h2><ul id="instances">${rows.join('')}</ul>`;
  } catch (err) {
    return `<h2>Your instances</h2><p id="instances-error">The cloud API call failed: ${escape(err.message)}</p>`;
  }
}

// --- AppCenter lifecycle (SPI) -------------------------------------------------------------

/**
 * The app's AppCenter instances: who bought each one and whether it still runs. In memory here;
 * a real app keeps them in its database (every process of the app must see the same ones).
 */
function createInstanceRegistry() {
  const instances = new Map(); // instanceId -> { userId, status: 'active' | 'expired' | 'deleted' }
  return {
    create(userId) {
      const instanceId = `ins-${randomUUID()}`;
      instances.set(instanceId, { userId, status: 'active' });
      return instanceId;
    },
    /** Sets an instance's status (a deleted one stays deleted); returns it, or undefined when unknown. */
    setStatus(instanceId, status) {
      const instance = instances.get(instanceId);
      if (instance !== undefined && instance.status !== 'deleted') instance.status = status;
      return instance;
    },
    /**
     * Instance-bound authorization: a user who bought instances may use the app while one of them
     * is active. (Users with none, e.g. signed in directly in development, may too; a real app
     * would refuse them.)
     */
    mayUse(userId) {
      let owns = false;
      for (const instance of instances.values()) {
        if (instance.userId !== userId) continue;
        if (instance.status === 'active') return true;
        owns = true;
      }
      return !owns;
    },
  };
}

/**
 * The SPI handlers: Create records the instance and tells AppCenter where users launch it; Expire
 * and Delete mark it and end every session of its user at once, on every process sharing the
 * store (`revokeUser`); `authorize` then refuses the user's next sign-in (403).
 */
function spiHandlers(instances, revokeUser, appUrl) {
  const end = async ({ instanceId }, status) => {
    const instance = instances.setStatus(instanceId, status);
    if (instance !== undefined) await revokeUser(instance.userId);
    return { success: true };
  };
  return {
    CreateAppInstance: ({ userId }) => {
      if (userId === undefined) return { success: false, message: 'user_id is missing' };
      return { success: true, instanceId: instances.create(userId), appInfo: { authUrl: `${appUrl}/launch` } };
    },
    RenewAppInstance: ({ instanceId }) => {
      instances.setStatus(instanceId, 'active');
      return { success: true };
    },
    UpgradeAppInstance: () => ({ success: true }),
    ExpireAppInstance: (params) => end(params, 'expired'),
    DeleteAppInstance: (params) => end(params, 'deleted'),
  };
}

/** The home page's link to the AppCenter console (the bundled emulator's), when there is one. */
function consoleLink(consoleUrl) {
  if (consoleUrl === undefined) return '';
  return `<p><a id="console" href="${escape(consoleUrl)}">Launch from the AppCenter console</a> (the bundled emulator's)</p>`;
}

/**
 * Builds the example app around the given express-sso-guard options. `accessLog`: a middleware
 * mounted first, to see every request as it arrived (see observability.js: tokens redacted);
 * `secretAppKey`: the SPI's key (the SPI is served at /spi when given); `consoleUrl`: the
 * AppCenter console's URL (the bundled emulator's), linked from the home page.
 */
function createApp(options, { accessLog, secretAppKey, consoleUrl } = {}) {
  const app = express();
  app.disable('x-powered-by');
  if (accessLog) app.use(accessLog);
  const instances = createInstanceRegistry();

  // Reads the session on every route (req.sso); only the routes with requiresAuth() demand one.
  // launch: true also signs in users who arrive from the AppCenter console (/launch?token=…) or
  // the SaaS redirect (any page with ?access_token=…&refresh_token=…). A user whose instances
  // have all expired is refused at sign-in (403).
  const sso = auth({
    launch: true,
    ...options,
    authRequired: false,
    authorize: (user) => instances.mayUse(user.user_id),
  });
  if (secretAppKey !== undefined) {
    const handlers = spiHandlers(instances, (userId) => sso.revokeUser(userId), options.appBaseUrl);
    app.use('/spi', appCenterSpi({ secretAppKey, handlers, store: options.store }));
  }
  app.use(sso);

  app.get('/', (req, res) => {
    const who = req.sso.isAuthenticated()
      ? `<p>Signed in as <b>${escape(req.sso.user.user_name)}</b>. <a href="/profile">Profile</a> · <a href="/logout">Sign out</a></p>`
      : '<p><a id="sign-in" href="/login?returnTo=/profile">Sign in</a></p>';
    res.send(page('express-sso-guard example', `<h1>express-sso-guard example</h1>${who}${consoleLink(consoleUrl)}`));
  });

  // Pages: a signed-out visitor is sent to the sign-in page, then back here.
  app.get('/profile', requiresAuth(), async (req, res) => {
    const { user, credentials } = req.sso;
    const profile =
      `<dl><dt>User</dt><dd id="user-name">${escape(user.user_name)}</dd>` +
      `<dt>User id</dt><dd id="user-id">${escape(user.user_id)}</dd>` +
      `<dt>Email</dt><dd id="user-email">${escape(user.email)}</dd>` +
      `<dt>Temporary access key</dt><dd><code id="access-key">${escape(mask(credentials.accessKey))}</code></dd></dl>`;
    res.send(
      page(
        'Profile',
        `<h1>Profile</h1>${profile}${await instancesSection(req)}<p><a href="/">Home</a> · <a id="sign-out" href="/logout">Sign out</a></p>`,
      ),
    );
  });

  // APIs: a signed-out caller gets 401 JSON, never a redirect.
  app.get('/api/me', requiresAuth({ mode: '401' }), (req, res) => {
    res.json({ user: req.sso.user, accessKey: req.sso.credentials.accessKey });
  });

  // A cloud API call signed with the user's temporary keys.
  app.get('/api/instances', requiresAuth({ mode: '401' }), async (req, res) => {
    try {
      res.json(await req.sso.cloud.call('DescribeInstances', { limit: 20 }));
    } catch (err) {
      res.status(err.status || 500).json({ error: err.code, message: err.message, ret_code: err.retCode });
    }
  });

  return app;
}

module.exports = { createApp };
