'use strict';
// The example app: the code to copy. `server.js` beside it reads the environment and starts it.
const express = require('express');
const { auth, requiresAuth } = require('express-sso-guard');

const page = (title, body) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>` +
  '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .3em}</style>' +
  `</head><body>${body}</body></html>`;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mask = (key) => `${key.slice(0, 4)}…${key.slice(-2)}`;

/** Builds the example app around the given express-sso-guard options. */
function createApp(options) {
  const app = express();
  app.disable('x-powered-by');

  // Sessions on every route; only the routes with requiresAuth() demand one.
  app.use(auth({ ...options, authRequired: false }));

  app.get('/', (req, res) => {
    const who = req.sso.isAuthenticated()
      ? `<p>Signed in as <b>${escape(req.sso.user.user_name)}</b>. <a href="/profile">Profile</a> · <a href="/logout">Sign out</a></p>`
      : '<p><a id="sign-in" href="/login?returnTo=/profile">Sign in</a></p>';
    res.send(page('express-sso-guard example', `<h1>express-sso-guard example</h1>${who}`));
  });

  app.get('/profile', requiresAuth(), (req, res) => {
    const { user, credentials } = req.sso;
    res.send(
      page(
        'Profile',
        `<h1>Profile</h1><dl><dt>User</dt><dd id="user-name">${escape(user.user_name)}</dd>` +
          `<dt>User id</dt><dd id="user-id">${escape(user.user_id)}</dd>` +
          `<dt>Email</dt><dd>${escape(user.email ?? '')}</dd>` +
          `<dt>Temporary access key</dt><dd><code id="access-key">${escape(mask(credentials.accessKey))}</code></dd></dl>` +
          '<p><a href="/">Home</a> · <a id="sign-out" href="/logout">Sign out</a></p>',
      ),
    );
  });

  app.get('/api/me', requiresAuth(), (req, res) => {
    res.json({ user: req.sso.user, accessKey: req.sso.credentials.accessKey });
  });

  return app;
}

module.exports = { createApp };
