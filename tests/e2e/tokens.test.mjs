// The OAuth 2.0 token endpoint (client credentials, refresh tokens with rotation and reuse
// detection, token exchange), what access tokens are refused, introspection and revocation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';

import * as jose from 'jose';

import { createProject, runCli, sleep, startServer } from '../support/server.mjs';
import { UUID_V7, assertProblem, eventually, signUp } from '../support/api.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';
const FORM = 'application/x-www-form-urlencoded';

// ---- helpers -------------------------------------------------------------------------------------

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}
function decodeJwt(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}
function basic(id, secret) {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
function form(params) {
  return new URLSearchParams(params).toString();
}

// `tessera apikey create` on the server's data dir; returns { id, secret }.
async function cliKey(server, permissions, project = 'default') {
  const r = await runCli(['apikey', 'create', '--data-dir', server.dataDir, '--project', project, '--permissions', permissions, '--name', 'e2e']);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

// POST /v1/token as JSON (default) or as a form.
function tokenRequest(server, params, { asForm = false, headers = {} } = {}) {
  if (asForm) return server.request('POST', '/v1/token', { body: form(params), contentType: FORM, headers });
  return server.request('POST', '/v1/token', { json: params, headers });
}

async function grant(server, key, scope) {
  const params = { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret };
  if (scope !== undefined) params.scope = scope;
  const res = await tokenRequest(server, params);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function refresh(server, refreshToken, extra = {}) {
  return tokenRequest(server, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

async function exchange(server, sessionToken, extra = {}) {
  return tokenRequest(server, { grant_type: TOKEN_EXCHANGE, subject_token: sessionToken, ...extra });
}

// An OAuth error of the token endpoint: a problem document that also carries RFC 6749's fields.
function assertOAuthError(res, status, code) {
  const body = assertProblem(res, status, code);
  assert.equal(body.error, code, res.text);
  assert.equal(typeof body.error_description, 'string');
  return body;
}
function assertInvalidClient(res) {
  assertProblem(res, 401, 'invalid_client');
  assert.match(res.headers.get('www-authenticate') || '', /^Basic\b/i, 'a 401 invalid_client names the Basic scheme');
}
function assertInvalidToken(res) {
  assertProblem(res, 401, 'invalid_token');
  assert.equal(res.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE);
}

function assertTokenResponse(res, expectedScope) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = res.body;
  for (const k of ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope'])
    assert.ok(k in body, `${k} in ${res.text}`);
  assert.equal(body.token_type, 'Bearer');
  assert.ok(Number.isInteger(body.expires_in) && body.expires_in > 0, 'expires_in is a positive number of seconds');
  assert.equal(body.access_token.split('.').length, 3, 'the access token is a JWT');
  // Self-contained: tsr_ + base64url(JSON) + "." + base64url(MAC)
  assert.match(body.refresh_token, /^tsr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(typeof body.scope, 'string');
  if (expectedScope !== undefined) assert.deepEqual(body.scope.split(' ').filter(Boolean).sort(), expectedScope.slice().sort());
  return body;
}

// ---- the main server ------------------------------------------------------------------------------

let server;
let admin; // a CLI key holding everything
let adminToken;
before(async () => {
  server = await startServer();
  admin = await cliKey(server, '*');
  adminToken = (await grant(server, admin)).access_token;
  knownUser = (await signUp(server)).user;
});
after(async () => {
  await server?.close();
});

const introspect = (token, auth = { token: adminToken }) =>
  server.request('POST', '/v1/token/introspect', { ...auth, body: form({ token }), contentType: FORM });
const revoke = (token, auth = { token: adminToken }) =>
  server.request('POST', '/v1/token/revoke', { ...auth, body: form({ token }), contentType: FORM });
// A route that needs users:read: reading one user (GET /v1/users/{id}) of the project.
let knownUser;
const usersWith = (token) => server.request('GET', `/v1/users/${knownUser.id}`, { token });
// On any server: users:read on a user id that does not exist is 404 user_not_found once the token
// is accepted, and 401 when it is refused.
const NO_SUCH_USER = '01a21044-0000-7000-8000-000000000000';
const readNoUser = (srv, token) => srv.request('GET', `/v1/users/${NO_SUCH_USER}`, { token });
async function assertAccepted(srv, token) {
  assertProblem(await readNoUser(srv, token), 404, 'user_not_found');
}

describe('client credentials', () => {
  let key; // users:* and apikeys:manage
  before(async () => {
    key = await cliKey(server, 'users:*,apikeys:manage');
  });

  test('HTTP Basic with a form body: the full response shape', async () => {
    const res = await tokenRequest(server, { grant_type: 'client_credentials' }, {
      asForm: true,
      headers: { authorization: basic(key.id, key.secret) },
    });
    const body = assertTokenResponse(res, ['apikeys:manage', 'users:*']);
    assert.equal(res.headers.get('pragma'), 'no-cache');
    const { header, payload } = decodeJwt(body.access_token);
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string');
    assert.equal(payload.iss, 'tessera', 'the default issuer');
    assert.equal(payload.aud, 'tessera', 'the default audience');
    assert.equal(payload.sub, key.id);
    assert.equal(payload.client_id, key.id);
    assert.equal(payload.kind, 'api_key');
    assert.equal(payload.scope, body.scope);
    assert.match(payload.jti, UUID_V7);
    assert.match(payload.project, UUID_V7);
    assert.ok(Number.isInteger(payload.iat) && Number.isInteger(payload.exp));
    assert.equal(payload.exp - payload.iat, body.expires_in);
    // The token works on an administration route within the key's permissions.
    const users = await usersWith(body.access_token);
    assert.equal(users.status, 200, users.text);
  });

  test('client_id and client_secret in a JSON body', async () => {
    const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret });
    assertTokenResponse(res, ['apikeys:manage', 'users:*']);
  });

  test('client_id and client_secret in a form body', async () => {
    const res = await tokenRequest(
      server,
      { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret },
      { asForm: true },
    );
    assertTokenResponse(res, ['apikeys:manage', 'users:*']);
  });

  test('HTTP Basic with a JSON body', async () => {
    const res = await tokenRequest(server, { grant_type: 'client_credentials' }, { headers: { authorization: basic(key.id, key.secret) } });
    assertTokenResponse(res);
  });

  test('api_key_credentials is an alias of client_credentials', async () => {
    for (const asForm of [false, true]) {
      const res = await tokenRequest(
        server,
        { grant_type: 'api_key_credentials', client_id: key.id, client_secret: key.secret },
        { asForm },
      );
      assertTokenResponse(res, ['apikeys:manage', 'users:*']);
    }
    const res = await tokenRequest(server, { grant_type: 'api_key_credentials' }, { headers: { authorization: basic(key.id, key.secret) } });
    assertTokenResponse(res);
  });

  test('a JSON body with a charset parameter is read as JSON', async () => {
    const res = await server.request('POST', '/v1/token', {
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret }),
      contentType: 'application/json; charset=utf-8',
    });
    assertTokenResponse(res);
  });

  test('a wrong secret is 401 invalid_client with WWW-Authenticate, by Basic and by body', async () => {
    const wrong = `${key.secret.slice(0, -2)}${key.secret.endsWith('AA') ? 'BB' : 'AA'}`;
    assertInvalidClient(
      await tokenRequest(server, { grant_type: 'client_credentials' }, { asForm: true, headers: { authorization: basic(key.id, wrong) } }),
    );
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: wrong }));
    // Another key's secret does not open this key.
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: admin.secret }));
  });

  test('invalid_client carries the RFC 6749 error fields like every other token endpoint error', async () => {
    // OAuth client libraries read "error" (RFC 6749 section 5.2); the other errors of this endpoint
    // (invalid_request, invalid_scope, invalid_grant, unsupported_grant_type) carry it.
    const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: 'tsk_wrong' });
    assertInvalidClient(res);
    assert.equal(res.body.error, 'invalid_client', res.text);
    assert.equal(typeof res.body.error_description, 'string', res.text);
  });

  test('an unknown client id is 401 invalid_client', async () => {
    const unknown = '01a21044-0fc6-7979-99a0-52059aa53da2';
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: unknown, client_secret: key.secret }));
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: 'not-a-uuid', client_secret: key.secret }));
    assertInvalidClient(
      await tokenRequest(server, { grant_type: 'client_credentials' }, { headers: { authorization: basic(unknown, key.secret) } }),
    );
  });

  test('no client credentials at all, or a malformed Basic header, is 401 invalid_client', async () => {
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials' }));
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id }));
    assertInvalidClient(
      await tokenRequest(server, { grant_type: 'client_credentials' }, { headers: { authorization: 'Basic !!!not-base64' } }),
    );
    assertInvalidClient(
      await tokenRequest(server, { grant_type: 'client_credentials' }, {
        headers: { authorization: `Basic ${Buffer.from(`${key.id}${key.secret}`).toString('base64')}` },
      }),
    );
  });

  test('an unknown grant type is 400 unsupported_grant_type', async () => {
    assertOAuthError(await tokenRequest(server, { grant_type: 'password', username: 'a', password: 'b' }), 400, 'unsupported_grant_type');
    assertOAuthError(await tokenRequest(server, { grant_type: 'authorization_code', code: 'x' }, { asForm: true }), 400, 'unsupported_grant_type');
  });

  test('missing or malformed parameters are 400 invalid_request', async () => {
    assertOAuthError(await tokenRequest(server, {}), 400, 'invalid_request');
    assertOAuthError(await tokenRequest(server, { client_id: key.id, client_secret: key.secret }, { asForm: true }), 400, 'invalid_request');
    assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token' }), 400, 'invalid_request');
    assertOAuthError(await tokenRequest(server, { grant_type: TOKEN_EXCHANGE }, { asForm: true }), 400, 'invalid_request');
    // RFC 6749 3.2: parameters must not be repeated; a form escape must be well formed.
    assertOAuthError(
      await server.request('POST', '/v1/token', { body: 'grant_type=client_credentials&grant_type=refresh_token', contentType: FORM }),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await server.request('POST', '/v1/token', { body: 'grant_type=client%ZZcredentials', contentType: FORM }),
      400,
      'invalid_request',
    );
    // JSON parameters are strings.
    assertOAuthError(
      await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret, scope: ['users:read'] }),
      400,
      'invalid_request',
    );
  });

  test('a malformed JSON body is refused with a 400', async () => {
    const res = await server.request('POST', '/v1/token', { body: '{"grant_type": ', contentType: 'application/json' });
    assert.equal(res.status, 400, res.text);
    assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
  });

  test('scope narrows the key: a subset is granted and the token carries only it', async () => {
    const narrowed = await grant(server, key, 'users:read');
    assert.equal(narrowed.scope, 'users:read');
    assert.equal(decodeJwt(narrowed.access_token).payload.scope, 'users:read');
    assert.equal((await usersWith(narrowed.access_token)).status, 200);
    // Not apikeys:manage any more.
    const keys = await server.request('GET', '/v1/api-keys', { token: narrowed.access_token });
    const body = assertProblem(keys, 403, 'forbidden');
    assert.equal(body.missing_permission, 'apikeys:manage');
    // Nor users:write, although the key holds users:*.
    const patch = await server.request('POST', '/v1/users/bulk-update', {
      token: narrowed.access_token,
      json: { where: { email: { eq: 'nobody@example.com' } }, set: { full_name: 'x' } },
    });
    assert.equal(assertProblem(patch, 403, 'forbidden').missing_permission, 'users:write');

    // Several permissions, in a form (space encoded as +), and a wildcard the key holds.
    const res = await tokenRequest(
      server,
      { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret, scope: 'users:read apikeys:manage' },
      { asForm: true },
    );
    assertTokenResponse(res, ['apikeys:manage', 'users:read']);
    assert.equal((await grant(server, key, 'users:*')).scope, 'users:*');
  });

  test('a scope wider than the key is 400 invalid_scope', async () => {
    for (const scope of ['roles:manage', 'users:read roles:manage', '*', 'contexts:*']) {
      const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret, scope });
      assertOAuthError(res, 400, 'invalid_scope');
    }
  });

  test('a scope naming an unknown permission is 400 invalid_scope', async () => {
    for (const scope of ['users:fly', 'users:read bogus', 'nothing:read']) {
      const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret, scope });
      assertOAuthError(res, 400, 'invalid_scope');
    }
  });
});

