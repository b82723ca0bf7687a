// The providers admin API (docs/external.md, "Providers", "Admin API", "In the config file"):
// projects:manage; the object of each kind and preset; validation; 409 provider_exists; list, get,
// patch (immutable fields, null clears), delete (and the identities linked through it); client secrets
// never shown and never stored in plain text; providers from the config file (read-only, shadowing,
// refused at start-up when invalid).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { createProject, makeTempDir, removeTempDir, startServer, storeContents } from '../support/server.mjs';
import { assertProblem, assertValidation, eventually, fieldErrors, unique, uniqueEmail } from '../support/api.mjs';
import { RFC3339, apiKeyToken } from '../support/events.mjs';
import { startCustomIdp, startJwksHost } from '../support/identity_services.mjs';

const ENV = { TESSERA_EXTERNAL_ALLOW_PRIVATE: 'true', TESSERA_EXTERNAL_JWKS_REFRESH_INTERVAL: '1s' };

const COMMON = ['name', 'kind', 'preset', 'enabled', 'source', 'created_at', 'updated_at'];
const KIND_FIELDS = {
  oidc: ['has_client_secret', 'client_secret_env', 'issuer', 'client_id', 'scopes', 'redirect_uri'],
  github: ['has_client_secret', 'client_secret_env', 'client_id', 'scopes', 'redirect_uri', 'authorization_endpoint', 'token_endpoint', 'api_url'],
  jwt: ['issuer', 'jwks_uri', 'audience'],
  verify_url: ['url', 'has_client_secret', 'client_secret_env', 'mapping'],
};

let server;
let admin; // '*' in project "default"
let manager; // projects:manage only
let reader; // users:read only
let adminB; // '*' in project "prov-b"
const extraServers = [];
const dirs = [];

before(async () => {
  server = await startServer({ env: ENV });
  await createProject(server.dataDir, 'prov-b');
  admin = await apiKeyToken(server, '*');
  manager = await apiKeyToken(server, 'projects:manage');
  reader = await apiKeyToken(server, 'users:read');
  adminB = await apiKeyToken(server, '*', 'prov-b');
  // A running server learns of a project made by the CLI within seconds (docs/behaviour.md).
  await eventually(async () => (await server.request('GET', '/v1/project', { token: adminB.token })).status === 200, {
    what: 'the server knows project prov-b',
  });
});
after(async () => {
  await server?.close();
  for (const s of extraServers) await s.close();
  for (const d of dirs) await removeTempDir(d);
});

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

const name = (prefix = 'p') => `${prefix}-${unique()}`;
const api = (method, p, json, token = manager.token, srv = server) => srv.request(method, p, { token, json });

async function create(json, { token = manager.token, srv = server } = {}) {
  const res = await api('POST', '/v1/providers', json, token, srv);
  assert.equal(res.status, 201, `POST /v1/providers ${JSON.stringify(json)}: ${res.status} ${res.text}`);
  cleanup.push(() => api('DELETE', `/v1/providers/${json.name}`, undefined, token, srv));
  return res.body;
}

// Runs every check and then fails once, listing every check that failed (so that one discrepancy does
// not hide the next ones): const soft = softChecks(); await soft.check('what', async () => ...); soft.done().
function softChecks() {
  const failures = [];
  return {
    async check(what, fn) {
      try {
        await fn();
      } catch (e) {
        failures.push(`${what}: ${String(e.message).split('\n').filter(Boolean).slice(0, 2).join(' | ')}`);
      }
    },
    done() {
      assert.equal(failures.length, 0, `${failures.length} check(s) failed:\n${failures.join('\n')}`);
    },
  };
}

// The fields a provider of `kind` shows (tenant only for the microsoft preset).
function fieldsOf(kind, preset) {
  const want = [...COMMON, ...KIND_FIELDS[kind]];
  if (preset === 'microsoft') want.push('tenant');
  return want.sort();
}

// The object of a provider of `kind`: no field of another kind, the fields that are never null, and
// the types. exact: every field of the kind is shown, null when unset ("fields that do not apply to the
// kind are left out": the others are there).
function assertProviderShape(p, kind, { exact = false } = {}) {
  const want = fieldsOf(kind, p.preset);
  if (exact) {
    const missing = want.filter((k) => !(k in p));
    assert.deepEqual(missing, [], `fields missing from a ${kind} provider: ${missing.join(', ')} (in ${JSON.stringify(p)})`);
  }
  const extra = Object.keys(p).filter((k) => !want.includes(k));
  assert.deepEqual(extra, [], `fields that do not apply to a ${kind} provider: ${JSON.stringify(p)}`);
  for (const k of COMMON) assert.ok(k in p, `${k} in ${JSON.stringify(p)}`);
  assert.equal(p.kind, kind);
  assert.equal(typeof p.enabled, 'boolean');
  assert.ok(p.source === 'api' || p.source === 'config');
  assert.match(p.created_at, RFC3339);
  assert.match(p.updated_at, RFC3339);
  if ('has_client_secret' in p) assert.equal(typeof p.has_client_secret, 'boolean');
}

