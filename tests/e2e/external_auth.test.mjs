// External identities (docs/external.md): POST /v1/auth/external with the `jwt` kind (ID tokens checked
// against a JWKS host on loopback: claims, algorithms, key rotation and the refetch limit, a host that is
// down) and the `verify_url` kind (a custom identity provider: the request it gets, the mapping of its
// answer, refusals and failures, the client secret); signing in with an external profile (creation,
// link_by_email, action=signin, suspended users, events); the identities of a user and their unlinking;
// project isolation; the `github` kind's authorization code flow against a fake GitHub.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createProject, sleep, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  RFC3339_MICROS,
  assertIssuedSession,
  assertProblem,
  assertUserShape,
  assertValidation,
  eventually,
  fieldErrors,
  logIn,
  unique,
  uniqueEmail,
  uniqueLogin,
  uniquePhone,
} from '../support/api.mjs';
import { FAST_EVENTS_ENV, apiKeyToken } from '../support/events.mjs';
import { startWebhookReceiver } from '../support/webhooks.mjs';
import { pkcePair, startCustomIdp, startFakeGitHub, startJwksHost } from '../support/identity_services.mjs';

const HTTP_TIMEOUT_MS = 2000;
const REFRESH_INTERVAL_MS = 1000;
const ENV_SECRET = `idp-secret-from-env-${unique()}`;

let server;
let admin; // every permission, project "default"
let adminB; // project "ext-b"
let adminLink; // project "ext-link" (link_by_email: true)
let projectB;

before(async () => {
  server = await startServer({
    env: {
      ...FAST_EVENTS_ENV,
      TESSERA_EXTERNAL_ALLOW_PRIVATE: 'true',
      TESSERA_EXTERNAL_JWKS_REFRESH_INTERVAL: '1s',
      TESSERA_EXTERNAL_HTTP_TIMEOUT: `${HTTP_TIMEOUT_MS / 1000}s`,
      TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000',
      E2E_IDP_SECRET: ENV_SECRET,
    },
  });
  projectB = await createProject(server.dataDir, 'ext-b');
  await createProject(server.dataDir, 'ext-link');
  admin = await apiKeyToken(server, '*');
  adminB = await apiKeyToken(server, '*', 'ext-b');
  adminLink = await apiKeyToken(server, '*', 'ext-link');
  // A running server learns of projects made by the CLI within seconds (docs/behaviour.md).
  for (const t of [adminB, adminLink])
    await eventually(async () => (await server.request('GET', '/v1/project', { token: t.token })).status === 200, {
      what: 'the server knows the new projects',
    });
  const patched = await server.request('PATCH', '/v1/project', { token: adminLink.token, json: { link_by_email: true } });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.link_by_email, true, patched.text);
});
after(async () => {
  await server?.close();
});

// Per test: services to stop and providers to delete afterwards.
let cleanup = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) {
    try {
      await fn();
    } catch {
      // best effort
    }
  }
  cleanup = [];
});

const now = () => Math.floor(Date.now() / 1000);
const providerName = (prefix) => `${prefix}-${unique()}`;

async function createProvider(json, token = admin.token) {
  const res = await server.request('POST', '/v1/providers', { token, json });
  assert.equal(res.status, 201, `POST /v1/providers: ${res.status} ${res.text}`);
  cleanup.push(() => server.request('DELETE', `/v1/providers/${json.name}`, { token }));
  return res.body;
}

async function jwksHost(options) {
  const host = await startJwksHost(options);
  cleanup.push(() => host.close());
  return host;
}

async function customIdp(options) {
  const idp = await startCustomIdp(options);
  cleanup.push(() => idp.close());
  return idp;
}

// A JWKS host and a `jwt` provider trusting it. Returns { host, name, provider }.
async function jwtProvider({ token = admin.token, host, hostOptions = {}, name = providerName('jwt') } = {}) {
  const h = host ?? (await jwksHost(hostOptions));
  const provider = await createProvider({ name, kind: 'jwt', issuer: h.issuer, jwks_uri: h.jwksUri, audience: h.audience }, token);
  return { host: h, name, provider };
}

// A custom identity provider and a `verify_url` provider pointing at it. Returns { idp, name, provider }.
async function verifyProvider({ token = admin.token, idpOptions = {}, fields = {}, name = providerName('vu') } = {}) {
  const idp = await customIdp(idpOptions);
  const provider = await createProvider({ name, kind: 'verify_url', url: idp.verifyUrl, ...fields }, token);
  return { idp, name, provider };
}

// POST /v1/auth/external {provider, token, project, action?}.
function external(provider, token, { project = 'default', action, headers, extra = {} } = {}) {
  const json = { provider, token, ...extra };
  if (project !== null) json.project = project;
  if (action !== undefined) json.action = action;
  return server.request('POST', '/v1/auth/external', { json, headers });
}

// An external sign-in expected to succeed with `status` (201 created, 200 existing): { user, session, token }.
async function signInExternal(provider, token, status, options) {
  const res = await external(provider, token, options);
  assert.equal(res.status, status, `POST /v1/auth/external: ${res.status} ${res.text}`);
  assert.deepEqual(Object.keys(res.body).sort(), ['session', 'user']);
  assertUserShape(res.body.user);
  assertIssuedSession(res.body.session);
  return { user: res.body.user, session: res.body.session, token: res.body.session.token };
}

async function me(token) {
  const res = await server.request('GET', '/v1/me', { token });
  assert.equal(res.status, 200, `GET /v1/me: ${res.text}`);
  assertUserShape(res.body, { identities: true });
  return res.body;
}

// GET /v1/users/lookup?<key>=<value> with an admin token: the user, or null on 404.
async function lookup(key, value, token = admin.token) {
  const res = await server.request('GET', `/v1/users/lookup?${key}=${encodeURIComponent(value)}`, { token });
  if (res.status === 404) return null;
  assert.equal(res.status, 200, res.text);
  return res.body;
}