describe('refresh tokens', () => {
  let key;
  before(async () => {
    key = await cliKey(server, 'users:read,apikeys:manage');
  });

  test('a refresh gives a new working pair; the scope is kept', async () => {
    const first = await grant(server, key, 'users:read');
    const res = await refresh(server, first.refresh_token);
    const second = assertTokenResponse(res, ['users:read']);
    assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotates');
    assert.notEqual(second.access_token, first.access_token);
    assert.notEqual(decodeJwt(second.access_token).payload.jti, decodeJwt(first.access_token).payload.jti);
    assert.equal(decodeJwt(second.access_token).payload.sub, key.id);
    assert.equal((await usersWith(second.access_token)).status, 200);
    // The new refresh token works in turn (as a form, this time).
    const third = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: second.refresh_token }, { asForm: true });
    assertTokenResponse(third, ['users:read']);
  });

  test('a refresh may narrow the scope further, never widen it', async () => {
    const first = await grant(server, key);
    const narrowed = await refresh(server, first.refresh_token, { scope: 'users:read' });
    assertTokenResponse(narrowed, ['users:read']);
    const widened = await refresh(server, narrowed.body.refresh_token, { scope: 'users:read apikeys:manage' });
    assertOAuthError(widened, 400, 'invalid_scope');
  });

  test('garbage and unknown refresh tokens are 400 invalid_grant', async () => {
    for (const token of ['garbage', 'tsr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', adminToken]) {
      assertOAuthError(await refresh(server, token), 400, 'invalid_grant');
    }
  });

  test('reusing a spent refresh token within the grace period (default 10 s) gets a working pair', async () => {
    const first = await grant(server, key);
    const rotated = assertTokenResponse(await refresh(server, first.refresh_token));
    const retried = assertTokenResponse(await refresh(server, first.refresh_token));
    assert.notEqual(retried.refresh_token, rotated.refresh_token);
    assert.equal((await usersWith(retried.access_token)).status, 200);
    assertTokenResponse(await refresh(server, retried.refresh_token));
  });

  test('a refresh token is bound to its client: another key cannot redeem it (RFC 6749 section 6)', async () => {
    const other = await cliKey(server, 'users:read');
    const first = await grant(server, key);
    const res = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { asForm: true, headers: { authorization: basic(other.id, other.secret) } },
    );
    assertOAuthError(res, 400, 'invalid_grant');
  });
});

