// Test-only OpenID Provider for the kubectl netsso e2e suite: panva oidc-provider on https://127.0.0.1:<port>.
//
// Usage: node provider.mjs --cert leaf.pem --key leaf-key.pem [--port 0] [--jwks signing-jwks.json]
// (each also from env: NETSSO_OP_CERT, NETSSO_OP_KEY, NETSSO_OP_PORT, NETSSO_OP_JWKS_FILE).
// Prints one line `READY <issuer> admin=<path>` on stdout once listening, and one line per token request
// `GRANT <grant_type> <status>` (the fixture may parse either the log or the admin endpoint).
//
// Facts this file relies on (see the e2e harness README and the project's test-harness notes):
// - native clients always get a consent prompt unless the `native_client_prompt` check is removed from the policy,
//   and a Grant must exist (loadExistingGrant) for the prompt to be skipped;
// - offline_access is dropped without prompt=consent, so `issueRefreshToken` is overridden to always issue one;
// - with conformIdTokenClaims=true the groups claim would only go to userinfo;
// - clockTolerance defaults to 15 s, which hides expiry: 0 here;
// - oidc-provider never sends `slow_down` itself, so a middleware does it (RFC 8628 section 3.5) when enabled.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    cert: { type: 'string', default: process.env.NETSSO_OP_CERT },
    key: { type: 'string', default: process.env.NETSSO_OP_KEY },
    port: { type: 'string', default: process.env.NETSSO_OP_PORT || '0' },
    jwks: { type: 'string', default: process.env.NETSSO_OP_JWKS_FILE },
  },
});
if (!args.cert || !args.key) {
  console.error('provider.mjs: --cert and --key (or NETSSO_OP_CERT / NETSSO_OP_KEY) are required');
  process.exit(2);
}

const envInt = (name, dflt) => (process.env[name] ? Number.parseInt(process.env[name], 10) : dflt);
const envJson = (name, dflt) => (process.env[name] ? JSON.parse(process.env[name]) : dflt);

// Mutable settings: the session-scoped fixture changes them per test through the admin endpoint.
const DEFAULTS = {
  ttl: {
    AccessToken: envInt('NETSSO_OP_TTL_ACCESS_TOKEN', 300),
    IdToken: envInt('NETSSO_OP_TTL_ID_TOKEN', 300),
    RefreshToken: envInt('NETSSO_OP_TTL_REFRESH_TOKEN', 3600),
    DeviceCode: envInt('NETSSO_OP_TTL_DEVICE_CODE', 600),
    AuthorizationCode: envInt('NETSSO_OP_TTL_AUTHORIZATION_CODE', 60),
  },
  // device flow: `interval` added to the device_authorization response when not null; when slow_down is true a poll
  // sooner than the current interval gets 400 slow_down and the interval grows by slow_down_step (RFC 8628 3.5).
  interval: process.env.NETSSO_OP_DEVICE_INTERVAL ? envInt('NETSSO_OP_DEVICE_INTERVAL', 5) : null,
  slow_down: process.env.NETSSO_OP_SLOW_DOWN === '1',
  slow_down_step: envInt('NETSSO_OP_SLOW_DOWN_STEP', 5),
  // answer the next N `authorization_pending` polls with `slow_down` whatever their timing (to test client back-off)
  force_slow_down: envInt('NETSSO_OP_FORCE_SLOW_DOWN', 0),
  // extra accounts: {"login": {"groups": [...], "email": "..."}}; other logins get derived claims (see claimsFor)
  accounts: envJson('NETSSO_OP_ACCOUNTS', {}),
};
let settings = structuredClone(DEFAULTS);

const newStats = () => ({ grants: {}, revocations: 0, device_authorizations: 0, authorizations: 0, events: [] });
let stats = newStats();

function count(kind, status, error, extra = {}) {
  stats.grants[kind] ??= { ok: 0, error: 0 };
  stats.grants[kind][status >= 200 && status < 300 ? 'ok' : 'error'] += 1;
  stats.events.push({ t: Date.now() / 1000, grant_type: kind, status, error, ...extra });
  if (stats.events.length > 1000) stats.events.shift();
  console.log(`GRANT ${kind} ${status}`);
}

// Accounts: any login works (devInteractions passes the login field verbatim as the accountId).
// - `nogroups...`  -> no groups claim at all
// - `overage...`   -> Entra ID style groups overage: `_claim_names` / `_claim_sources` instead of `groups`
// - `name+g1+g2`   -> groups [g1, g2]; plain `name` -> groups ["netsso-users"]
function claimsFor(sub, issuer) {
  const known = settings.accounts[sub];
  const base = sub.split('+')[0];
  const claims = {
    sub,
    email: known?.email ?? `${base}@example.test`,
    email_verified: true,
    name: base,
    preferred_username: base,
  };
  if (known) {
    if (known.groups !== undefined && known.groups !== null) claims.groups = known.groups;
  } else if (sub.startsWith('nogroups')) {
    // no groups claim
  } else if (sub.startsWith('overage')) {
    claims._claim_names = { groups: 'src1' };
    claims._claim_sources = { src1: { endpoint: `${issuer}/overage/${encodeURIComponent(sub)}/getMemberObjects` } };
  } else {
    const extra = sub.split('+').slice(1).filter(Boolean);
    claims.groups = extra.length ? extra : ['netsso-users'];
  }
  return claims;
}