async function startExtra(options) {
  const s = await startServer(options);
  extraServers.push(s);
  return s;
}

async function tempDir() {
  const d = await makeTempDir('tessera-e2e-providers-');
  dirs.push(d);
  return d;
}

// ---- access ------------------------------------------------------------------------------------------

describe('access', () => {
  test('every route needs projects:manage (403 names it); no credential is 401', async () => {
    const p = await create({ name: name('acc'), kind: 'jwt', issuer: 'https://issuer.example.test', jwks_uri: 'https://issuer.example.test/jwks', audience: 'a' });
    const routes = [
      ['GET', '/v1/providers'],
      ['GET', `/v1/providers/${p.name}`],
      ['POST', '/v1/providers', { name: name('acc'), kind: 'jwt', issuer: 'https://i.example.test', jwks_uri: 'https://i.example.test/k', audience: 'a' }],
      ['PATCH', `/v1/providers/${p.name}`, { enabled: false }],
      ['DELETE', `/v1/providers/${p.name}`],
    ];
    for (const [method, p2, json] of routes) {
      const denied = assertProblem(await api(method, p2, json, reader.token), 403, 'forbidden');
      assert.equal(denied.missing_permission, 'projects:manage', `${method} ${p2}`);
      assertProblem(await server.request(method, p2, { json, headers: { 'x-tessera-project': 'default' } }), 401, 'unauthenticated');
    }
    const still = await api('GET', `/v1/providers/${p.name}`);
    assert.equal(still.status, 200, still.text);
    assert.equal(still.body.enabled, true, 'the refused PATCH changed nothing');
  });
});

// ---- kinds and presets ---------------------------------------------------------------------------------