describe('refresh token reuse past the grace period', () => {
  let graceServer;
  let key;
  before(async () => {
    graceServer = await startServer({ env: { TESSERA_TOKEN_REFRESH_REUSE_GRACE: '1s' } });
    key = await cliKey(graceServer, 'users:read');
  });
  after(async () => {
    await graceServer?.close();
  });

  test('reuse after the grace revokes the whole family, the newest refresh token too', async () => {
    const first = await grant(graceServer, key);
    const second = assertTokenResponse(await refresh(graceServer, first.refresh_token));
    await sleep(1500); // past the 1 s grace of the first token's rotation
    const third = assertTokenResponse(await refresh(graceServer, second.refresh_token));
    // The leaked first token comes back.
    assertOAuthError(await refresh(graceServer, first.refresh_token), 400, 'invalid_grant');
    // Every token of the family is gone now, the newest included.
    assertOAuthError(await refresh(graceServer, third.refresh_token), 400, 'invalid_grant');
    assertOAuthError(await refresh(graceServer, second.refresh_token), 400, 'invalid_grant');
    // Another family of the same key is untouched.
    const unrelated = await grant(graceServer, key);
    assertTokenResponse(await refresh(graceServer, unrelated.refresh_token));
  });

  test('introspection says a spent refresh token is not active', async () => {
    const first = await grant(graceServer, key);
    assertTokenResponse(await refresh(graceServer, first.refresh_token));
    const res = await graceServer.request('POST', '/v1/token/introspect', {
      body: form({ token: first.refresh_token }),
      contentType: FORM,
      headers: { authorization: basic(key.id, key.secret) },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { active: false });
  });
});

describe('token exchange: a session token for a JWT', () => {
  test('gives a user token (kind "user", sub = the user id) that works on GET /v1/me', async () => {
    const { token, user } = await signUp(server);
    const res = await exchange(server, token);
    const body = assertTokenResponse(res);
    assert.equal(body.issued_token_type, ACCESS_TOKEN_TYPE);
    assert.equal(body.scope, '', 'a plain user holds no permission');
    const { payload } = decodeJwt(body.access_token);
    assert.equal(payload.kind, 'user');
    assert.equal(payload.sub, user.id);
    assert.equal(payload.project, user.project_id);
    assert.equal(payload.client_id, undefined);
    const me = await server.request('GET', '/v1/me', { token: body.access_token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.id, user.id);
    // Its refresh token refreshes as that user.
    const refreshed = assertTokenResponse(await refresh(server, body.refresh_token));
    assert.equal(decodeJwt(refreshed.access_token).payload.sub, user.id);
    assert.equal((await server.request('GET', '/v1/me', { token: refreshed.access_token })).status, 200);
  });

  test('as a form, with subject_token_type', async () => {
    const { token, user } = await signUp(server);
    for (const type of [ACCESS_TOKEN_TYPE, 'urn:tessera:token-type:session']) {
      const res = await tokenRequest(server, { grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: type }, { asForm: true });
      assert.equal(decodeJwt(assertTokenResponse(res).access_token).payload.sub, user.id);
    }
  });

  test('the token carries the user\'s role permissions, and scope narrows them', async () => {
    const { token, user } = await signUp(server);
    const role = await server.request('POST', '/v1/roles', {
      token: adminToken,
      json: { name: `reader-${Date.now().toString(36)}`, permissions: ['users:read', 'users:write'] },
    });
    assert.equal(role.status, 201, role.text);
    const set = await server.request('PUT', `/v1/users/${user.id}/roles`, { token: adminToken, json: { roles: [role.body.name] } });
    assert.equal(set.status, 200, set.text);
    const full = assertTokenResponse(await exchange(server, token), ['users:read', 'users:write']);
    assert.equal((await usersWith(full.access_token)).status, 200);
    const narrowed = assertTokenResponse(await exchange(server, token, { scope: 'users:read' }), ['users:read']);
    assert.equal((await usersWith(narrowed.access_token)).status, 200);
    assertOAuthError(await exchange(server, token, { scope: 'users:delete' }), 400, 'invalid_scope');
  });

  test('a subject token that is not a live session is 400 invalid_grant', async () => {
    const { token } = await signUp(server);
    const jwt = assertTokenResponse(await exchange(server, token)).access_token;
    for (const subject of ['tss_garbage', 'tss_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', jwt, adminToken]) {
      assertOAuthError(await exchange(server, subject), 400, 'invalid_grant');
    }
    const logout = await server.request('POST', '/v1/auth/logout', { token });
    assert.ok(logout.status === 204 || logout.status === 200, logout.text);
    assertOAuthError(await exchange(server, token), 400, 'invalid_grant');
  });

  test('another subject_token_type is 400 invalid_request', async () => {
    const { token } = await signUp(server);
    const res = await exchange(server, token, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' });
    assertOAuthError(res, 400, 'invalid_request');
  });
});

describe('refused access tokens: 401 invalid_token with WWW-Authenticate', () => {
  let token;
  let jwk;
  before(async () => {
    const key = await cliKey(server, 'users:read');
    token = (await grant(server, key)).access_token;
    assert.equal((await usersWith(token)).status, 200, 'the genuine token works');
    const kid = decodeJwt(token).header.kid;
    jwk = (await server.request('GET', '/.well-known/jwks.json')).body.keys.find((k) => k.kid === kid);
    assert.ok(jwk, 'the signing key is published');
  });

  test('a changed payload (wider scope) with the original signature', async () => {
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    assertInvalidToken(await usersWith(`${h}.${b64url({ ...payload, scope: '*' })}.${s}`));
    assertInvalidToken(await usersWith(`${h}.${b64url({ ...payload, exp: payload.exp + 3600 })}.${s}`));
  });

  test('a changed signature, a truncated token, garbage', async () => {
    const [h, p, s] = token.split('.');
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    assertInvalidToken(await usersWith(`${h}.${p}.${flipped}`));
    assertInvalidToken(await usersWith(`${h}.${p}.`));
    assertInvalidToken(await usersWith(`${h}.${p}`));
    assertInvalidToken(await usersWith('a.b.c'));
    assertInvalidToken(await usersWith('not-a-token'));
  });

  test('alg "none" with the real payload and an empty signature', async () => {
    const [, p] = token.split('.');
    for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT' }, { alg: 'None', typ: 'JWT', kid: jwk.kid }]) {
      assertInvalidToken(await usersWith(`${b64url(header)}.${p}.`));
    }
  });

  test('HS256 signed with the public key as the HMAC secret', async () => {
    const [, p] = token.split('.');
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const raw = Buffer.concat([Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    for (const secret of [pem, Buffer.from(pem.trim()), raw, JSON.stringify(jwk)]) {
      const h = b64url({ alg: 'HS256', typ: 'JWT', kid: jwk.kid });
      const sig = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
      assertInvalidToken(await usersWith(`${h}.${p}.${sig}`));
    }
  });

  test('a token of another server (another signing key) is refused', async () => {
    const other = await startServer();
    try {
      const otherKey = await cliKey(other, 'users:read');
      const foreign = (await grant(other, otherKey)).access_token;
      await assertAccepted(other, foreign);
      assertInvalidToken(await usersWith(foreign));
      assertInvalidToken(await readNoUser(other, token));
    } finally {
      await other.close();
    }
  });

  test('a token for another audience or from another issuer is refused (same keys, same data)', async () => {
    // A second server on the same data dir shares the signing keys and API keys, but not the
    // audience or the issuer; each refuses the other's tokens.
    const key = await cliKey(server, 'users:read');
    for (const env of [{ TESSERA_TOKEN_AUDIENCE: 'another-api' }, { TESSERA_TOKEN_ISSUER: 'https://another-issuer.test' }]) {
      const twin = await startServer({ dataDir: server.dataDir, env });
      try {
        const theirs = (await grant(twin, key)).access_token;
        await assertAccepted(twin, theirs);
        assertInvalidToken(await readNoUser(twin, token));
        assertInvalidToken(await usersWith(theirs));
      } finally {
        await twin.stop();
      }
    }
  });

  test('an expired token is refused (TESSERA_TOKEN_ACCESS_TTL=1s)', async () => {
    const short = await startServer({ env: { TESSERA_TOKEN_ACCESS_TTL: '1s' } });
    try {
      const key = await cliKey(short, 'users:read');
      const issued = await grant(short, key);
      assert.equal(issued.expires_in, 1);
      const { payload } = decodeJwt(issued.access_token);
      assert.equal(payload.exp - payload.iat, 1);
      // Genuine: it verifies offline at its issue time.
      const keySet = jose.createLocalJWKSet((await short.request('GET', '/.well-known/jwks.json')).body);
      await jose.jwtVerify(issued.access_token, keySet, { audience: 'tessera', issuer: 'tessera', currentDate: new Date(payload.iat * 1000) });
      while (Date.now() / 1000 < payload.exp + 0.5) await sleep(100);
      const res = await readNoUser(short, issued.access_token);
      assertInvalidToken(res);
      const seen = await short.request('POST', '/v1/token/introspect', {
        body: form({ token: issued.access_token }),
        contentType: FORM,
        headers: { authorization: basic(key.id, key.secret) },
      });
      assert.deepEqual(seen.body, { active: false });
      // Its refresh token still gives a fresh one.
      const renewed = assertTokenResponse(await refresh(short, issued.refresh_token));
      assert.ok(decodeJwt(renewed.access_token).payload.exp >= payload.exp);
    } finally {
      await short.close();
    }
  });
});

describe('introspection (RFC 7662)', () => {
  let key;
  before(async () => {
    key = await cliKey(server, 'users:read');
  });

  test('an access token: active with its claims', async () => {
    const issued = await grant(server, key);
    const { payload } = decodeJwt(issued.access_token);
    const res = await introspect(issued.access_token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.body.active, true);
    assert.equal(res.body.token_type, 'access_token');
    assert.equal(res.body.scope, 'users:read');
    assert.equal(res.body.sub, key.id);
    assert.equal(res.body.client_id, key.id);
    assert.equal(res.body.jti, payload.jti);
    assert.equal(res.body.exp, payload.exp);
    assert.equal(res.body.iat, payload.iat);
    assert.equal(res.body.iss, payload.iss);
    assert.equal(res.body.aud, payload.aud);
    assert.equal(res.body.project, payload.project);
  });

  test('a refresh token: active with scope, subject and expiry', async () => {
    const issued = await grant(server, key);
    const res = await introspect(issued.refresh_token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active, true);
    assert.equal(res.body.token_type, 'refresh_token');
    assert.equal(res.body.scope, 'users:read');
    assert.equal(res.body.sub, key.id);
    assert.ok(Number.isInteger(res.body.exp) && res.body.exp > res.body.iat);
    assert.equal(res.body.project, decodeJwt(issued.access_token).payload.project);
  });

  test('a session token: active with the user as subject', async () => {
    const { token, user } = await signUp(server);
    const res = await introspect(token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active, true);
    assert.equal(res.body.token_type, 'session');
    assert.equal(res.body.sub, user.id);
    assert.equal(res.body.project, user.project_id);
    assert.ok(Number.isInteger(res.body.exp) && res.body.exp > res.body.iat);
  });

  test('a user access token from token exchange: active', async () => {
    const { token, user } = await signUp(server);
    const jwt = assertTokenResponse(await exchange(server, token)).access_token;
    const res = await introspect(jwt);
    assert.equal(res.body.active, true, res.text);
    assert.equal(res.body.sub, user.id);
    assert.equal(res.body.client_id, undefined);
  });

  test('a personal access token: active (it is a credential the API accepts)', async () => {
    const { token, user } = await signUp(server);
    const pat = await server.request('POST', '/v1/me/tokens', { token, json: { name: 'introspected' } });
    assert.equal(pat.status, 201, pat.text);
    assert.equal((await server.request('GET', '/v1/me', { token: pat.body.token })).status, 200, 'the PAT works');
    const res = await introspect(pat.body.token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active, true, `a working PAT is active: ${res.text}`);
    assert.equal(res.body.sub, user.id);
  });

  test('garbage, empty and revoked tokens: active false and nothing more', async () => {
    const issued = await grant(server, key);
    assert.equal((await revoke(issued.access_token)).status, 200);
    const { token } = await signUp(server);
    assert.ok([200, 204].includes((await server.request('POST', '/v1/auth/logout', { token })).status));
    for (const t of ['garbage', '', 'a.b.c', 'tsr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'tss_x', issued.access_token, token]) {
      const res = await introspect(t);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { active: false }, `introspection of ${JSON.stringify(t)}`);
    }
  });

  test('an API key authenticates by Basic or by its access token, as a form or JSON', async () => {
    const issued = await grant(server, key);
    const byBasic = await introspect(issued.access_token, { headers: { authorization: basic(key.id, key.secret) } });
    assert.equal(byBasic.body.active, true, byBasic.text);
    const byBody = await server.request('POST', '/v1/token/introspect', {
      json: { token: issued.access_token, client_id: key.id, client_secret: key.secret },
    });
    assert.equal(byBody.body.active, true, byBody.text);
    const byBearer = await server.request('POST', '/v1/token/introspect', { token: issued.access_token, json: { token: issued.refresh_token } });
    assert.equal(byBearer.body.active, true, byBearer.text);
  });

  test('without an API key: 401 invalid_client, 401 invalid_token, or 403 for user credentials', async () => {
    const issued = await grant(server, key);
    assertInvalidClient(await introspect(issued.access_token, {}));
    assertInvalidClient(await introspect(issued.access_token, { headers: { authorization: basic(key.id, 'tsk_wrong') } }));
    assertInvalidToken(await introspect(issued.access_token, { token: 'garbage.garbage.garbage' }));
    const { token } = await signUp(server);
    assertProblem(await introspect(issued.access_token, { token }), 403, 'api_key_required');
    const userJwt = assertTokenResponse(await exchange(server, token)).access_token;
    assertProblem(await introspect(issued.access_token, { token: userJwt }), 403, 'api_key_required');
  });

  test('tokens of another project are not active for this project\'s key', async () => {
    const otherServer = await startServer();
    try {
      const b = await createProject(otherServer.dataDir, 'b');
      const keyA = await cliKey(otherServer, 'users:read', 'default');
      const keyB = await cliKey(otherServer, 'users:read', b.alias);
      const tokensA = await grant(otherServer, keyA);
      const { token: sessionA } = await signUp(otherServer, {}, { headers: { 'x-tessera-project': 'default' } });
      for (const t of [tokensA.access_token, tokensA.refresh_token, sessionA]) {
        const asB = await otherServer.request('POST', '/v1/token/introspect', {
          body: form({ token: t }),
          contentType: FORM,
          headers: { authorization: basic(keyB.id, keyB.secret) },
        });
        assert.equal(asB.status, 200, asB.text);
        assert.deepEqual(asB.body, { active: false });
        const asA = await otherServer.request('POST', '/v1/token/introspect', {
          body: form({ token: t }),
          contentType: FORM,
          headers: { authorization: basic(keyA.id, keyA.secret) },
        });
        assert.equal(asA.body.active, true, asA.text);
      }
      // Nor can B revoke them.
      for (const t of [tokensA.access_token, tokensA.refresh_token]) {
        const res = await otherServer.request('POST', '/v1/token/revoke', {
          body: form({ token: t }),
          contentType: FORM,
          headers: { authorization: basic(keyB.id, keyB.secret) },
        });
        assert.equal(res.status, 200, res.text);
      }
      await assertAccepted(otherServer, tokensA.access_token);
      assertTokenResponse(await refresh(otherServer, tokensA.refresh_token));
    } finally {
      await otherServer.close();
    }
  });
});

describe('revocation (RFC 7009)', () => {
  let key;
  before(async () => {
    key = await cliKey(server, 'users:read');
  });

  test('a revoked access token stops working at once', async () => {
    const issued = await grant(server, key);
    assert.equal((await usersWith(issued.access_token)).status, 200);
    const res = await revoke(issued.access_token);
    assert.equal(res.status, 200, res.text);
    assertInvalidToken(await usersWith(issued.access_token));
    assert.deepEqual((await introspect(issued.access_token)).body, { active: false });
    // Another token of the same key is unaffected.
    assert.equal((await usersWith((await grant(server, key)).access_token)).status, 200);
  });

  test('a key may revoke its own access token with it (Bearer), or with Basic', async () => {
    const issued = await grant(server, key);
    const res = await server.request('POST', '/v1/token/revoke', { token: issued.access_token, json: { token: issued.access_token } });
    assert.equal(res.status, 200, res.text);
    assertInvalidToken(await usersWith(issued.access_token));
    const second = await grant(server, key);
    const byBasic = await revoke(second.access_token, { headers: { authorization: basic(key.id, key.secret) } });
    assert.equal(byBasic.status, 200, byBasic.text);
    assertInvalidToken(await usersWith(second.access_token));
  });

  test('revoking a refresh token kills its whole family', async () => {
    const first = await grant(server, key);
    const second = assertTokenResponse(await refresh(server, first.refresh_token));
    const third = assertTokenResponse(await refresh(server, second.refresh_token));
    // Revoke an old, spent member: the newest dies with it.
    assert.equal((await revoke(first.refresh_token)).status, 200);
    assertOAuthError(await refresh(server, third.refresh_token), 400, 'invalid_grant');
    assert.deepEqual((await introspect(third.refresh_token)).body, { active: false });

    const other = await grant(server, key);
    assert.equal((await revoke(other.refresh_token)).status, 200);
    assertOAuthError(await refresh(server, other.refresh_token), 400, 'invalid_grant');
  });

  test('unknown tokens get the same 200; a missing token is 400 invalid_request', async () => {
    for (const t of ['garbage', 'a.b.c', 'tsr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await revoke(t);
      assert.equal(res.status, 200, res.text);
    }
    const res = await server.request('POST', '/v1/token/revoke', { token: adminToken, body: '', contentType: FORM });
    assertOAuthError(res, 400, 'invalid_request');
  });

  test('revocation needs an API key', async () => {
    const issued = await grant(server, key);
    assertInvalidClient(await revoke(issued.access_token, {}));
    const { token } = await signUp(server);
    assertProblem(await revoke(issued.access_token, { token }), 403, 'api_key_required');
    assert.equal((await usersWith(issued.access_token)).status, 200, 'nothing was revoked');
  });
});

describe('the API key behind the tokens', () => {
  test('DELETE /v1/api-keys/{id}: its access tokens fail at once, its refresh tokens and secret fail', async () => {
    const created = await server.request('POST', '/v1/api-keys', { token: adminToken, json: { name: 'doomed', permissions: ['users:read'] } });
    assert.equal(created.status, 201, created.text);
    const key = { id: created.body.id, secret: created.body.secret };
    const issued = await grant(server, key);
    const rotated = assertTokenResponse(await refresh(server, (await grant(server, key)).refresh_token));
    assert.equal((await usersWith(issued.access_token)).status, 200);

    const del = await server.request('DELETE', `/v1/api-keys/${key.id}`, { token: adminToken });
    assert.equal(del.status, 204, del.text);

    assertInvalidToken(await usersWith(issued.access_token));
    assertInvalidToken(await usersWith(rotated.access_token));
    assertOAuthError(await refresh(server, issued.refresh_token), 400, 'invalid_grant');
    assertOAuthError(await refresh(server, rotated.refresh_token), 400, 'invalid_grant');
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret }));
  });

  test('introspection says the tokens of a deleted key are not active', async () => {
    const created = await server.request('POST', '/v1/api-keys', { token: adminToken, json: { name: 'gone', permissions: ['users:read'] } });
    assert.equal(created.status, 201, created.text);
    const issued = await grant(server, { id: created.body.id, secret: created.body.secret });
    assert.equal((await server.request('DELETE', `/v1/api-keys/${created.body.id}`, { token: adminToken })).status, 204);
    assertInvalidToken(await usersWith(issued.access_token));
    assert.deepEqual((await introspect(issued.refresh_token)).body, { active: false });
    assert.deepEqual((await introspect(issued.access_token)).body, { active: false }, 'a token the API refuses is not active');
  });

  let expiredBefore; // the token response obtained while the short-lived key was valid
  test('an expired key: 401 invalid_client, its access tokens refused, its refresh tokens refused', async () => {
    const expiresAt = new Date(Date.now() + 2000).toISOString();
    const created = await server.request('POST', '/v1/api-keys', {
      token: adminToken,
      json: { name: 'short-lived', permissions: ['users:read'], expires_at: expiresAt },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(Date.parse(created.body.expires_at), Date.parse(expiresAt));
    const key = { id: created.body.id, secret: created.body.secret };
    // Obtained before the expiry (on a machine so slow that the key expired already, the rest of the
    // test still holds, so do not insist).
    const before = await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret });
    if (before.status === 200) expiredBefore = before.body;

    await eventually(
      async () =>
        (await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret })).status === 401,
      { timeoutMs: 15_000, what: 'the key expires' },
    );
    assertInvalidClient(await tokenRequest(server, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret }));
    assertInvalidClient(
      await tokenRequest(server, { grant_type: 'client_credentials' }, { asForm: true, headers: { authorization: basic(key.id, key.secret) } }),
    );
    if (expiredBefore) {
      assertInvalidToken(await usersWith(expiredBefore.access_token));
      assertOAuthError(await refresh(server, expiredBefore.refresh_token), 400, 'invalid_grant');
    }
  });

  test('introspection says the access token of an expired key is not active', async (t) => {
    if (!expiredBefore) return t.skip('no token was obtained before the key expired');
    assertInvalidToken(await usersWith(expiredBefore.access_token));
    assert.deepEqual((await introspect(expiredBefore.access_token)).body, { active: false }, 'a token the API refuses is not active');
  });
});