function assertIdentity(identity, { provider, subject, email }) {
  assert.deepEqual(Object.keys(identity).sort(), ['created_at', 'email', 'provider', 'subject']);
  assert.equal(identity.provider, provider);
  assert.equal(identity.subject, subject);
  if (email !== undefined) assert.equal(identity.email, email);
  assert.match(identity.created_at, RFC3339_MICROS);
}

function assertRefused(res, what) {
  assertProblem(res, 401, 'invalid_external_token');
  assert.ok(!('session' in (res.body ?? {})), `${what}: no session`);
}

// ---- jwt ---------------------------------------------------------------------------------------------

describe('jwt providers', () => {
  test('a first login creates a user without a password from the claims; the next one signs the same user in', async () => {
    const { host, name } = await jwtProvider();
    const sub = `sub-${unique()}`;
    const email = uniqueEmail('jwt');
    const phone = uniquePhone();
    const token = await host.sign({ sub, email, email_verified: true, name: 'Ada Lovelace', phone_number: phone });

    const first = await signInExternal(name, token, 201);
    assert.equal(first.user.email, email);
    assert.equal(first.user.email_verified, true);
    assert.equal(first.user.full_name, 'Ada Lovelace');
    assert.equal(first.user.phone, phone);
    assert.equal(first.user.login, null);
    assert.equal(first.user.external_id, null, 'external_id is only set for verify_url');
    assert.equal(first.user.active, true);
    assert.equal(first.user.is_guest, false);

    const profile = await me(first.token);
    assert.equal(profile.id, first.user.id);
    assert.equal(profile.identities.length, 1, JSON.stringify(profile.identities));
    assertIdentity(profile.identities[0], { provider: name, subject: sub, email });

    // Later logins do not overwrite what Tessera holds.
    const changed = await host.sign({ sub, email: uniqueEmail('other'), email_verified: true, name: 'Someone Else' });
    const second = await signInExternal(name, changed, 200);
    assert.equal(second.user.id, first.user.id);
    assert.notEqual(second.session.id, first.session.id, 'a new session');
    assert.equal(second.user.email, email);
    assert.equal(second.user.full_name, 'Ada Lovelace');
    assert.equal((await signInExternal(name, token, 200)).user.id, first.user.id);

    // No password: a password login with the email fails like a wrong password.
    assertProblem(await logIn(server, { email, project: 'default' }), 401, 'invalid_credentials');
  });

  test('email_verified false or absent leaves the email unverified; a malformed email is left out', async () => {
    const { host, name } = await jwtProvider();
    const email = uniqueEmail('unverified');
    const a = await signInExternal(name, await host.sign({ sub: `s-${unique()}`, email, email_verified: false }), 201);
    assert.equal(a.user.email, email);
    assert.equal(a.user.email_verified, false);
    const email2 = uniqueEmail('noclaim');
    const b = await signInExternal(name, await host.sign({ sub: `s-${unique()}`, email: email2 }), 201);
    assert.equal(b.user.email, email2);
    assert.equal(b.user.email_verified, false);
    const c = await signInExternal(name, await host.sign({ sub: `s-${unique()}`, email: 'not an email', email_verified: true }), 201);
    assert.equal(c.user.email, null, 'an invalid email from the provider is left out');
  });

  test('tokens that fail a check are refused with 401 invalid_external_token, and nothing is created', async () => {
    const { host, name } = await jwtProvider();
    const stranger = await host.addKey({ publish: false });
    const t = now();
    const cases = [];
    const add = async (what, make) => {
      const email = uniqueEmail('refused');
      cases.push({ what, email, token: await make({ sub: `s-${unique()}`, email, email_verified: true }) });
    };
    await add('expired (beyond the clock skew)', (c) => host.sign({ ...c, iat: t - 3600, exp: t - 600 }));
    await add('nbf in the future', (c) => host.sign({ ...c, nbf: t + 600 }));
    await add('iat in the future', (c) => host.sign({ ...c, iat: t + 3600, exp: t + 7200 }));
    await add('wrong issuer', (c) => host.sign({ ...c, iss: 'https://issuer.example.test' }));
    await add('wrong audience', (c) => host.sign({ ...c, aud: 'another-app' }));
    await add('no audience', (c) => host.sign({ ...c, aud: undefined }));
    await add('no subject', (c) => host.sign({ ...c, sub: undefined }));
    await add('a signature by another key under the known kid', (c) => host.sign(c, { kid: stranger.kid, headerKid: host.kid }));
    await add('alg none', (c) => host.unsigned(c));
    await add('HS256 keyed with the public key', (c) => host.hmac(c));
    await add('PS256 while the JWK names RS256', (c) => host.sign(c, { alg: 'PS256' }));
    await add('a tampered payload', async (c) => {
      const [h, , s] = (await host.sign(c)).split('.');
      const forged = Buffer.from(JSON.stringify(host.claims({ ...c, sub: 'admin' }))).toString('base64url');
      return `${h}.${forged}.${s}`;
    });
    await add('not a JWT', async () => 'not-a-jwt');

    for (const c of cases) {
      const res = await external(name, c.token);
      assert.equal(res.status, 401, `${c.what}: ${res.status} ${res.text}`);
      assertRefused(res, c.what);
      assert.equal(await lookup('email', c.email), null, `${c.what}: no user was created`);
    }
  });

  test('the clock skew allows a token expired 30 s ago and one whose nbf is 30 s ahead', async () => {
    const { host, name } = await jwtProvider();
    const t = now();
    await signInExternal(name, await host.sign({ sub: `s-${unique()}`, iat: t - 600, exp: t - 30 }), 201);
    await signInExternal(name, await host.sign({ sub: `s-${unique()}`, nbf: t + 30 }), 201);
  });

  test('ES256 and EdDSA keys verify; PS256 with an RSA key whose JWK names no alg verifies', async () => {
    for (const alg of ['ES256', 'EdDSA']) {
      const { host, name } = await jwtProvider({ hostOptions: { alg } });
      const { user } = await signInExternal(name, await host.sign({ sub: `s-${unique()}`, email: uniqueEmail(alg.toLowerCase()) }), 201);
      assert.ok(user.email);
    }
    const { host, name } = await jwtProvider({ hostOptions: { alg: 'RS256', jwkAlg: false } });
    await signInExternal(name, await host.sign({ sub: `s-${unique()}` }, { alg: 'PS256' }), 201);
  });

  test('a key rotation is picked up by refetching the JWKS; a kid missing from the refetched set is refused', async () => {
    const { host, name } = await jwtProvider();
    const sub = `s-${unique()}`;
    const { user } = await signInExternal(name, await host.sign({ sub }), 201);
    const afterFirst = host.fetches;
    assert.ok(afterFirst >= 1, 'the JWKS was fetched');
    const oldKid = host.kid;

    // The cached set answers known kids without a fetch.
    await signInExternal(name, await host.sign({ sub }), 200);
    assert.equal(host.fetches, afterFirst, 'a known kid needs no fetch');

    await sleep(REFRESH_INTERVAL_MS + 200);
    const newKid = await host.rotate(); // the old key is dropped
    assert.notEqual(newKid, oldKid);
    const rotated = await signInExternal(name, await host.sign({ sub }), 200);
    assert.equal(rotated.user.id, user.id);
    assert.equal(host.fetches, afterFirst + 1, 'the unknown kid made Tessera fetch the JWKS again');

    await sleep(REFRESH_INTERVAL_MS + 200);
    const stranger = await host.addKey({ publish: false });
    assertRefused(await external(name, await host.sign({ sub }, { kid: stranger.kid })), 'a kid the provider never published');
    assert.equal(host.fetches, afterFirst + 2, 'an unknown kid is looked for in a fresh JWKS');

    // The dropped key is gone from the refetched set.
    assertRefused(await external(name, await host.sign({ sub }, { kid: oldKid })), 'a key dropped at the rotation');
  });

  test('a flood of unknown kids refetches the JWKS at most once per refresh interval', async () => {
    const { host, name } = await jwtProvider();
    await signInExternal(name, await host.sign({ sub: `s-${unique()}` }), 201);
    await sleep(REFRESH_INTERVAL_MS + 200);
    const before = host.fetches;
    const started = Date.now();
    const n = 30;
    for (let i = 0; i < n; i += 5) {
      const batch = [];
      for (let j = 0; j < 5; j++) batch.push(host.sign({ sub: `s-${unique()}` }, { headerKid: `unknown-${unique()}` }).then((t) => external(name, t)));
      for (const res of await Promise.all(batch)) assertRefused(res, 'an unknown kid');
    }
    const elapsed = Date.now() - started;
    const fetched = host.fetches - before;
    assert.ok(fetched >= 1, 'an unknown kid refetches the JWKS');
    const allowed = 1 + Math.ceil(elapsed / REFRESH_INTERVAL_MS);
    assert.ok(fetched <= allowed, `${n} unknown kids in ${elapsed} ms made ${fetched} JWKS fetches (at most ${allowed} allowed)`);
    // The known key still works throughout.
    await signInExternal(name, await host.sign({ sub: `s-${unique()}` }), 201);
  });

  test('a JWKS host that is down, fails or answers garbage: 502 provider_unavailable and nothing is created', async () => {
    const host = await jwksHost({ start: false });
    const { name } = await jwtProvider({ host });
    const email = uniqueEmail('down');
    const token = await host.sign({ sub: `s-${unique()}`, email });
    assertProblem(await external(name, token), 502, 'provider_unavailable');
    assert.equal(await lookup('email', email), null, 'nothing created while the JWKS host is down');

    // Once it is up, the same token signs up (no fetch limit applies to a set that was never fetched,
    // but give it the interval anyway).
    await host.start();
    await sleep(REFRESH_INTERVAL_MS + 200);
    const { user } = await signInExternal(name, token, 201);
    assert.equal(user.email, email);

    for (const status of [500, 503]) {
      const h = await jwksHost();
      h.status = status;
      const p = await jwtProvider({ host: h });
      const e = uniqueEmail(`jwks${status}`);
      assertProblem(await external(p.name, await h.sign({ sub: `s-${unique()}`, email: e })), 502, 'provider_unavailable');
      assert.equal(await lookup('email', e), null);
    }
  });

  test('preset firebase: the issuer and the JWKS URI are derived from the audience', async () => {
    const name = providerName('firebase');
    const provider = await createProvider({ name, preset: 'firebase', audience: 'my-firebase-app' });
    assert.equal(provider.kind, 'jwt');
    assert.equal(provider.preset, 'firebase');
    assert.equal(provider.audience, 'my-firebase-app');
    assert.equal(provider.issuer, 'https://securetoken.google.com/my-firebase-app');
    assert.equal(provider.jwks_uri, 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com');
  });
});

// ---- verify_url --------------------------------------------------------------------------------------

describe('verify_url providers', () => {
  test('the profile of the answer makes the user (external_id = id); Tessera posts {token, provider, project_id}', async () => {
    const { idp, name } = await verifyProvider();
    const id = `cust-${unique()}`;
    const login = uniqueLogin('ext');
    const email = uniqueEmail('vu');
    const phone = uniquePhone();
    const token = `opaque-${unique()}`;
    idp.respond(token, { body: { id, login, email, email_verified: true, full_name: 'Grace Hopper', phone, extra: 'ignored' } });

    const first = await signInExternal(name, token, 201);
    assert.equal(first.user.external_id, id);
    assert.equal(first.user.login, login);
    assert.equal(first.user.email, email);
    assert.equal(first.user.email_verified, true);
    assert.equal(first.user.full_name, 'Grace Hopper');
    assert.equal(first.user.phone, phone);

    const [req] = idp.requestsFor(token);
    assert.ok(req, 'the identity provider was called');
    assert.equal(req.method, 'POST');
    assert.match(req.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(req.jsonError, null, 'a JSON body');
    assert.deepEqual(Object.keys(req.json).sort(), ['project_id', 'provider', 'token']);
    assert.deepEqual(req.json, { token, provider: name, project_id: first.user.project_id });
    assert.equal(req.headers.authorization, undefined, 'no Authorization without a client secret');

    const profile = await me(first.token);
    assert.equal(profile.identities.length, 1);
    assertIdentity(profile.identities[0], { provider: name, subject: id, email });

    const second = await signInExternal(name, token, 200);
    assert.equal(second.user.id, first.user.id);
    assert.equal(idp.requestsFor(token).length, 2, 'every login asks the identity provider');
  });

  test('a numeric id is the subject as a string; email_verified defaults to false', async () => {
    const { idp, name } = await verifyProvider();
    const numeric = 100000 + Math.floor(Math.random() * 1e9);
    const email = uniqueEmail('num');
    idp.respond('t-num', { body: { id: numeric, email } });
    const { user, token } = await signInExternal(name, 't-num', 201);
    assert.equal(user.external_id, String(numeric));
    assert.equal(user.email, email);
    assert.equal(user.email_verified, false);
    assertIdentity((await me(token)).identities[0], { provider: name, subject: String(numeric) });
  });

  test('mapping reads dotted paths of the answer', async () => {
    const { idp, name, provider } = await verifyProvider({
      fields: {
        mapping: {
          id: 'user.uid',
          email: 'user.contact.mail',
          email_verified: 'user.contact.checked',
          full_name: 'user.display',
          login: 'handle',
        },
      },
    });
    assert.deepEqual(provider.mapping, {
      id: 'user.uid',
      email: 'user.contact.mail',
      email_verified: 'user.contact.checked',
      full_name: 'user.display',
      login: 'handle',
    });
    const uid = `m-${unique()}`;
    const email = uniqueEmail('mapped');
    const login = uniqueLogin('mapped');
    idp.respond('t-map', {
      body: { id: 'not-this-one', email: 'not-this@example.com', handle: login, user: { uid, display: 'Mapped Name', contact: { mail: email, checked: true } } },
    });
    const { user } = await signInExternal(name, 't-map', 201);
    assert.equal(user.external_id, uid);
    assert.equal(user.email, email);
    assert.equal(user.email_verified, true);
    assert.equal(user.full_name, 'Mapped Name');
    assert.equal(user.login, login);
  });

  test('401, 403 and 404 from the identity provider: 401 invalid_external_token', async () => {
    const { idp, name } = await verifyProvider();
    for (const status of [401, 403, 404]) {
      const token = `refused-${status}-${unique()}`;
      idp.respond(token, { status, body: { error: 'invalid_token' } });
      assertRefused(await external(name, token), `answer ${status}`);
    }
    assertRefused(await external(name, 'a-token-the-idp-does-not-know'), 'the default 401');
  });

  test('a 5xx, another 4xx, a timeout, a non-JSON answer or no id: 502 provider_unavailable, and nothing is created', async () => {
    const { idp, name } = await verifyProvider();
    const id = `never-${unique()}`;
    const email = uniqueEmail('never');
    const good = { id, email, email_verified: true };
    const cases = [
      ['500', { status: 500, body: { error: 'boom' } }],
      ['503', { status: 503, body: good }],
      ['400', { status: 400, body: { error: 'bad_request' } }],
      ['a timeout', { body: good, delayMs: HTTP_TIMEOUT_MS + 2000 }],
      ['HTML', { raw: '<html>ok</html>', contentType: 'text/html' }],
      ['malformed JSON', { raw: '{"id": "x",', contentType: 'application/json' }],
      ['a JSON array', { body: [good] }],
      ['no id', { body: { email, email_verified: true } }],
      ['a null id', { body: { id: null, email } }],
      ['an object id', { body: { id: { v: 1 }, email } }],
    ];
    for (const [what, answer] of cases) {
      const token = `t-${unique()}`;
      idp.respond(token, answer);
      const started = Date.now();
      const res = await external(name, token);
      assert.equal(res.status, 502, `${what}: ${res.status} ${res.text}`);
      assertProblem(res, 502, 'provider_unavailable');
      if (what === 'a timeout') assert.ok(Date.now() - started < HTTP_TIMEOUT_MS + 1500, 'the call is cut at http_timeout');
    }
    idp.mode = 'error500';
    assertProblem(await external(name, 't-mode-500'), 502, 'provider_unavailable');
    idp.mode = 'non-json';
    assertProblem(await external(name, 't-mode-html'), 502, 'provider_unavailable');
    idp.mode = null;
    await idp.stop();
    assertProblem(await external(name, 't-down'), 502, 'provider_unavailable');
    await idp.start();

    assert.equal(await lookup('external_id', id), null, 'no user was created');
    assert.equal(await lookup('email', email), null, 'no user was created');
    // The same profile answered properly signs up now.
    idp.respond('t-fine', { body: good });
    const { user } = await signInExternal(name, 't-fine', 201);
    assert.equal(user.external_id, id);
  });

  test('client_secret is sent as Authorization: Bearer; client_secret_env is read from the server environment', async () => {
    const secret = `idp-secret-${unique()}`;
    const a = await verifyProvider({ idpOptions: { secret }, fields: { client_secret: secret } });
    a.idp.respond('t-secret', { body: { id: `sec-${unique()}` } });
    await signInExternal(a.name, 't-secret', 201);
    const [req] = a.idp.requestsFor('t-secret');
    assert.equal(req.headers.authorization, `Bearer ${secret}`);
    assert.equal(req.authorized, true);

    const b = await verifyProvider({ idpOptions: { secret: ENV_SECRET }, fields: { client_secret_env: 'E2E_IDP_SECRET' } });
    assert.equal(b.provider.client_secret_env, 'E2E_IDP_SECRET');
    b.idp.respond('t-env', { body: { id: `env-${unique()}` } });
    await signInExternal(b.name, 't-env', 201);
    assert.equal(b.idp.requestsFor('t-env')[0].headers.authorization, `Bearer ${ENV_SECRET}`);

    // The identity provider refusing Tessera's credentials is a refused token.
    const c = await verifyProvider({ idpOptions: { secret: 'the-right-one' }, fields: { client_secret: 'a-wrong-one' } });
    c.idp.respond('t-wrong', { body: { id: `wrong-${unique()}` } });
    assertRefused(await external(c.name, 't-wrong'), 'a wrong client secret');
  });
});

// ---- signing in with an external profile ----------------------------------------------------------------

describe('linking, action and suspended users', () => {
  test('link_by_email off (the default): an email of another user is 409 identifier_taken, nothing linked', async () => {
    const { host, name } = await jwtProvider();
    const email = uniqueEmail('taken');
    const made = await server.request('POST', '/v1/users', { token: admin.token, json: { email, password: PASSWORD, email_verified: true } });
    assert.equal(made.status, 201, made.text);
    const sub = `s-${unique()}`;
    const res = await external(name, await host.sign({ sub, email, email_verified: true }));
    assertProblem(res, 409, 'identifier_taken');
    assert.ok(fieldErrors(res).includes('email:taken'), res.text);
    // The same for a login or a phone taken (verify_url).
    const v = await verifyProvider();
    const login = uniqueLogin('taken');
    const phone = uniquePhone();
    assert.equal((await server.request('POST', '/v1/users', { token: admin.token, json: { login, phone, password: PASSWORD } })).status, 201);
    v.idp.respond('t-login', { body: { id: `l-${unique()}`, login } });
    const r1 = await external(v.name, 't-login');
    assertProblem(r1, 409, 'identifier_taken');
    assert.ok(fieldErrors(r1).includes('login:taken'), r1.text);
    v.idp.respond('t-phone', { body: { id: `p-${unique()}`, phone } });
    const r2 = await external(v.name, 't-phone');
    assertProblem(r2, 409, 'identifier_taken');
    assert.ok(fieldErrors(r2).includes('phone:taken'), r2.text);
    // Nothing was linked: the password user still has no identity.
    const pw = await logIn(server, { email, project: 'default' });
    assert.equal(pw.status, 200, pw.text);
    assert.deepEqual((await me(pw.body.session.token)).identities, []);
  });

  test('link_by_email on: linked to a verified user only when the provider says the email is verified', async () => {
    const { host, name } = await jwtProvider({ token: adminLink.token });
    const createUser = async (fields) => {
      const res = await server.request('POST', '/v1/users', { token: adminLink.token, json: { password: PASSWORD, ...fields } });
      assert.equal(res.status, 201, res.text);
      return res.body;
    };
    const opts = { project: 'ext-link' };

    // Both verified: linked.
    const email = uniqueEmail('link');
    const verified = await createUser({ email, email_verified: true });
    const sub = `s-${unique()}`;
    const linked = await signInExternal(name, await host.sign({ sub, email, email_verified: true }), 200, opts);
    assert.equal(linked.user.id, verified.id, 'the existing user signs in');
    const ids = (await me(linked.token)).identities;
    assert.equal(ids.length, 1);
    assertIdentity(ids[0], { provider: name, subject: sub });
    // The linked identity now signs that user in, whatever its email claim says.
    assert.equal((await signInExternal(name, await host.sign({ sub }), 200, opts)).user.id, verified.id);
    // The password still works.
    assert.equal((await logIn(server, { email, project: 'ext-link' })).status, 200);

    // The provider does not vouch for the email: no link, and the email is taken.
    const email2 = uniqueEmail('nolink');
    await createUser({ email: email2, email_verified: true });
    for (const claim of [{ email_verified: false }, {}]) {
      const res = await external(name, await host.sign({ sub: `s-${unique()}`, email: email2, ...claim }), opts);
      assertProblem(res, 409, 'identifier_taken');
      assert.ok(fieldErrors(res).includes('email:taken'), res.text);
    }

    // The user's email is not verified: no link either (pre-account takeover).
    const email3 = uniqueEmail('unverified');
    await createUser({ email: email3, email_verified: false });
    const res3 = await external(name, await host.sign({ sub: `s-${unique()}`, email: email3, email_verified: true }), opts);
    assertProblem(res3, 409, 'identifier_taken');
    assert.ok(fieldErrors(res3).includes('email:taken'), res3.text);

    // The email matches regardless of letter case, as everywhere else.
    const email4 = uniqueEmail('casefold');
    const u4 = await createUser({ email: email4, email_verified: true });
    const l4 = await signInExternal(name, await host.sign({ sub: `s-${unique()}`, email: email4.toUpperCase(), email_verified: true }), 200, opts);
    assert.equal(l4.user.id, u4.id);
  });

  test('action=signin never creates a user: 404 account_not_found; it signs a known identity in', async () => {
    const { host, name } = await jwtProvider();
    const sub = `s-${unique()}`;
    const email = uniqueEmail('signin');
    const token = await host.sign({ sub, email, email_verified: true });
    assertProblem(await external(name, token, { action: 'signin' }), 404, 'account_not_found');
    assert.equal(await lookup('email', email), null);
    const created = await signInExternal(name, token, 201, { action: 'signup' });
    const again = await signInExternal(name, token, 200, { action: 'signin' });
    assert.equal(again.user.id, created.user.id);
    assertValidation(await external(name, token, { action: 'register' }), 'action');
  });

  test('a suspended user gets 403 user_inactive; reactivated, it signs in again', async () => {
    const { host, name } = await jwtProvider();
    const token = await host.sign({ sub: `s-${unique()}`, email: uniqueEmail('suspended') });
    const { user } = await signInExternal(name, token, 201);
    const off = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin.token, json: { active: false } });
    assert.equal(off.status, 200, off.text);
    assertProblem(await external(name, token), 403, 'user_inactive');
    const on = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin.token, json: { active: true } });
    assert.equal(on.status, 200, on.text);
    assert.equal((await signInExternal(name, token, 200)).user.id, user.id);
  });

  test('events: user.created, then user.login with method "external" and the provider', async () => {
    const rx = await startWebhookReceiver();
    cleanup.push(() => rx.close());
    const wh = await server.request('POST', '/v1/webhooks', { token: admin.token, json: { url: rx.url, events: ['user.created', 'user.login'] } });
    assert.equal(wh.status, 201, wh.text);
    cleanup.push(() => server.request('DELETE', `/v1/webhooks/${wh.body.id}`, { token: admin.token }));
    rx.setSecret(wh.body.secret);

    const { host, name } = await jwtProvider();
    const token = await host.sign({ sub: `s-${unique()}`, email: uniqueEmail('events') });
    const { user, session } = await signInExternal(name, token, 201);
    const about = (type) => (r) => r.json?.type === type && r.json?.data?.user?.id === user.id;
    const [created] = await rx.waitFor(about('user.created'));
    const [login] = await rx.waitFor(about('user.login'));
    assert.ok(created.signature.valid, created.signature.reason);
    assert.equal(login.json.data.method, 'external', JSON.stringify(login.json.data));
    assert.equal(login.json.data.provider, name);
    assert.equal(login.json.data.session_id, session.id);
    // Deliveries run on several threads, so their arrival order says nothing; the events' times do.
    assert.ok(created.json.created_at <= login.json.created_at, 'user.created is not after user.login');
  });
});