describe('creating providers', () => {
  test('each kind: its values, defaults, source "api"', async () => {
    const oidc = await create({ name: name('oidc'), kind: 'oidc', issuer: 'https://idp.example.test', client_id: 'cid', client_secret: 'x-secret-1' });
    assertProviderShape(oidc, 'oidc');
    assert.equal(oidc.preset, null);
    assert.equal(oidc.enabled, true);
    assert.equal(oidc.source, 'api');
    assert.equal(oidc.issuer, 'https://idp.example.test');
    assert.equal(oidc.client_id, 'cid');
    assert.deepEqual(oidc.scopes, ['openid', 'email', 'profile']);
    assert.equal(oidc.redirect_uri ?? null, null);
    assert.equal(oidc.has_client_secret, true);
    assert.equal(oidc.client_secret_env ?? null, null);

    const gh = await create({
      name: name('gh'),
      kind: 'github',
      client_id: 'Iv1.abc',
      client_secret_env: 'GH_SECRET',
      redirect_uri: 'https://auth.example.test/v1/auth/oauth/gh/callback',
      authorization_endpoint: 'https://ghe.example.test/login/oauth/authorize',
      token_endpoint: 'https://ghe.example.test/login/oauth/access_token',
      api_url: 'https://ghe.example.test/api/v3',
    });
    assertProviderShape(gh, 'github');
    assert.deepEqual(gh.scopes, ['read:user', 'user:email']);
    assert.equal(gh.client_secret_env, 'GH_SECRET');
    assert.equal(gh.redirect_uri, 'https://auth.example.test/v1/auth/oauth/gh/callback');
    assert.equal(gh.authorization_endpoint, 'https://ghe.example.test/login/oauth/authorize');
    assert.equal(gh.token_endpoint, 'https://ghe.example.test/login/oauth/access_token');
    assert.equal(gh.api_url, 'https://ghe.example.test/api/v3');

    const jwt = await create({ name: name('jwt'), kind: 'jwt', issuer: 'https://tokens.example.test', jwks_uri: 'https://tokens.example.test/jwks.json', audience: 'app-1', enabled: false });
    assertProviderShape(jwt, 'jwt');
    assert.equal(jwt.enabled, false);
    assert.equal(jwt.issuer, 'https://tokens.example.test');
    assert.equal(jwt.jwks_uri, 'https://tokens.example.test/jwks.json');
    assert.equal(jwt.audience, 'app-1');

    const vu = await create({ name: name('vu'), kind: 'verify_url', url: 'https://verify.example.test/check', mapping: { id: 'user.uid' } });
    assertProviderShape(vu, 'verify_url');
    assert.equal(vu.url, 'https://verify.example.test/check');
    assert.equal(vu.has_client_secret, false);
    assert.deepEqual(vu.mapping, { id: 'user.uid' });
  });

  test('the object shows every field of its kind, null when unset, and no other', async () => {
    const soft = softChecks();
    const bodies = [
      { name: name('so'), kind: 'oidc', issuer: 'https://idp.example.test', client_id: 'c', client_secret: 's' },
      { name: name('sm'), preset: 'microsoft', client_id: 'c', client_secret: 's' },
      { name: name('sg'), kind: 'github', client_id: 'c', client_secret: 's' },
      { name: name('sj'), kind: 'jwt', issuer: 'https://i.example.test', jwks_uri: 'https://i.example.test/k', audience: 'a' },
      { name: name('sv'), kind: 'verify_url', url: 'https://v.example.test/' },
    ];
    for (const body of bodies) {
      const p = await create(body);
      await soft.check(`${body.kind ?? body.preset} provider`, () => {
        assertProviderShape(p, p.kind, { exact: true });
      });
    }
    soft.done();
  });

  test('presets fill in what the provider fixes', async () => {
    const soft = softChecks();
    const google = await create({ name: name('google'), preset: 'google', client_id: 'g.apps.googleusercontent.com', client_secret: 's' });
    await soft.check('google', () => {
      assertProviderShape(google, 'oidc');
      assert.equal(google.preset, 'google');
      assert.equal(google.issuer, 'https://accounts.google.com');
      assert.deepEqual(google.scopes, ['openid', 'email', 'profile']);
    });

    const ms = await create({ name: name('ms'), preset: 'microsoft', client_id: 'm', client_secret: 's' });
    await soft.check('microsoft', () => {
      assertProviderShape(ms, 'oidc');
      assert.equal(ms.tenant, 'common');
      assert.equal(ms.issuer, 'https://login.microsoftonline.com/common/v2.0');
    });
    const tenantId = '9188040d-6c67-4c5b-b112-36a304b66dad';
    const ms2 = await create({ name: name('ms'), preset: 'microsoft', tenant: tenantId, client_id: 'm', client_secret: 's' });
    await soft.check('microsoft with a tenant', () => {
      assert.equal(ms2.tenant, tenantId);
      assert.equal(ms2.issuer, `https://login.microsoftonline.com/${tenantId}/v2.0`);
    });

    const apple = await create({ name: name('apple'), preset: 'apple', client_id: 'com.example.app', client_secret: 'eyJ.apple.jwt' });
    await soft.check('apple', () => {
      assertProviderShape(apple, 'oidc');
      assert.equal(apple.issuer, 'https://appleid.apple.com');
      assert.deepEqual(apple.scopes, ['openid', 'email', 'name']);
    });

    const fb = await create({ name: name('fb'), preset: 'facebook', client_id: '1234', client_secret: 's' });
    await soft.check('facebook', () => {
      assertProviderShape(fb, 'oidc');
      assert.equal(fb.issuer, 'https://www.facebook.com');
      assert.deepEqual(fb.scopes, ['openid', 'email', 'public_profile']);
    });

    const gh = await create({ name: name('github'), preset: 'github', client_id: 'Iv1.x', client_secret: 's' });
    await soft.check('github', () => {
      assertProviderShape(gh, 'github');
      assert.equal(gh.preset, 'github');
      assert.equal(gh.authorization_endpoint, 'https://github.com/login/oauth/authorize');
      assert.equal(gh.token_endpoint, 'https://github.com/login/oauth/access_token');
      assert.equal(gh.api_url, 'https://api.github.com');
      assert.deepEqual(gh.scopes, ['read:user', 'user:email']);
    });

    const fire = await create({ name: name('firebase'), preset: 'firebase', audience: 'my-project-42' });
    await soft.check('firebase', () => {
      assertProviderShape(fire, 'jwt');
      assert.equal(fire.preset, 'firebase');
      assert.equal(fire.issuer, 'https://securetoken.google.com/my-project-42');
      assert.equal(fire.jwks_uri, 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com');
    });
    soft.done();
  });

  test('names: 1 to 64 of a-z 0-9 - _, starting with a letter or digit', async () => {
    const soft = softChecks();
    for (const n of ['a', `0start${unique()}`, `a_b-c9${unique()}`, 'x'.repeat(64)]) {
      await soft.check(`name ${JSON.stringify(n)} accepted`, async () => {
        const p = await create({ name: n, kind: 'verify_url', url: 'https://verify.example.test/' });
        assert.equal(p.name, n);
      });
    }
    for (const bad of ['', 'Upper', '-lead', '_lead', 'has space', 'dot.name', 'slash/name', 'x'.repeat(65), 'ünïcode', 42, null]) {
      await soft.check(`name ${JSON.stringify(bad)} refused`, async () => {
        const res = await api('POST', '/v1/providers', { name: bad, kind: 'verify_url', url: 'https://verify.example.test/' });
        if (res.status === 201) cleanup.push(() => api('DELETE', `/v1/providers/${encodeURIComponent(res.body.name)}`));
        assertValidation(res, 'name');
      });
    }
    soft.done();
  });

  test('validation: unknown fields 400; missing and invalid fields 422 naming each', async () => {
    const soft = softChecks();
    // POSTs a body that must be refused with 422 naming `fields` (a provider made anyway is deleted).
    const refused = (what, body, fields) =>
      soft.check(what, async () => {
        const res = await api('POST', '/v1/providers', body);
        if (res.status === 201) cleanup.push(() => api('DELETE', `/v1/providers/${encodeURIComponent(res.body.name)}`));
        assertValidation(res, fields);
      });
    await soft.check('unknown field', async () => {
      const unknown = await api('POST', '/v1/providers', { name: name(), kind: 'jwt', issuer: 'https://i.example.test', jwks_uri: 'https://i.example.test/k', audience: 'a', colour: 'blue' });
      assertProblem(unknown, 400, 'unknown_field');
      assert.ok(fieldErrors(unknown).some((e) => e.startsWith('colour:')), unknown.text);
    });

    await refused('empty body', {}, ['name', 'kind']);
    await refused('jwt without its fields', { name: name(), kind: 'jwt' }, ['issuer', 'jwks_uri', 'audience']);
    await refused('verify_url without url', { name: name(), kind: 'verify_url' }, ['url']);
    await refused('oidc without issuer and client_id', { name: name(), kind: 'oidc', client_secret: 's' }, ['issuer', 'client_id']);
    await refused('oidc without client_secret or client_secret_env', { name: name(), kind: 'oidc', issuer: 'https://i.example.test', client_id: 'c' }, 'client_secret');
    await refused('github without client_id', { name: name(), kind: 'github', client_secret: 's' }, 'client_id');
    await refused('unknown kind', { name: name(), kind: 'saml', url: 'https://x.example.test' }, 'kind');
    await refused('unknown preset', { name: name(), preset: 'okta', client_id: 'c', client_secret: 's' }, 'preset');
    await refused('firebase without audience', { name: name(), preset: 'firebase' }, 'audience');

    const oidc = () => ({ name: name(), kind: 'oidc', issuer: 'https://i.example.test', client_id: 'c', client_secret: 's' });
    await refused('scopes without openid', { ...oidc(), scopes: ['email', 'profile'] }, 'scopes');
    await refused('scopes not an array', { ...oidc(), scopes: 'openid email' }, 'scopes');
    await refused('issuer not a URL', { ...oidc(), issuer: 'not a url' }, 'issuer');
    await refused('enabled not a boolean', { ...oidc(), enabled: 'yes' }, 'enabled');
    await soft.check('client_secret and client_secret_env together', async () => {
      const both = await api('POST', '/v1/providers', { ...oidc(), client_secret_env: 'OIDC_SECRET' });
      if (both.status === 201) cleanup.push(() => api('DELETE', `/v1/providers/${both.body.name}`));
      assertProblem(both, 422, 'validation_failed');
      assert.ok(fieldErrors(both).some((e) => /^client_secret(_env)?:/.test(e)), `names client_secret or client_secret_env: ${both.text}`);
    });
    const vu = () => ({ name: name(), kind: 'verify_url', url: 'https://v.example.test/' });
    await refused('url not a URL', { ...vu(), url: 'verify.example.test' }, 'url');
    await refused('mapping not an object', { ...vu(), mapping: 'user.uid' }, 'mapping');
    await soft.check('mapping with a non-string path', async () => {
      const res = await api('POST', '/v1/providers', { ...vu(), mapping: { id: 42 } });
      if (res.status === 201) cleanup.push(() => api('DELETE', `/v1/providers/${res.body.name}`));
      assertProblem(res, 422, 'validation_failed');
      assert.ok(fieldErrors(res).some((e) => /^mapping[.:]/.test(e)), `names mapping (or mapping.id): ${res.text}`);
    });
    await refused('several problems at once', { name: 'Bad Name', kind: 'jwt', jwks_uri: 'not a url', issuer: 'https://i.example.test' }, [
      'name',
      'jwks_uri',
      'audience',
    ]);
    soft.done();
  });

  test('http and loopback URLs are refused unless [external] allow_private', async () => {
    const strict = await startExtra({ env: { TESSERA_EXTERNAL_ALLOW_PRIVATE: undefined } });
    const token = (await apiKeyToken(strict, 'projects:manage')).token;
    const soft = softChecks();
    const refused = (what, json, field) =>
      soft.check(what, async () => assertValidation(await api('POST', '/v1/providers', json, token, strict), field));
    await refused('http jwks_uri', { name: name(), kind: 'jwt', issuer: 'https://i.example.test', jwks_uri: 'http://i.example.test/jwks', audience: 'a' }, 'jwks_uri');
    await refused('http verify url', { name: name(), kind: 'verify_url', url: 'http://verify.example.test/' }, 'url');
    await refused('http issuer', { name: name(), kind: 'oidc', issuer: 'http://i.example.test', client_id: 'c', client_secret: 's' }, 'issuer');
    await refused(
      'http token_endpoint',
      { name: name(), kind: 'github', client_id: 'c', client_secret: 's', token_endpoint: 'http://ghe.example.test/login/oauth/access_token' },
      'token_endpoint',
    );
    await soft.check('https accepted', async () => {
      const ok = await api('POST', '/v1/providers', { name: name(), kind: 'verify_url', url: 'https://verify.example.test/' }, token, strict);
      assert.equal(ok.status, 201, ok.text);
    });
    // With allow_private (the main server of this file), http is accepted.
    await soft.check('http accepted with allow_private', () => create({ name: name(), kind: 'verify_url', url: 'http://127.0.0.1:9/verify' }));
    soft.done();
  });
  test('a name in use is 409 provider_exists; the same name in another project is fine', async () => {
    const n = name('dup');
    const body = { name: n, kind: 'verify_url', url: 'https://verify.example.test/' };
    await create(body);
    assertProblem(await api('POST', '/v1/providers', body), 409, 'provider_exists');
    assertProblem(await api('POST', '/v1/providers', { ...body, kind: 'jwt', issuer: 'https://i.example.test', jwks_uri: 'https://i.example.test/k', audience: 'a', url: undefined }), 409, 'provider_exists');
    const other = await create(body, { token: adminB.token });
    assert.equal(other.name, n);
  });
});

// ---- reading, changing, deleting -------------------------------------------------------------------------

describe('list, get, patch, delete', () => {
  test('GET lists the project\'s providers; GET one; unknown is 404 provider_not_found', async () => {
    const a = await create({ name: name('la'), kind: 'verify_url', url: 'https://verify.example.test/a' });
    const b = await create({ name: name('lb'), kind: 'jwt', issuer: 'https://i.example.test', jwks_uri: 'https://i.example.test/k', audience: 'x' });
    const inB = await create({ name: name('lc'), kind: 'verify_url', url: 'https://verify.example.test/c' }, { token: adminB.token });
    const list = await api('GET', '/v1/providers');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(Object.keys(list.body).sort(), ['items', 'next_cursor']);
    assert.equal(list.body.next_cursor, null);
    const names = list.body.items.map((p) => p.name);
    assert.ok(names.includes(a.name) && names.includes(b.name), JSON.stringify(names));
    assert.ok(!names.includes(inB.name), 'another project\'s provider is not listed');
    for (const p of list.body.items) assertProviderShape(p, p.kind);
    assert.deepEqual(list.body.items.find((p) => p.name === a.name), a);

    const one = await api('GET', `/v1/providers/${b.name}`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, b);
    assertProblem(await api('GET', '/v1/providers/no-such-provider'), 404, 'provider_not_found');
    assertProblem(await api('GET', `/v1/providers/${inB.name}`), 404, 'provider_not_found');
    assertProblem(await api('PATCH', '/v1/providers/no-such-provider', { enabled: false }), 404, 'provider_not_found');
    assertProblem(await api('DELETE', '/v1/providers/no-such-provider'), 404, 'provider_not_found');
  });

  test('PATCH changes fields; name, kind, preset, issuer and tenant are immutable; null clears', async () => {
    const soft = softChecks();
    const oidc = await create({
      name: name('po'),
      kind: 'oidc',
      issuer: 'https://idp.example.test',
      client_id: 'cid',
      client_secret: 's1',
      redirect_uri: 'https://app.example.test/cb',
    });
    assert.equal(oidc.redirect_uri, 'https://app.example.test/cb');
    const res = await api('PATCH', `/v1/providers/${oidc.name}`, { client_id: 'cid-2', scopes: ['openid', 'email'], enabled: false });
    assert.equal(res.status, 200, res.text);
    assertProviderShape(res.body, 'oidc');
    assert.equal(res.body.client_id, 'cid-2');
    assert.deepEqual(res.body.scopes, ['openid', 'email']);
    assert.equal(res.body.enabled, false);
    assert.equal(res.body.issuer, oidc.issuer);
    assert.equal(res.body.has_client_secret, true, 'the secret is kept');
    assert.equal(res.body.created_at, oidc.created_at);
    assert.ok(res.body.updated_at >= oidc.updated_at);
    assert.deepEqual((await api('GET', `/v1/providers/${oidc.name}`)).body, res.body);

    await soft.check('redirect_uri: null clears it', async () => {
      const cleared = await api('PATCH', `/v1/providers/${oidc.name}`, { redirect_uri: null });
      assert.equal(cleared.status, 200, cleared.text);
      assert.equal(cleared.body.redirect_uri ?? null, null, cleared.text);
      assert.equal((await api('GET', `/v1/providers/${oidc.name}`)).body.redirect_uri ?? null, null);
    });

    for (const [field, value] of [
      ['name', 'renamed'],
      ['kind', 'jwt'],
      ['preset', 'google'],
      ['issuer', 'https://other.example.test'],
    ]) {
      await soft.check(`${field} is immutable`, async () => {
        assertValidation(await api('PATCH', `/v1/providers/${oidc.name}`, { [field]: value }), `${field}:immutable`);
      });
    }
    const ms = await create({ name: name('pm'), preset: 'microsoft', client_id: 'm', client_secret: 's' });
    await soft.check('tenant is immutable', async () => {
      assertValidation(await api('PATCH', `/v1/providers/${ms.name}`, { tenant: 'organizations' }), 'tenant:immutable');
      assert.equal((await api('GET', `/v1/providers/${ms.name}`)).body.tenant, 'common');
    });
    await soft.check('an invalid value is 422', async () => {
      assertValidation(await api('PATCH', `/v1/providers/${oidc.name}`, { scopes: ['email'] }), 'scopes');
    });
    await soft.check('an unknown field is 400', async () => {
      assertProblem(await api('PATCH', `/v1/providers/${oidc.name}`, { colour: 'red' }), 400, 'unknown_field');
    });
    await soft.check('refused patches changed nothing', async () => {
      const now = (await api('GET', `/v1/providers/${oidc.name}`)).body;
      assert.equal(now.name, oidc.name);
      assert.equal(now.issuer, oidc.issuer);
      assert.deepEqual(now.scopes, ['openid', 'email']);
    });

    const vu = await create({ name: name('pv'), kind: 'verify_url', url: 'https://v.example.test/', client_secret: 'vs', mapping: { id: 'uid' } });
    assert.equal(vu.has_client_secret, true);
    await soft.check('client_secret and mapping: null clears them', async () => {
      const vu2 = await api('PATCH', `/v1/providers/${vu.name}`, { client_secret: null, mapping: null, url: 'https://v2.example.test/check' });
      assert.equal(vu2.status, 200, vu2.text);
      assert.equal(vu2.body.has_client_secret, false);
      assert.equal(vu2.body.mapping ?? null, null);
      assert.equal(vu2.body.url, 'https://v2.example.test/check');
    });
    await soft.check('a new client_secret', async () => {
      const vu3 = await api('PATCH', `/v1/providers/${vu.name}`, { client_secret: 'vs-2' });
      assert.equal(vu3.status, 200, vu3.text);
      assert.equal(vu3.body.has_client_secret, true);
    });
    soft.done();
  });
  test('DELETE: 204, then 404; identities linked through it go, their users stay', async () => {
    const host = await startJwksHost();
    cleanup.push(() => host.close());
    const n = name('del');
    const res = await api('POST', '/v1/providers', { name: n, kind: 'jwt', issuer: host.issuer, jwks_uri: host.jwksUri, audience: host.audience });
    assert.equal(res.status, 201, res.text);
    const login = await server.request('POST', '/v1/auth/external', {
      json: { provider: n, token: await host.sign({ sub: `s-${unique()}`, email: uniqueEmail('del') }), project: 'default' },
    });
    assert.equal(login.status, 201, login.text);
    const token = login.body.session.token;
    const before = await server.request('GET', '/v1/me', { token });
    assert.equal(before.body.identities?.length, 1, `GET /v1/me shows the identity: ${before.text}`);

    const del = await api('DELETE', `/v1/providers/${n}`);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertProblem(await api('GET', `/v1/providers/${n}`), 404, 'provider_not_found');
    assertProblem(await api('DELETE', `/v1/providers/${n}`), 404, 'provider_not_found');

    const me = await server.request('GET', '/v1/me', { token });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body.identities, [], 'the identity went with its provider');
    const user = await server.request('GET', `/v1/users/${login.body.user.id}`, { token: admin.token });
    assert.equal(user.status, 200, 'the user keeps its account');
  });
});