describe('discovery', () => {
  test('GET /.well-known/openid-configuration names the endpoints and grants', async () => {
    const res = await server.request('GET', '/.well-known/openid-configuration');
    assert.equal(res.status, 200, res.text);
    const doc = res.body;
    assert.equal(doc.issuer, 'tessera');
    assert.equal(doc.jwks_uri, `${server.url}/.well-known/jwks.json`);
    assert.equal(doc.token_endpoint, `${server.url}/v1/token`);
    assert.equal(doc.introspection_endpoint, `${server.url}/v1/token/introspect`);
    assert.equal(doc.revocation_endpoint, `${server.url}/v1/token/revoke`);
    for (const g of ['client_credentials', 'refresh_token', TOKEN_EXCHANGE]) assert.ok(doc.grant_types_supported.includes(g), g);
    assert.ok(doc.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(doc.token_endpoint_auth_methods_supported.includes('client_secret_post'));
    for (const p of ['users:read', 'users:write', 'users:delete', 'apikeys:manage', 'roles:manage', '*'])
      assert.ok(doc.scopes_supported.includes(p), p);
  });

  test('with TESSERA_SERVER_PUBLIC_URL the documents use it, and the issuer defaults to it', async () => {
    const pub = await startServer({ env: { TESSERA_SERVER_PUBLIC_URL: 'https://auth.example.test' } });
    try {
      const doc = (await pub.request('GET', '/.well-known/openid-configuration')).body;
      assert.equal(doc.issuer, 'https://auth.example.test');
      assert.equal(doc.jwks_uri, 'https://auth.example.test/.well-known/jwks.json');
      assert.equal(doc.token_endpoint, 'https://auth.example.test/v1/token');
      const key = await cliKey(pub, 'users:read');
      assert.equal(decodeJwt((await grant(pub, key)).access_token).payload.iss, 'https://auth.example.test');
    } finally {
      await pub.close();
    }
  });

  test('GET /.well-known/jwks.json is public and cacheable', async () => {
    const res = await server.request('GET', '/.well-known/jwks.json');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('cache-control') || '', /max-age=\d+/);
    const kid = decodeJwt(adminToken).header.kid;
    assert.ok(res.body.keys.some((k) => k.kid === kid && k.kty === 'EC' && k.crv === 'P-256' && k.alg === 'ES256'));
  });
});