// ---- identities of a user ----------------------------------------------------------------------------

describe('identities of a user', () => {
  test('the only way in cannot be unlinked (409 last_login_method); an unknown provider is 404 identity_not_found', async () => {
    const { host, name } = await jwtProvider();
    const sub = `s-${unique()}`;
    const { token } = await signInExternal(name, await host.sign({ sub, email: uniqueEmail('only') }), 201);
    assertProblem(await server.request('DELETE', `/v1/me/identities/${name}`, { token }), 409, 'last_login_method');
    assertProblem(await server.request('DELETE', '/v1/me/identities/no-such-provider', { token }), 404, 'identity_not_found');
    const ids = (await me(token)).identities;
    assert.equal(ids.length, 1, 'still linked');
    assertIdentity(ids[0], { provider: name, subject: sub });
  });

  test('with a password set, the only identity can be unlinked (204)', async () => {
    const { host, name } = await jwtProvider();
    const email = uniqueEmail('withpw');
    const token = await host.sign({ sub: `s-${unique()}`, email, email_verified: true });
    const first = await signInExternal(name, token, 201);
    const set = await server.request('PATCH', '/v1/me', { token: first.token, json: { password: PASSWORD } });
    assert.equal(set.status, 200, set.text);
    const del = await server.request('DELETE', `/v1/me/identities/${name}`, { token: first.token });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual((await me(first.token)).identities, []);
    assertProblem(await server.request('DELETE', `/v1/me/identities/${name}`, { token: first.token }), 404, 'identity_not_found');
    assert.equal((await logIn(server, { email, project: 'default' })).status, 200, 'the password still works');
  });

  test('with a second identity, one can be unlinked; the last one then cannot', async () => {
    const opts = { project: 'ext-link' };
    const j = await jwtProvider({ token: adminLink.token });
    const v = await verifyProvider({ token: adminLink.token });
    const email = uniqueEmail('two');
    const sub = `s-${unique()}`;
    const a = await signInExternal(j.name, await j.host.sign({ sub, email, email_verified: true }), 201, opts);
    assert.equal(a.user.email_verified, true);
    const vid = `v-${unique()}`;
    v.idp.respond('t-two', { body: { id: vid, email, email_verified: true } });
    const b = await signInExternal(v.name, 't-two', 200, opts);
    assert.equal(b.user.id, a.user.id, 'linked by the verified email');
    const ids = (await me(a.token)).identities;
    assert.deepEqual(ids.map((i) => i.provider).sort(), [j.name, v.name].sort());

    const del = await server.request('DELETE', `/v1/me/identities/${j.name}`, { token: a.token });
    assert.equal(del.status, 204, del.text);
    const left = (await me(a.token)).identities;
    assert.equal(left.length, 1);
    assertIdentity(left[0], { provider: v.name, subject: vid });
    assertProblem(await server.request('DELETE', `/v1/me/identities/${v.name}`, { token: a.token }), 409, 'last_login_method');
  });

  test('deleting a user deletes its identities: the same subject then makes a new user', async () => {
    const { host, name } = await jwtProvider();
    const token = await host.sign({ sub: `s-${unique()}` });
    const first = await signInExternal(name, token, 201);
    const del = await server.request('DELETE', `/v1/users/${first.user.id}`, { token: admin.token });
    assert.equal(del.status, 204, del.text);
    const second = await signInExternal(name, token, 201);
    assert.notEqual(second.user.id, first.user.id);
  });
});