const redirectUris = (process.env.NETSSO_OP_REDIRECT_URIS
  || 'http://127.0.0.1/callback,http://localhost/callback,http://127.0.0.1/,http://127.0.0.1/oauth2/callback,'
  + 'http://127.0.0.1/keyboard')
  .split(',').map((s) => s.trim()).filter(Boolean);
const grantTypes = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];

const policy = interactionPolicy.base();
if (process.env.NETSSO_OP_CONSENT !== '1') {
  // native clients always re-consent by default (lib/helpers/interaction_policy/prompts/consent.js)
  policy.get('consent').checks.remove('native_client_prompt');
}

let jwks;
if (args.jwks) jwks = JSON.parse(fs.readFileSync(args.jwks, 'utf8'));

// NETSSO_OP_CLIENT_CA: mutual TLS, every connection must present a client certificate signed by that CA
const clientCa = process.env.NETSSO_OP_CLIENT_CA;
const server = https.createServer({
  cert: fs.readFileSync(args.cert),
  key: fs.readFileSync(args.key),
  ...(clientCa ? { ca: fs.readFileSync(clientCa), requestCert: true, rejectUnauthorized: true } : {}),
});
await new Promise((resolve) => { server.listen(Number.parseInt(args.port, 10), '127.0.0.1', resolve); });
const { port } = server.address();
// NETSSO_OP_ISSUER_PATH (e.g. /oauth2/default, Okta's custom authorization server form): the issuer has a path and
// every endpoint lives under it (the prefix is stripped before oidc-provider sees the request; its urlFor adds it back
// from req.originalUrl)
const issuerPath = (process.env.NETSSO_OP_ISSUER_PATH || '').replace(/\/+$/, '');
const issuer = `https://127.0.0.1:${port}${issuerPath}`;

const KUBE_RESOURCE = 'urn:netsso:kube';
const JWT_ACCESS_CLIENTS = new Set(['netsso-jwt-access', 'netsso-ci']);

const ttlFn = (name) => () => settings.ttl[name];

