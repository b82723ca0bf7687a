// Interoperability: an independent JOSE library (the npm package `jose`, installed by
// `npm ci --prefix tests`) verifies Tessera's access tokens offline against /.well-known/jwks.json,
// checking signature, issuer, audience and expiry, before and after `tessera keys rotate`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as jose from 'jose';

import { runCli, sleep, startServer } from '../support/server.mjs';
import { UUID_V7, signUp } from '../support/api.mjs';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'tessera'; // the default audience
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

async function createKey(server, permissions, project = 'default') {
  const r = await runCli(['apikey', 'create', '--data-dir', server.dataDir, '--project', project, '--permissions', permissions, '--name', 'jose']);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

async function clientCredentials(server, key, scope) {
  const json = { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret };
  if (scope !== undefined) json.scope = scope;
  const res = await server.request('POST', '/v1/token', { json });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

describe('jose verifies Tessera access tokens', () => {
  let server;
  let key;
  let jwks; // jose's remote key set, fetched from the server like any relying party would
  before(async () => {
    server = await startServer({ env: { TESSERA_TOKEN_ISSUER: ISSUER } });
    key = await createKey(server, 'users:*,apikeys:manage');
    // No cool-down: after the rotation this set must fetch the new key when it meets its kid.
    jwks = jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', server.url), { cooldownDuration: 0 });
  });
  after(async () => {
    await server?.close();
  });

  const verify = (token, keySet = jwks, options = {}) =>
    jose.jwtVerify(token, keySet, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], ...options });

  test('the discovery document names the issuer and a JWKS that jose can use', async () => {
    const res = await server.request('GET', '/.well-known/openid-configuration');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.issuer, ISSUER);
    assert.deepEqual(res.body.id_token_signing_alg_values_supported, ['ES256']);
    const token = (await clientCredentials(server, key)).access_token;
    const fromDiscovery = jose.createRemoteJWKSet(new URL(res.body.jwks_uri));
    const { protectedHeader } = await verify(token, fromDiscovery);
    assert.equal(protectedHeader.alg, 'ES256');
  });

  test('the JWKS publishes EC P-256 public keys only', async () => {
    const res = await server.request('GET', '/.well-known/jwks.json');
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body.keys) && res.body.keys.length >= 1, res.text);
    for (const jwk of res.body.keys) {
      assert.equal(jwk.kty, 'EC');
      assert.equal(jwk.crv, 'P-256');
      assert.equal(jwk.alg, 'ES256');
      assert.equal(jwk.use, 'sig');
      assert.equal(typeof jwk.kid, 'string');
      assert.equal(jwk.d, undefined, 'no private part is published');
      const imported = await jose.importJWK(jwk, 'ES256');
      assert.equal(imported.type, 'public');
    }
  });

  test('an API key access token verifies with issuer, audience and the expected claims', async () => {
    const issued = await clientCredentials(server, key, 'users:read');
    const { payload, protectedHeader } = await verify(issued.access_token);
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.typ, 'JWT');
    const jwksKids = (await server.request('GET', '/.well-known/jwks.json')).body.keys.map((k) => k.kid);
    assert.ok(jwksKids.includes(protectedHeader.kid), 'the kid is published');
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.aud, AUDIENCE);
    assert.equal(payload.sub, key.id);
    assert.equal(payload.client_id, key.id);
    assert.equal(payload.kind, 'api_key');
    assert.equal(payload.scope, 'users:read');
    assert.match(payload.jti, UUID_V7);
    assert.match(payload.project, UUID_V7);
    assert.equal(payload.exp - payload.iat, issued.expires_in);
  });

  test('a user token from token exchange verifies too', async () => {
    const { token, user } = await signUp(server);
    const res = await server.request('POST', '/v1/token', {
      json: { grant_type: TOKEN_EXCHANGE, subject_token: token },
    });
    assert.equal(res.status, 200, res.text);
    const { payload } = await verify(res.body.access_token);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.kind, 'user');
    assert.equal(payload.project, user.project_id);
    assert.equal(payload.client_id, undefined);
  });

  test('jose refuses a token for another audience or issuer, a changed payload and an expired token', async () => {
    const { access_token: token } = await clientCredentials(server, key);
    await assert.rejects(verify(token, jwks, { audience: 'someone-else' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    await assert.rejects(verify(token, jwks, { issuer: 'https://other.test' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    const [h, p, s] = token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...decodeSegment(p), scope: '*' })).toString('base64url');
    await assert.rejects(verify(`${h}.${widened}.${s}`), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    const { exp } = decodeSegment(p);
    await assert.rejects(verify(token, jwks, { currentDate: new Date((exp + 60) * 1000) }), { code: 'ERR_JWT_EXPIRED' });
  });

  test('after `tessera keys rotate` old and new tokens both verify', async () => {
    const before = await clientCredentials(server, key);
    const oldKid = jose.decodeProtectedHeader(before.access_token).kid;

    const rotated = await runCli(['keys', 'rotate', '--data-dir', server.dataDir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = /new signing key: (\S+)/.exec(rotated.stdout)?.[1];
    assert.ok(newKid, rotated.stdout);
    assert.notEqual(newKid, oldKid);

    // The server picks the new key up within a minute by itself, and at once when it sees a token
    // with a kid it does not know (at most once a second). Present such a token (its signature is
    // garbage, so it is refused) to make it reload now, and poll, bounded.
    const [, payload, signature] = before.access_token.split('.');
    const probeHeader = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: newKid })).toString('base64url');
    const probe = `${probeHeader}.${payload}.${signature}`;
    let after;
    const deadline = Date.now() + 70_000;
    for (;;) {
      const refused = await server.request('GET', '/v1/me', { token: probe });
      assert.equal(refused.status, 401, refused.text);
      after = await clientCredentials(server, key);
      if (jose.decodeProtectedHeader(after.access_token).kid === newKid) break;
      assert.ok(Date.now() < deadline, 'new tokens are signed with the rotated key within 70 s');
      await sleep(500);
    }

    const published = (await server.request('GET', '/.well-known/jwks.json')).body.keys.map((k) => k.kid);
    assert.ok(published.includes(newKid), `the new key is published: ${published}`);
    assert.ok(published.includes(oldKid), `the old key stays published while its tokens live: ${published}`);

    // A fresh key set, as a relying party that starts now would have; and the one used so far, which
    // must fetch the new key on its own when it meets an unknown kid.
    const fresh = jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', server.url));
    for (const keySet of [fresh, jwks]) {
      const old = await verify(before.access_token, keySet);
      assert.equal(old.protectedHeader.kid, oldKid);
      const now = await verify(after.access_token, keySet);
      assert.equal(now.protectedHeader.kid, newKid);
    }

    // And the server itself still accepts both.
    for (const token of [before.access_token, after.access_token]) {
      const res = await server.request('GET', '/v1/api-keys', { token });
      assert.equal(res.status, 200, res.text);
    }
  });
});