// ---- secrets --------------------------------------------------------------------------------------------

describe('client secrets', () => {
  test('never returned, never stored in plain text, and still usable after a restart', async () => {
    const dataDir = await tempDir();
    const idp = await startCustomIdp({ secret: `vu-secret-${unique()}` });
    cleanup.push(() => idp.close());
    const srv = await startExtra({ env: ENV, dataDir });
    const token = (await apiKeyToken(srv, 'projects:manage')).token;
    const secrets = { oidc: `oidc-secret-${unique()}`, github: `gh-secret-${unique()}`, verify_url: idp.secret };
    const bodies = [
      { name: name('so'), kind: 'oidc', issuer: 'https://idp.example.test', client_id: 'c', client_secret: secrets.oidc },
      { name: name('sg'), kind: 'github', client_id: 'c', client_secret: secrets.github },
      { name: name('sv'), kind: 'verify_url', url: idp.verifyUrl, client_secret: secrets.verify_url },
    ];
    const texts = [];
    for (const body of bodies) {
      const res = await api('POST', '/v1/providers', body, token, srv);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.has_client_secret, true);
      assert.ok(!('client_secret' in res.body), 'no client_secret field');
      texts.push(res.text);
      texts.push((await api('GET', `/v1/providers/${body.name}`, undefined, token, srv)).text);
      const patched = await api('PATCH', `/v1/providers/${body.name}`, { enabled: true }, token, srv);
      assert.equal(patched.status, 200, patched.text);
      texts.push(patched.text);
    }
    texts.push((await api('GET', '/v1/providers', undefined, token, srv)).text);
    for (const text of texts) for (const s of Object.values(secrets)) assert.ok(!text.includes(s), `a secret in a response: ${text}`);

    // A changed secret is not echoed either.
    const rotated = `oidc-secret-2-${unique()}`;
    const p2 = await api('PATCH', `/v1/providers/${bodies[0].name}`, { client_secret: rotated }, token, srv);
    assert.equal(p2.status, 200, p2.text);
    assert.equal(p2.body.has_client_secret, true);
    assert.ok(!p2.text.includes(rotated));

    // The secret works (Tessera sends it to the identity provider), before and after a restart.
    const vname = bodies[2].name;
    idp.respond('t-1', { body: { id: `sec-${unique()}` } });
    const login = (srvNow) => srvNow.request('POST', '/v1/auth/external', { json: { provider: vname, token: 't-1', project: 'default' } });
    const r1 = await login(srv);
    assert.equal(r1.status, 201, r1.text);
    assert.equal(idp.requestsFor('t-1')[0].headers.authorization, `Bearer ${secrets.verify_url}`);
    await srv.stop();

    // The database (SQLite: its files; PostgreSQL: a dump) holds no secret in plain text.
    const bytes = await storeContents(srv);
    assert.ok(bytes.includes(Buffer.from(bodies[0].name)), 'the check is meaningful: a provider name is found');
    for (const s of [...Object.values(secrets), rotated]) assert.equal(bytes.indexOf(Buffer.from(s)), -1, `${s} in plain text`);
    // The server secret key: <data_dir>/secret.key, mode 0600.
    const keyStat = fs.statSync(path.join(dataDir, 'secret.key'));
    assert.equal(keyStat.mode & 0o777, 0o600, `secret.key mode ${(keyStat.mode & 0o777).toString(8)}`);

    await srv.start();
    const r2 = await login(srv);
    assert.equal(r2.status, 200, r2.text);
    const reqs = idp.requestsFor('t-1');
    assert.equal(reqs[reqs.length - 1].headers.authorization, `Bearer ${secrets.verify_url}`, 'decrypted after a restart');
  });
});