// ---- projects and request validation -----------------------------------------------------------------

describe('projects and request validation', () => {
  test("a provider is only usable in its project; the same subject in two projects makes two users", async () => {
    const host = await jwksHost();
    const name = providerName('shared');
    await jwtProvider({ host, name });
    const token = await host.sign({ sub: `s-${unique()}`, email: uniqueEmail('twoprojects'), email_verified: true });
    assertProblem(await external(name, token, { project: 'ext-b' }), 404, 'provider_not_found');
    assertProblem(await external(name, token, { project: null, headers: { 'x-tessera-project': 'ext-b' } }), 404, 'provider_not_found');

    await jwtProvider({ host, name, token: adminB.token });
    const a = await signInExternal(name, token, 201, { project: 'default' });
    const b = await signInExternal(name, token, 201, { project: 'ext-b' });
    assert.notEqual(a.user.id, b.user.id);
    assert.notEqual(a.user.project_id, b.user.project_id);
    assert.equal(b.user.project_id, projectB.id);
    assert.equal((await signInExternal(name, token, 200, { project: null, headers: { 'x-tessera-project': 'ext-b' } })).user.id, b.user.id);
  });

  test('an oidc or github provider is 422 wrong_kind; an unknown or disabled one is 404 provider_not_found', async () => {
    const google = providerName('google');
    await createProvider({ name: google, preset: 'google', client_id: 'x.apps.googleusercontent.com', client_secret: 'gs' });
    const gh = providerName('gh');
    await createProvider({ name: gh, kind: 'github', client_id: 'Iv1.x', client_secret: 'ghs' });
    for (const p of [google, gh]) assertValidation(await external(p, 'some-token'), 'provider:wrong_kind');

    assertProblem(await external('no-such-provider', 'some-token'), 404, 'provider_not_found');

    const { host, name } = await jwtProvider();
    const off = await server.request('PATCH', `/v1/providers/${name}`, { token: admin.token, json: { enabled: false } });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.enabled, false);
    const email = uniqueEmail('disabled');
    assertProblem(await external(name, await host.sign({ sub: `s-${unique()}`, email })), 404, 'provider_not_found');
    assert.equal(await lookup('email', email), null);
  });

  test('missing, mistyped and unknown fields', async () => {
    const post = (json) => server.request('POST', '/v1/auth/external', { json: { project: 'default', ...json } });
    assertValidation(await post({}), ['provider:required', 'token:required']);
    assertValidation(await post({ provider: 'x' }), 'token:required');
    assertValidation(await post({ token: 'x' }), 'provider:required');
    assertValidation(await post({ provider: 'x', token: 42 }), 'token:type');
    assertValidation(await post({ provider: ['x'], token: 'x' }), 'provider:type');
    const unknown = await post({ provider: 'x', token: 'x', password: 'nope' });
    assertProblem(unknown, 400, 'unknown_field');
    assert.ok(fieldErrors(unknown).some((e) => e.startsWith('password:')), unknown.text);
    assertProblem(
      await server.request('POST', '/v1/auth/external', { body: '{"provider": ', contentType: 'application/json', headers: { 'x-tessera-project': 'default' } }),
      400,
      'malformed_json',
    );
    assertProblem(await external('x', 't', { project: 'no-such-project' }), 404, 'project_not_found');
  });
});

