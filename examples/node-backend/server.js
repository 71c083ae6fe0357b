#!/usr/bin/env node
'use strict';

// The node-backend example as a program:
//
//   MINIAUTH_ISSUER=http://127.0.0.1:8787 MINIAUTH_AUDIENCE=wx_simulator_appid node server.js
//
// Environment: MINIAUTH_ISSUER (required), MINIAUTH_AUDIENCE (required),
// MINIAUTH_JWKS_URL (default $MINIAUTH_ISSUER/.well-known/jwks.json),
// HOST (default 127.0.0.1), PORT (default 3000; 0 picks a free port).

const miniauth = require('miniauth');
const { createBackend } = require('./backend.js');

const { MINIAUTH_ISSUER: issuer, MINIAUTH_AUDIENCE: audience, MINIAUTH_JWKS_URL: jwksUrl } = process.env;
if (!issuer || !audience) {
  console.error('node-backend: set MINIAUTH_ISSUER and MINIAUTH_AUDIENCE (see README.md)');
  process.exit(2);
}
const host = process.env.HOST || '127.0.0.1';
const port = process.env.PORT === undefined ? 3000 : Number(process.env.PORT);

const backend = createBackend({ miniauth, issuer, audience, jwksUrl });
backend.listen(port, host).then(
  (url) => console.log(`node-backend listening on ${url} (tokens from ${issuer} for ${audience}, keys from ${backend.jwksUrl})`),
  (error) => {
    console.error(`node-backend: cannot listen on ${host}:${port}: ${error.message}`);
    process.exit(1);
  },
);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    backend.close().then(() => process.exit(0));
  });
}