// ---- config-file providers ------------------------------------------------------------------------------

describe('providers in the config file', () => {
  async function writeConfig(text) {
    const file = path.join(await tempDir(), 'tessera.toml');
    await fsp.writeFile(file, text);
    return file;
  }

  test('listed with source "config", read-only through the API, usable with secrets from the environment or a file', async () => {
    const dataDir = await tempDir();
    const envSecret = `cfg-env-secret-${unique()}`;
    const fileSecret = `cfg-file-secret-${unique()}`;
    const idpEnv = await startCustomIdp({ secret: envSecret });
    const idpFile = await startCustomIdp({ secret: fileSecret });
    cleanup.push(() => idpEnv.close(), () => idpFile.close());

    // A first start makes the data dir, where the CLI adds the project "cfg-other".
    const first = await startExtra({ env: ENV, dataDir });
    await first.stop();
    await createProject(dataDir, 'cfg-other');

    const secretFile = path.join(await tempDir(), 'idp-secret');
    await fsp.writeFile(secretFile, fileSecret);
    const config = await writeConfig(`
[providers.cfg-env]
project = "default"
kind = "verify_url"
url = "${idpEnv.verifyUrl}"
client_secret_env = "CFG_IDP_SECRET"

[providers.cfg-file]
kind = "verify_url"
url = "${idpFile.verifyUrl}"
client_secret_file = "${secretFile}"

[providers.cfg-google]
project = "cfg-other"
preset = "google"
client_id = "cfg.apps.googleusercontent.com"
client_secret_env = "CFG_GOOGLE_SECRET"
`);
    const srv = await startExtra({ env: { ...ENV, CFG_IDP_SECRET: envSecret, CFG_GOOGLE_SECRET: 'g' }, dataDir, args: ['--config', config] });
    const token = (await apiKeyToken(srv, 'projects:manage')).token;
    const list = await api('GET', '/v1/providers', undefined, token, srv);
    assert.equal(list.status, 200, list.text);
    const byName = Object.fromEntries(list.body.items.map((p) => [p.name, p]));
    for (const n of ['cfg-env', 'cfg-file']) {
      assert.ok(byName[n], `${n} listed: ${list.text}`);
      assert.equal(byName[n].source, 'config', n);
      assertProviderShape(byName[n], 'verify_url');
    }
    assert.equal(byName['cfg-env'].client_secret_env, 'CFG_IDP_SECRET');
    assert.equal(byName['cfg-env'].url, idpEnv.verifyUrl);
    assert.ok(!byName['cfg-google'], 'a provider of another project is not listed');
    assert.ok(!list.text.includes(envSecret) && !list.text.includes(fileSecret), 'no secret in the list');
    const one = await api('GET', '/v1/providers/cfg-file', undefined, token, srv);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, byName['cfg-file']);

    const other = (await apiKeyToken(srv, 'projects:manage', 'cfg-other')).token;
    const g = await eventually(async () => {
      const r = await api('GET', '/v1/providers/cfg-google', undefined, other, srv);
      return r.status === 200 && r;
    }, { what: 'cfg-google in project cfg-other' });
    assert.equal(g.body.source, 'config');
    assert.equal(g.body.kind, 'oidc');
    assert.equal(g.body.issuer, 'https://accounts.google.com');

    for (const n of ['cfg-env', 'cfg-file']) {
      assertProblem(await api('PATCH', `/v1/providers/${n}`, { enabled: false }, token, srv), 409, 'provider_from_config');
      assertProblem(await api('DELETE', `/v1/providers/${n}`, undefined, token, srv), 409, 'provider_from_config');
    }
    assert.equal((await api('GET', '/v1/providers/cfg-env', undefined, token, srv)).body.enabled, true, 'unchanged');

    // The file's providers work, with their secrets from the environment and from a file.
    idpEnv.respond('t-env', { body: { id: `cfg-${unique()}` } });
    const r1 = await srv.request('POST', '/v1/auth/external', { json: { provider: 'cfg-env', token: 't-env', project: 'default' } });
    assert.equal(r1.status, 201, r1.text);
    assert.equal(idpEnv.requestsFor('t-env')[0].headers.authorization, `Bearer ${envSecret}`);
    idpFile.respond('t-file', { body: { id: `cfg-${unique()}` } });
    const r2 = await srv.request('POST', '/v1/auth/external', { json: { provider: 'cfg-file', token: 't-file', project: 'default' } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(idpFile.requestsFor('t-file')[0].headers.authorization, `Bearer ${fileSecret}`);
  });

  test('a file provider may not take the name of an API provider: the server stops, naming it', async () => {
    const dataDir = await tempDir();
    const first = await startExtra({ env: ENV, dataDir });
    const firstToken = (await apiKeyToken(first, 'projects:manage')).token;
    const made = await api('POST', '/v1/providers', { name: 'shadowed', kind: 'verify_url', url: 'https://api-made.example.test/' }, firstToken, first);
    assert.equal(made.status, 201, made.text);
    await first.stop();

    const config = await writeConfig(`
[providers.shadowed]
kind = "verify_url"
url = "https://from-file.example.test/"
`);
    await assert.rejects(startServer({ env: ENV, dataDir, args: ['--config', config] }), (e) => {
      assert.match(e.message, /before listening/);
      assert.match(e.message, /providers\.shadowed: a provider of that name exists/);
      return true;
    });
    // Without the file the API provider is still there, unchanged.
    const again = await startExtra({ env: ENV, dataDir });
    const token = (await apiKeyToken(again, 'projects:manage')).token;
    const got = await api('GET', '/v1/providers/shadowed', undefined, token, again);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.source, 'api');
    assert.equal(got.body.url, 'https://api-made.example.test/');
  });

  test('POST /v1/providers cannot take the name of a file provider: 409 provider_exists', async () => {
    const config = await writeConfig(`
[providers.filed]
kind = "verify_url"
url = "https://from-file.example.test/"
`);
    const srv = await startExtra({ env: ENV, args: ['--config', config] });
    const token = (await apiKeyToken(srv, 'projects:manage')).token;
    assertProblem(await api('POST', '/v1/providers', { name: 'filed', kind: 'verify_url', url: 'https://x.example.test/' }, token, srv), 409, 'provider_exists');
  });

  test('an invalid file provider, one of an unknown project, or a client_secret in the file stops the server at start-up', async () => {
    const cases = [
      ['broken-jwt', `[providers.broken-jwt]\nkind = "jwt"\nissuer = "https://i.example.test"\naudience = "a"\n`],
      ['bad-scopes', `[providers.bad-scopes]\nkind = "oidc"\nissuer = "https://i.example.test"\nclient_id = "c"\nclient_secret_env = "X"\nscopes = ["email"]\n`],
      ['lost-project', `[providers.lost-project]\nproject = "no-such-project"\nkind = "verify_url"\nurl = "https://v.example.test/"\n`],
      ['inline-secret', `[providers.inline-secret]\nkind = "verify_url"\nurl = "https://v.example.test/"\nclient_secret = "plain"\n`],
      ['odd-field', `[providers.odd-field]\nkind = "verify_url"\nurl = "https://v.example.test/"\ncolour = "blue"\n`],
      ['Bad_Name', `[providers.Bad_Name]\nkind = "verify_url"\nurl = "https://v.example.test/"\n`],
    ];
    const soft = softChecks();
    for (const [n, text] of cases) {
      const config = await writeConfig(text);
      await soft.check(n, () =>
        assert.rejects(
          startServer({ env: ENV, args: ['--config', config] }),
          (e) => {
            assert.match(e.message, /before listening/, `${n}: the server did not start: ${e.message}`);
            assert.ok(e.message.includes(n), `${n}: the message names the provider: ${e.message}`);
            return true;
          },
          `${n} must stop the server`,
        ),
      );
    }
    soft.done();
  });
});