describe('self-contained refresh tokens', () => {
  test('a refresh token whose data was changed (its MAC no longer matches) is 400 invalid_grant', async () => {
    const key = await cliKey(server, 'users:read');
    const issued = await grant(server, key);
    const [body, mac] = issued.refresh_token.slice(4).split('.');
    const data = JSON.parse(Buffer.from(body, 'base64url').toString());
    data.c = '*'; // ask for every permission
    const forged = `tsr_${Buffer.from(JSON.stringify(data)).toString('base64url')}.${mac}`;
    assertOAuthError(await refresh(server, forged), 400, 'invalid_grant');
    const truncated = issued.refresh_token.slice(0, -2);
    assertOAuthError(await refresh(server, truncated), 400, 'invalid_grant');
    // The genuine one still works.
    assertTokenResponse(await refresh(server, issued.refresh_token));
  });

  test("suspending a user revokes the refresh tokens it had, even once it is active again", async () => {
    const { user, token } = await signUp(server);
    const exchanged = assertTokenResponse(await exchange(server, token));
    const patch = (active) => server.request('PATCH', `/v1/users/${user.id}`, { token: adminToken, json: { active } });
    assert.equal((await patch(false)).status, 200);
    assertOAuthError(await refresh(server, exchanged.refresh_token), 400, 'invalid_grant');
    assert.equal((await patch(true)).status, 200);
    assertOAuthError(await refresh(server, exchanged.refresh_token), 400, 'invalid_grant');
  });
});