const configuration = {
  clients: [
    {
      client_id: 'netsso',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: redirectUris,
      grant_types: grantTypes,
      response_types: ['code'],
    },
    {
      // a confidential native client for --oidc-client-secret runs
      client_id: 'netsso-confidential',
      client_secret: 'netsso-test-secret',
      application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: redirectUris,
      grant_types: grantTypes,
      response_types: ['code'],
    },
    {
      // a public client whose access tokens are JWTs for the resource KUBE_RESOURCE (--oidc-use-access-token runs)
      client_id: 'netsso-jwt-access',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: redirectUris,
      grant_types: grantTypes,
      response_types: ['code'],
    },
    {
      // a service identity: client credentials only, JWT access tokens (--grant-type client-credentials runs)
      client_id: 'netsso-ci',
      client_secret: 'netsso-ci-test-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
    },
  ],
  ...(jwks ? { jwks } : {}),
  cookies: { keys: [crypto.randomBytes(24).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false,
  // PKCE required of public clients only (the default also requires it of native ones), so --oidc-pkce-method no
  // can succeed with the confidential client
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  clockTolerance: 0,
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    // JWT access tokens (audience "netsso", what the API double accepts) only for the two clients above; every
    // other client keeps the default opaque access token
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => (oneOf ? oneOf[0]
        : (JWT_ACCESS_CLIENTS.has(client?.clientId) ? KUBE_RESOURCE : undefined)),
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'groups email', audience: 'netsso', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // a user's JWT access token carries the user's groups (as Okta's and Entra's access tokens can)
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    const claims = claimsFor(token.accountId, issuer);
    return claims.groups ? { groups: claims.groups } : undefined;
  },
  ttl: {
    AccessToken: ttlFn('AccessToken'),
    IdToken: ttlFn('IdToken'),
    RefreshToken: ttlFn('RefreshToken'),
    DeviceCode: ttlFn('DeviceCode'),
    AuthorizationCode: ttlFn('AuthorizationCode'),
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  interactions: { policy },
  // always issue a refresh token to clients allowed the grant (offline_access would need prompt=consent)
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // consent skipped: a grant for everything requested, created or extended just in time
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await Grant.find(grantId) : undefined;
    if (process.env.NETSSO_OP_CONSENT === '1') return grant;
    if (!grant) grant = new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    const scope = ctx.oidc.params?.scope || 'openid';
    grant.addOIDCScope(scope);
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups']);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return claimsFor(sub, issuer); } };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>
      <h1>oops! something went wrong</h1><pre id="error">${Object.entries(out)
  .map(([k, v]) => `${k}: ${String(v).replace(/[<>&]/g, '')}`).join('\n')}</pre></body></html>`;
  },
};

const provider = new Provider(issuer, configuration);

// device flow: `interval` + `slow_down`, and counting of every token request
const lastPoll = new Map(); // device_code -> {t, interval}
provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;
  if (route === 'device_authorization') {
    stats.device_authorizations += 1;
    if (ctx.status === 200 && settings.interval !== null && ctx.body && typeof ctx.body === 'object') {
      ctx.body = { ...ctx.body, interval: settings.interval };
    }
  } else if (route === 'authorization' || route === 'resume') {
    if (route === 'authorization') stats.authorizations += 1;
  } else if (route === 'revocation') {
    stats.revocations += 1;
    console.log(`REVOKE ${ctx.status}`);
  } else if (route === 'token') {
    const grantType = ctx.oidc.params?.grant_type || 'unknown';
    if (grantType === 'urn:ietf:params:oauth:grant-type:device_code' && settings.force_slow_down > 0
        && ctx.status === 400 && ctx.body?.error === 'authorization_pending') {
      settings.force_slow_down -= 1;
      ctx.body = { error: 'slow_down', error_description: 'polling too fast: increase the interval by 5 seconds' };
    } else if (grantType === 'urn:ietf:params:oauth:grant-type:device_code' && settings.slow_down) {
      const code = String(ctx.oidc.params.device_code || '');
      const now = Date.now();
      const prev = lastPoll.get(code);
      const interval = prev?.interval ?? settings.interval ?? 5;
      if (prev && now - prev.t < interval * 1000 && ctx.status === 400 && ctx.body?.error === 'authorization_pending') {
        ctx.body = { error: 'slow_down', error_description: 'polling too fast: increase the interval by 5 seconds' };
        lastPoll.set(code, { t: now, interval: interval + settings.slow_down_step });
      } else {
        lastPoll.set(code, { t: now, interval });
      }
    }
    // who asked and how it authenticated (client_secret_basic = an Authorization: Basic header, client_secret_post =
    // client_secret in the body, none = a public client): lets tests prove a confidential client used its secret
    const authz = String(ctx.headers.authorization || '');
    let clientAuth = 'none';
    if (/^basic /i.test(authz)) clientAuth = 'client_secret_basic';
    else if (ctx.oidc.params?.client_secret) clientAuth = 'client_secret_post';
    count(grantType, ctx.status, ctx.status >= 400 ? ctx.body?.error : undefined, {
      client_id: ctx.oidc.client?.clientId ?? ctx.oidc.params?.client_id ?? null,
      client_auth: clientAuth,
    });
  }
});

// admin endpoint for the test fixture, under an unguessable path on the same server
const adminPath = `/_netsso_admin_${crypto.randomBytes(16).toString('hex')}`;
const providerCallback = provider.callback();

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

async function admin(req, res) {
  const sub = req.url.slice(adminPath.length).split('?')[0] || '/';
  const send = (code, obj) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  try {
    if (req.method === 'GET' && (sub === '/' || sub === '/stats')) return send(200, { ...stats, settings });
    if (req.method === 'POST' && sub === '/reset') {
      stats = newStats();
      settings = structuredClone(DEFAULTS);
      lastPoll.clear();
      return send(200, { ok: true });
    }
    if (req.method === 'POST' && sub === '/settings') {
      const body = JSON.parse((await readBody(req)) || '{}');
      if (body.ttl) settings.ttl = { ...settings.ttl, ...body.ttl };
      for (const k of ['interval', 'slow_down', 'slow_down_step', 'force_slow_down', 'accounts']) if (k in body) settings[k] = body[k];
      return send(200, settings);
    }
    return send(404, { error: 'not found' });
  } catch (err) {
    return send(400, { error: String(err) });
  }
}

server.on('request', (req, res) => {
  if (issuerPath) {
    const rest = req.url.startsWith(issuerPath) ? req.url.slice(issuerPath.length) : null;
    if (rest === null || !(rest === '' || rest.startsWith('/') || rest.startsWith('?'))) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
      return;
    }
    req.originalUrl = req.url;
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
  }
  if (req.url.startsWith(adminPath)) {
    admin(req, res);
  } else if (req.url.startsWith('/overage/')) {
    // the distributed-claims endpoint named by `_claim_sources`; a kube-apiserver never calls it
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":"invalid_token"}');
  } else {
    providerCallback(req, res);
  }
});

const shutdown = () => { server.close(); process.exit(0); };
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

console.log(`READY ${issuer} admin=${adminPath}`);