// ---- github ------------------------------------------------------------------------------------------

describe('github provider (authorization code flow)', () => {
  const APP = 'https://app.example.test';
  let redirectListSet = false;

  async function allowRedirects() {
    if (redirectListSet) return;
    const res = await server.request('PATCH', '/v1/project', { token: admin.token, json: { redirect_allow_list: [`${APP}/auth/`] } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.redirect_allow_list, [`${APP}/auth/`]);
    redirectListSet = true;
  }

  // A fake GitHub and a `github` provider using it. Returns { gh, name, provider }.
  async function githubProvider(ghOptions = {}) {
    const gh = await startFakeGitHub(ghOptions);
    cleanup.push(() => gh.close());
    const name = providerName('github');
    const provider = await createProvider({
      name,
      kind: 'github',
      client_id: gh.clientId,
      client_secret: gh.clientSecret,
      authorization_endpoint: gh.authorizeUrl,
      token_endpoint: gh.tokenUrl,
      api_url: gh.apiUrl,
      redirect_uri: `${server.url}/v1/auth/oauth/${name}/callback`,
    });
    return { gh, name, provider };
  }

  // POST /v1/auth/oauth/exchange {code, code_verifier?}, naming the project as an application would
  // (the server has several).
  const exchange = (json) => server.request('POST', '/v1/auth/oauth/exchange', { json, headers: { 'x-tessera-project': 'default' } });

  // GET /v1/auth/oauth/{name}/start?...: the 302 to the fake authorize endpoint.
  async function start(name, params = {}) {
    const q = new URLSearchParams({ project: 'default', ...params });
    const res = await server.request('GET', `/v1/auth/oauth/${name}/start?${q}`);
    assert.equal(res.status, 302, `start: ${res.status} ${res.text}`);
    return new URL(res.headers.get('location'));
  }

  // The browser at the fake GitHub: the 302 back to Tessera's callback.
  async function authorize(authorizeUrl) {
    const res = await fetch(authorizeUrl, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 302, `authorize: ${res.status} ${await res.text()}`);
    return new URL(res.headers.get('location'));
  }

  // The browser back at Tessera: the callback's answer.
  function callback(callbackUrl, extra = '') {
    return server.request('GET', `${callbackUrl.pathname}${callbackUrl.search}${extra}`);
  }

  test('redirect_to gets a one-time code that POST /v1/auth/oauth/exchange turns into a session', async () => {
    await allowRedirects();
    const primary = uniqueEmail('octo');
    const { gh, name } = await githubProvider({
      user: { id: 9000000 + Math.floor(Math.random() * 1e6), login: uniqueLogin('octo'), name: 'Mona Lisa Octocat', email: null },
      emails: [
        { email: uniqueEmail('secondary'), primary: false, verified: true },
        { email: primary, primary: true, verified: true },
        { email: uniqueEmail('stale'), primary: false, verified: false },
      ],
    });
    const redirectTo = `${APP}/auth/done?from=e2e`;
    const authorizeUrl = await start(name, { redirect_to: redirectTo });
    assert.equal(`${authorizeUrl.origin}${authorizeUrl.pathname}`, gh.authorizeUrl);
    const q = Object.fromEntries(authorizeUrl.searchParams);
    assert.equal(q.response_type, 'code');
    assert.equal(q.client_id, gh.clientId);
    assert.equal(q.redirect_uri, `${server.url}/v1/auth/oauth/${name}/callback`);
    assert.deepEqual(q.scope.split(' ').sort(), ['read:user', 'user:email']);
    assert.ok(q.state && q.state.length >= 16, 'a random state');
    assert.match(q.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/, 'PKCE towards GitHub');
    assert.equal(q.code_challenge_method, 'S256');

    const back = await authorize(authorizeUrl);
    assert.equal(back.searchParams.get('state'), q.state);
    const res = await callback(back);
    assert.equal(res.status, 302, `callback: ${res.status} ${res.text}`);
    const to = new URL(res.headers.get('location'));
    assert.equal(`${to.origin}${to.pathname}`, `${APP}/auth/done`);
    assert.equal(to.searchParams.get('from'), 'e2e', 'the query of redirect_to is kept');
    const code = to.searchParams.get('code');
    assert.match(code ?? '', /^tso_/);

    // Tessera's side of the exchange with GitHub.
    assert.equal(gh.tokenRequests.length, 1);
    assert.equal(gh.tokenRequests[0].result, 'ok', 'client credentials, code, redirect_uri and code_verifier accepted');
    const apiCalls = gh.requests.filter((r) => r.path.startsWith('/api/'));
    assert.ok(apiCalls.some((r) => r.path === '/api/user' && r.status === 200), 'GET /user');
    assert.ok(apiCalls.some((r) => r.path === '/api/user/emails' && r.status === 200), 'GET /user/emails');

    const ex = await exchange({ code });
    assert.equal(ex.status, 201, `exchange: ${ex.status} ${ex.text}`);
    assertUserShape(ex.body.user);
    assertIssuedSession(ex.body.session);
    assert.ok(ex.setCookies.length > 0, 'session cookies, as a password login');
    assert.equal(ex.body.user.email, primary, 'the primary verified email');
    assert.equal(ex.body.user.email_verified, true);
    assert.equal(ex.body.user.full_name, 'Mona Lisa Octocat');
    const ids = (await me(ex.body.session.token)).identities;
    assert.equal(ids.length, 1);
    assertIdentity(ids[0], { provider: name, subject: String(gh.user.id), email: primary });

    assertProblem(await exchange({ code }), 400, 'invalid_code');
    // The state was consumed.
    assertProblem(await callback(back, '&mode=json'), 400, 'invalid_state');
  });

  test('without redirect_to the callback answers JSON: 201, then 200 for the same GitHub user; mode=json start', async () => {
    const { gh, name } = await githubProvider({
      user: { id: 8000000 + Math.floor(Math.random() * 1e6), login: uniqueLogin('json'), name: 'Json Cat', email: null },
      emails: [{ email: uniqueEmail('json'), primary: true, verified: true }],
    });
    const res = await server.request('GET', `/v1/auth/oauth/${name}/start?project=default&mode=json`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), ['url']);
    assert.ok(res.body.url.startsWith(`${gh.authorizeUrl}?`), res.body.url);
    const first = await callback(await authorize(res.body.url));
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.user.email, gh.emails[0].email);
    assertIssuedSession(first.body.session);

    const second = await callback(await authorize(await start(name)));
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.user.id, first.body.user.id);
    assert.equal(gh.tokenRequests.length, 2);
    assert.ok(gh.tokenRequests.every((t) => t.result === 'ok'), JSON.stringify(gh.tokenRequests.map((t) => t.result)));
  });

  test('the application PKCE: the code is exchanged only with the matching code_verifier', async () => {
    await allowRedirects();
    const { name } = await githubProvider({
      user: { id: 7000000 + Math.floor(Math.random() * 1e6), login: uniqueLogin('pkce'), name: 'Pkce Cat', email: null },
      emails: [{ email: uniqueEmail('pkce'), primary: true, verified: true }],
    });
    const codeFor = async (challenge) => {
      const res = await callback(await authorize(await start(name, { redirect_to: `${APP}/auth/cb`, code_challenge: challenge })));
      assert.equal(res.status, 302, res.text);
      return new URL(res.headers.get('location')).searchParams.get('code');
    };
    const a = pkcePair();
    const codeA = await codeFor(a.challenge);
    assertProblem(await exchange({ code: codeA, code_verifier: pkcePair().verifier }), 400, 'invalid_code');
    const b = pkcePair();
    const codeB = await codeFor(b.challenge);
    assertProblem(await exchange({ code: codeB }), 400, 'invalid_code');
    const c = pkcePair();
    const codeC = await codeFor(c.challenge);
    const ok = await exchange({ code: codeC, code_verifier: c.verifier });
    assert.ok(ok.status === 200 || ok.status === 201, `exchange with the verifier: ${ok.status} ${ok.text}`);
    assertIssuedSession(ok.body.session);
  });

  test('GitHub API down: 502 provider_unavailable and nothing created; with redirect_to, error=provider_unavailable', async () => {
    await allowRedirects();
    const email = uniqueEmail('apidown');
    const { gh, name } = await githubProvider({
      user: { id: 6000000 + Math.floor(Math.random() * 1e6), login: uniqueLogin('down'), name: 'Down Cat', email: null },
      emails: [{ email, primary: true, verified: true }],
    });
    const back = await authorize(await start(name));
    gh.failApi(503);
    assertProblem(await callback(back), 502, 'provider_unavailable');
    assert.equal(await lookup('email', email), null, 'nothing created');

    const back2 = await authorize(await start(name, { redirect_to: `${APP}/auth/done` }));
    const res = await callback(back2);
    assert.equal(res.status, 302, res.text);
    const to = new URL(res.headers.get('location'));
    assert.equal(`${to.origin}${to.pathname}`, `${APP}/auth/done`);
    assert.equal(to.searchParams.get('error'), 'provider_unavailable');
    assert.ok(to.searchParams.get('error_description'), 'an error_description');
    assert.equal(to.searchParams.get('code'), null);
    assert.equal(await lookup('email', email), null, 'nothing created');

    // The whole of GitHub unreachable at the token endpoint: the same.
    gh.failApi(null);
    const back3 = await authorize(await start(name));
    await gh.stop();
    assertProblem(await callback(back3), 502, 'provider_unavailable');
    assert.equal(await lookup('email', email), null, 'nothing created');
  });

  test('the user refusing at GitHub: 401 provider_denied', async () => {
    const { gh, name } = await githubProvider();
    gh.deny();
    const back = await authorize(await start(name));
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assertProblem(await callback(back), 401, 'provider_denied');
    assert.equal(gh.tokenRequests.length, 0, 'no code to exchange');
  });
});
