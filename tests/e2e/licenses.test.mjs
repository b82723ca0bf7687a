// Licenses (docs/licenses.md): keys in five groups of Crockford base32 with a check character, shown to
// those who may see the license but stored only sealed; administration under licenses:write /
// licenses:read (create, validation, list with filters and pagination, get, patch, delete);
// GET /v1/me/licenses; activation by anyone holding the key (a license+jwt token that jose verifies
// offline against the JWKS, seats counted in one transaction so concurrent activations never exceed
// max_activations, deactivation, suspended / expired / mistyped / unknown keys, forgiving input);
// project isolation; the license.created and license.activated events (never the key).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as jose from 'jose';

import { createProject, startServer, storeContents } from '../support/server.mjs';
import {
  PASSWORD,
  RFC3339_MICROS,
  UUID_V7,
  assertProblem,
  assertValidation,
  eventually,
  fieldErrors,
  signUp,
  unique,
  uniqueEmail,
} from '../support/api.mjs';
import { FAST_EVENTS_ENV, apiKeyToken } from '../support/events.mjs';
import { startWebhookReceiver } from '../support/webhooks.mjs';

const KEY_FORMAT = /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const NO_SUCH_ID = '01a21044-0000-7000-8000-000000000000';
const LICENSE_FIELDS = [
  'id',
  'project_id',
  'key',
  'user_id',
  'product',
  'expires_at',
  'max_activations',
  'suspended',
  'activations',
  'metadata',
  'created_at',
  'updated_at',
].sort();
const LICENSE_FIELDS_WITHOUT_KEY = LICENSE_FIELDS.filter((f) => f !== 'key');
const ACTIVATION_FIELDS = ['id', 'fingerprint', 'hostname', 'created_at', 'last_activated_at'].sort();
const TOKEN_TTL_SECONDS = 7 * 24 * 3600; // [licenses] activation_token_ttl default
const HOUR_MS = 3600 * 1000;

let server;
let admin; // licenses:read + licenses:write
let reader; // licenses:read only
let writer; // licenses:write only
let unrelated; // users:read only
let usersAdmin; // users:*
let jwks;
let projectId; // of the default project
const allKeys = []; // every key made on `server`, for the "not stored in clear" check
const allProducts = [];

before(async () => {
  server = await startServer({ env: { ...FAST_EVENTS_ENV, TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000' } });
  [admin, reader, writer, unrelated, usersAdmin] = await Promise.all([
    apiKeyToken(server, 'licenses:read,licenses:write'),
    apiKeyToken(server, 'licenses:read'),
    apiKeyToken(server, 'licenses:write'),
    apiKeyToken(server, 'users:read'),
    apiKeyToken(server, 'users:*'),
  ]);
  jwks = jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', server.url));
  projectId = jose.decodeJwt(admin.token).project;
});
after(async () => {
  await server?.close();
});

// ---- helpers -----------------------------------------------------------------------------------------

const api = (method, urlPath, json, token = admin.token, srv = server) => srv.request(method, urlPath, { json, token });

function product(prefix = 'prod') {
  const p = `${prefix}-${unique()}`;
  allProducts.push(p);
  return p;
}

async function createLicense(json = {}, { token = admin.token, srv = server } = {}) {
  const body = { product: product(), ...json };
  const res = await api('POST', '/v1/licenses', body, token, srv);
  assert.equal(res.status, 201, `create license: ${res.status} ${res.text}`);
  if (srv === server) allKeys.push(res.body.key);
  return res.body;
}

const activate = (json, { srv = server, headers } = {}) => srv.request('POST', '/v1/licenses/activate', { json, headers });
const deactivate = (json, { srv = server, headers } = {}) =>
  srv.request('POST', '/v1/licenses/deactivate', { json, headers });

async function getLicense(id, token = admin.token, srv = server) {
  const res = await api('GET', `/v1/licenses/${id}`, undefined, token, srv);
  assert.equal(res.status, 200, `get license: ${res.status} ${res.text}`);
  return res.body;
}

function assertLicenseShape(l, { withKey = true } = {}) {
  assert.deepEqual(Object.keys(l).sort(), withKey ? LICENSE_FIELDS : LICENSE_FIELDS_WITHOUT_KEY, 'license fields');
  assert.match(l.id, UUID_V7);
  assert.match(l.project_id, UUID_V7);
  if (withKey) assert.match(l.key, KEY_FORMAT);
  assert.ok(l.user_id === null || UUID_V7.test(l.user_id), `user_id: ${l.user_id}`);
  assert.equal(typeof l.product, 'string');
  assert.ok(l.expires_at === null || RFC3339_MICROS.test(l.expires_at), `expires_at: ${l.expires_at}`);
  assert.ok(Number.isInteger(l.max_activations), 'max_activations');
  assert.equal(typeof l.suspended, 'boolean');
  assert.ok(Number.isInteger(l.activations) && l.activations >= 0, 'activations');
  assert.ok(l.metadata !== null && typeof l.metadata === 'object' && !Array.isArray(l.metadata), 'metadata');
  assert.match(l.created_at, RFC3339_MICROS);
  assert.match(l.updated_at, RFC3339_MICROS);
}

function assertForbidden(res, permission) {
  const body = assertProblem(res, 403, 'forbidden');
  assert.equal(body.missing_permission, permission, res.text);
}

// The key with its last (check) character replaced by another character of the alphabet.
function withWrongCheck(key) {
  const last = key.at(-1);
  return key.slice(0, -1) + ALPHABET[(ALPHABET.indexOf(last) + 1) % ALPHABET.length];
}

const iso = (ms) => new Date(ms).toISOString();
const seconds = (rfc3339) => Math.floor(Date.parse(rfc3339) / 1000);

async function verifyLicenseToken(token) {
  return jose.jwtVerify(token, jwks, { audience: 'tessera:license', algorithms: ['ES256'], typ: 'license+jwt' });
}

// Every page of GET `base` (limit `limit`), as one array of items; asserts the page shape.
async function allPages(base, limit, token = admin.token) {
  const items = [];
  let cursor = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 50, 'pagination ends');
    const sep = base.includes('?') ? '&' : '?';
    const res = await api('GET', `${base}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
    assert.ok(res.body.items.length <= limit, `at most ${limit} items`);
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
    if (cursor === null) return items;
    assert.equal(typeof cursor, 'string');
  }
}

// ---- administration ----------------------------------------------------------------------------------

describe('administration', () => {
  test('create: 201 with defaults, a well-formed key, distinct keys', async () => {
    const p = product();
    const startedAt = Date.now();
    const res = await api('POST', '/v1/licenses', { product: p });
    assert.equal(res.status, 201, res.text);
    allKeys.push(res.body.key);
    const l = res.body;
    assertLicenseShape(l);
    assert.equal(l.project_id, projectId);
    assert.equal(l.product, p);
    assert.equal(l.user_id, null);
    assert.equal(l.expires_at, null);
    assert.equal(l.max_activations, 1, 'default max_activations');
    assert.equal(l.suspended, false);
    assert.equal(l.activations, 0);
    assert.deepEqual(l.metadata, {});
    assert.ok(Date.parse(l.created_at) >= startedAt - 2000 && Date.parse(l.created_at) <= Date.now() + 2000, 'created now');
    assert.equal(l.updated_at, l.created_at);

    const { user } = await signUp(server);
    const expires = iso(Date.now() + 30 * 24 * HOUR_MS);
    const full = await createLicense({
      user_id: user.id,
      expires_at: expires,
      max_activations: 100000,
      metadata: { order_id: 'ord_42', seats: [1, 2], nested: { ok: true } },
    });
    assertLicenseShape(full);
    assert.equal(full.user_id, user.id);
    assert.equal(Date.parse(full.expires_at), Date.parse(expires));
    assert.equal(full.max_activations, 100000);
    assert.deepEqual(full.metadata, { order_id: 'ord_42', seats: [1, 2], nested: { ok: true } });

    const more = await Promise.all(Array.from({ length: 5 }, () => createLicense({ product: p })));
    const keys = [l.key, full.key, ...more.map((m) => m.key)];
    for (const k of keys) assert.match(k, KEY_FORMAT);
    assert.equal(new Set(keys).size, keys.length, 'every key differs');
    assert.equal(new Set([l.id, full.id, ...more.map((m) => m.id)]).size, keys.length, 'every id differs');

    // The key is shown to licenses:read.
    const got = await getLicense(l.id, reader.token);
    assert.deepEqual(got, l, 'GET shows what create showed');
  });

  test('validation: 422 naming each field, 400 unknown_field', async () => {
    const cases = [
      [{}, 'product'],
      [{ product: '' }, 'product'],
      [{ product: 'x'.repeat(129) }, 'product'],
      [{ product: 42 }, 'product'],
      [{ product: 'p', max_activations: 0 }, 'max_activations'],
      [{ product: 'p', max_activations: -1 }, 'max_activations'],
      [{ product: 'p', max_activations: 100001 }, 'max_activations'],
      [{ product: 'p', max_activations: 'three' }, 'max_activations'],
      [{ product: 'p', max_activations: 1.5 }, 'max_activations'],
      [{ product: 'p', user_id: NO_SUCH_ID }, 'user_id'],
      [{ product: 'p', user_id: 'not-a-uuid' }, 'user_id'],
      [{ product: 'p', expires_at: 'next tuesday' }, 'expires_at'],
      [{ product: 'p', expires_at: '2030-13-45T99:00:00Z' }, 'expires_at'],
      [{ product: 'p', metadata: [1, 2] }, 'metadata'],
      [{ product: 'p', metadata: 'order 42' }, 'metadata'],
      [{ product: 'p', metadata: { blob: 'x'.repeat(17 * 1024) } }, 'metadata'],
    ];
    for (const [json, field] of cases) {
      const res = await api('POST', '/v1/licenses', json);
      assertValidation(res, field);
    }
    // Every broken field is listed at once.
    const many = await api('POST', '/v1/licenses', { product: '', max_activations: 0, expires_at: 'soon' });
    assertValidation(many, ['product', 'max_activations', 'expires_at']);

    // At the limits is fine: 128 characters of product, 15 KiB of metadata.
    const longest = await createLicense({ product: 'é'.repeat(128), metadata: { blob: 'x'.repeat(15 * 1024) } });
    assert.equal(longest.product, 'é'.repeat(128));
    assert.equal(longest.metadata.blob.length, 15 * 1024);

    const unknown = await api('POST', '/v1/licenses', { product: 'p', key: 'AAAAA-AAAAA-AAAAA-AAAAA-AAAAA', seats: 3 });
    assertProblem(unknown, 400, 'unknown_field');
    const errs = fieldErrors(unknown);
    assert.ok(errs.some((e) => e.startsWith('key:')), `names key: ${JSON.stringify(errs)}`);
    assert.ok(errs.some((e) => e.startsWith('seats:')), `names seats: ${JSON.stringify(errs)}`);

    const l = await createLicense();
    assertValidation(await api('PATCH', `/v1/licenses/${l.id}`, { max_activations: 0 }), 'max_activations');
    assertValidation(await api('PATCH', `/v1/licenses/${l.id}`, { product: '' }), 'product');
    assertValidation(await api('PATCH', `/v1/licenses/${l.id}`, { expires_at: 'never' }), 'expires_at');
    assertValidation(await api('PATCH', `/v1/licenses/${l.id}`, { user_id: NO_SUCH_ID }), 'user_id');
    assertValidation(await api('PATCH', `/v1/licenses/${l.id}`, { suspended: 'yes' }), 'suspended');
    assertProblem(await api('PATCH', `/v1/licenses/${l.id}`, { activations: 5 }), 400, 'unknown_field');
    assertProblem(await api('PATCH', `/v1/licenses/${l.id}`, { key: l.key }), 400, 'unknown_field');
    assert.deepEqual(await getLicense(l.id), l, 'refused changes change nothing');
  });

  test('permissions: licenses:write to change, licenses:read to read; no credential: 401', async () => {
    const l = await createLicense();
    for (const token of [reader.token, unrelated.token]) {
      assertForbidden(await api('POST', '/v1/licenses', { product: 'p' }, token), 'licenses:write');
      assertForbidden(await api('PATCH', `/v1/licenses/${l.id}`, { suspended: true }, token), 'licenses:write');
      assertForbidden(await api('DELETE', `/v1/licenses/${l.id}`, undefined, token), 'licenses:write');
    }
    for (const token of [writer.token, unrelated.token]) {
      assertForbidden(await api('GET', '/v1/licenses', undefined, token), 'licenses:read');
      assertForbidden(await api('GET', `/v1/licenses/${l.id}`, undefined, token), 'licenses:read');
      assertForbidden(await api('GET', `/v1/licenses/${l.id}/activations`, undefined, token), 'licenses:read');
    }
    // A user without roles holds neither.
    const { token: userToken } = await signUp(server);
    assertForbidden(await api('POST', '/v1/licenses', { product: 'p' }, userToken), 'licenses:write');
    assertForbidden(await api('GET', `/v1/licenses/${l.id}`, undefined, userToken), 'licenses:read');

    assert.equal((await server.request('GET', '/v1/licenses')).status, 401);
    assert.equal((await server.request('POST', '/v1/licenses', { json: { product: 'p' } })).status, 401);

    // licenses:write alone may create (typically a back-end after a payment webhook).
    const made = await createLicense({}, { token: writer.token });
    assert.match(made.key, KEY_FORMAT);
    const unchanged = await getLicense(l.id);
    assert.equal(unchanged.suspended, false, 'the refused PATCH changed nothing');
  });

  test('list: filters user_id, product and suspended; limit + cursor pages through every match once', async () => {
    const { user: alice } = await signUp(server);
    const { user: bob } = await signUp(server);
    const p1 = product('list-a');
    const p2 = product('list-b');
    const made = [];
    made.push(await createLicense({ product: p1, user_id: alice.id }));
    made.push(await createLicense({ product: p1, user_id: bob.id }));
    made.push(await createLicense({ product: p2, user_id: alice.id }));
    made.push(await createLicense({ product: p1 }));
    made.push(await createLicense({ product: p1, user_id: alice.id }));
    for (const i of [1, 4]) {
      const res = await api('PATCH', `/v1/licenses/${made[i].id}`, { suspended: true });
      assert.equal(res.status, 200, res.text);
    }

    const ids = (items) => items.map((i) => i.id).sort();
    const pick = (...idx) => idx.map((i) => made[i].id).sort();
    const q = (params) => `/v1/licenses?${new URLSearchParams(params)}`;

    // One page of everything that matches, then the same through pages of 2 and of 1: same items, same order.
    const whole = await api('GET', q({ product: p1, limit: '1000' }));
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.body.next_cursor, null, 'no cursor on the last page');
    assert.deepEqual(ids(whole.body.items), pick(0, 1, 3, 4), 'product filter');
    for (const item of whole.body.items) {
      assertLicenseShape(item);
      assert.equal(item.key, made.find((m) => m.id === item.id).key, 'the list shows the key');
    }
    const order = whole.body.items.map((i) => i.id);
    for (const limit of [1, 2, 3]) {
      const paged = await allPages(q({ product: p1 }), limit);
      assert.deepEqual(paged.map((i) => i.id), order, `pages of ${limit}: every match once, in the same order`);
    }
    const first = await api('GET', q({ product: p1, limit: '2' }));
    assert.equal(first.body.items.length, 2);
    assert.equal(typeof first.body.next_cursor, 'string', 'a cursor when more follow');
    const second = await api('GET', q({ product: p1, limit: '2', cursor: first.body.next_cursor }));
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.body.items.map((i) => i.id), order.slice(2), 'the second page continues after the first');

    assert.deepEqual(ids(await allPages(q({ user_id: alice.id }), 1)), pick(0, 2, 4), 'user_id filter');
    assert.deepEqual(ids(await allPages(q({ user_id: bob.id }), 10)), pick(1));
    assert.deepEqual(ids(await allPages(q({ user_id: alice.id, product: p1 }), 10)), pick(0, 4), 'filters combine');
    assert.deepEqual(ids(await allPages(q({ product: p1, suspended: 'true' }), 10)), pick(1, 4), 'suspended=true');
    assert.deepEqual(ids(await allPages(q({ product: p1, suspended: 'false' }), 10)), pick(0, 3), 'suspended=false');
    assert.deepEqual(ids(await allPages(q({ user_id: alice.id, suspended: 'true' }), 10)), pick(4));
    assert.deepEqual(ids(await allPages(q({ product: `nothing-${unique()}` }), 10)), []);
    const all = (await allPages('/v1/licenses', 1000)).map((i) => i.id);
    for (const m of made) assert.ok(all.includes(m.id), 'the unfiltered list holds every license');

    assertValidation(await api('GET', '/v1/licenses?limit=0'), 'limit');
    assertValidation(await api('GET', '/v1/licenses?limit=1001'), 'limit');
    assertValidation(await api('GET', '/v1/licenses?suspended=maybe'), 'suspended');
    assertProblem(await api('GET', '/v1/licenses?cursor=***'), 400, 'invalid_cursor');
  });

  test('list: newest first, also for licenses made within the same millisecond', async () => {
    // Made one after the other: the list is the reverse of the creation order.
    const p = product('order');
    const made = [];
    for (let i = 0; i < 10; i++) made.push(await createLicense({ product: p }));
    const res = await api('GET', `/v1/licenses?product=${encodeURIComponent(p)}&limit=1000`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.items.map((l) => l.id), made.map((l) => l.id).reverse(), 'the reverse of the creation order');

    // Made at once (many share a millisecond): the list follows the licenses' own created_at, newest first.
    const q = product('order-burst');
    await Promise.all(Array.from({ length: 40 }, () => createLicense({ product: q })));
    const burst = await allPages(`/v1/licenses?product=${encodeURIComponent(q)}`, 7);
    assert.equal(burst.length, 40);
    const wrong = [];
    for (let i = 1; i < burst.length; i++)
      if (burst[i - 1].created_at < burst[i].created_at) wrong.push(`${burst[i - 1].created_at} before ${burst[i].created_at}`);
    assert.deepEqual(wrong, [], 'each license is listed after every newer one');
  });

  test('get and patch: suspend, extend expires_at, null clears expires_at and user_id, max_activations, metadata', async () => {
    const { user } = await signUp(server);
    const { user: other } = await signUp(server);
    const l = await createLicense({ user_id: user.id, expires_at: iso(Date.now() + 24 * HOUR_MS), max_activations: 2 });
    assert.deepEqual(await getLicense(l.id), l);

    const suspended = await api('PATCH', `/v1/licenses/${l.id}`, { suspended: true });
    assert.equal(suspended.status, 200, suspended.text);
    assertLicenseShape(suspended.body);
    assert.equal(suspended.body.suspended, true);
    assert.equal(suspended.body.key, l.key, 'the key never changes');
    assert.equal(suspended.body.product, l.product, 'untouched fields stay');
    assert.equal(suspended.body.user_id, user.id);
    assert.ok(suspended.body.updated_at >= l.updated_at, 'updated_at moves forward');
    assert.equal(suspended.body.created_at, l.created_at);

    const later = iso(Date.now() + 365 * 24 * HOUR_MS);
    const extended = await api('PATCH', `/v1/licenses/${l.id}`, {
      expires_at: later,
      max_activations: 7,
      suspended: false,
      product: `${l.product}-pro`,
      metadata: { order_id: 'ord_7' },
      user_id: other.id,
    });
    assert.equal(extended.status, 200, extended.text);
    assert.equal(Date.parse(extended.body.expires_at), Date.parse(later));
    assert.equal(extended.body.max_activations, 7);
    assert.equal(extended.body.suspended, false);
    assert.equal(extended.body.product, `${l.product}-pro`);
    assert.deepEqual(extended.body.metadata, { order_id: 'ord_7' });
    assert.equal(extended.body.user_id, other.id);

    const cleared = await api('PATCH', `/v1/licenses/${l.id}`, { expires_at: null, user_id: null });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.expires_at, null, 'null: never expires');
    assert.equal(cleared.body.user_id, null, 'null: no owner');
    assert.equal(cleared.body.max_activations, 7, 'untouched');

    const again = await getLicense(l.id);
    assert.deepEqual(again, cleared.body, 'GET shows the patched license');

    assertProblem(await api('GET', `/v1/licenses/${NO_SUCH_ID}`), 404, 'license_not_found');
    assertProblem(await api('PATCH', `/v1/licenses/${NO_SUCH_ID}`, { suspended: true }), 404, 'license_not_found');
    assertProblem(await api('DELETE', `/v1/licenses/${NO_SUCH_ID}`), 404, 'license_not_found');
    assertProblem(await api('GET', `/v1/licenses/${NO_SUCH_ID}/activations`), 404, 'license_not_found');
  });

  test('delete: 204, then 404 license_not_found everywhere, and the key no longer activates', async () => {
    const l = await createLicense({ max_activations: 2 });
    const act = await activate({ key: l.key, fingerprint: `fp-${unique()}` });
    assert.equal(act.status, 200, act.text);

    const del = await api('DELETE', `/v1/licenses/${l.id}`);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertProblem(await api('GET', `/v1/licenses/${l.id}`), 404, 'license_not_found');
    assertProblem(await api('DELETE', `/v1/licenses/${l.id}`), 404, 'license_not_found');
    assertProblem(await api('PATCH', `/v1/licenses/${l.id}`, { suspended: true }), 404, 'license_not_found');
    assertProblem(await api('GET', `/v1/licenses/${l.id}/activations`), 404, 'license_not_found');
    const list = await allPages(`/v1/licenses?product=${encodeURIComponent(l.product)}`, 100);
    assert.deepEqual(list, []);

    // A well-formed key that matches no license.
    assertProblem(await activate({ key: l.key, fingerprint: `fp-${unique()}` }), 404, 'license_not_found');
  });

  test("deleting the owner leaves the license without owner", async () => {
    const { user } = await signUp(server);
    const l = await createLicense({ user_id: user.id });
    const res = await api('DELETE', `/v1/users/${user.id}`, undefined, usersAdmin.token);
    assert.equal(res.status, 204, res.text);
    const orphan = await getLicense(l.id);
    assert.equal(orphan.user_id, null);
    assert.equal(orphan.key, l.key);
  });
});

// ---- GET /v1/me/licenses -----------------------------------------------------------------------------

describe('GET /v1/me/licenses', () => {
  test("a user sees their own licenses, with keys, paginated; nobody else's", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const a1 = await createLicense({ user_id: alice.user.id });
    const a2 = await createLicense({ user_id: alice.user.id, max_activations: 3 });
    const b1 = await createLicense({ user_id: bob.user.id });
    await createLicense(); // no owner

    const res = await server.request('GET', '/v1/me/licenses', { token: alice.token });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
    assert.equal(res.body.next_cursor, null);
    assert.deepEqual(
      res.body.items.map((i) => i.id).sort(),
      [a1.id, a2.id].sort(),
      'only her licenses',
    );
    for (const item of res.body.items) {
      assertLicenseShape(item);
      assert.equal(item.user_id, alice.user.id);
      assert.equal(item.key, [a1, a2].find((x) => x.id === item.id).key, 'the owner sees the key');
    }

    const page1 = await server.request('GET', '/v1/me/licenses?limit=1', { token: alice.token });
    assert.equal(page1.status, 200, page1.text);
    assert.equal(page1.body.items.length, 1);
    assert.equal(typeof page1.body.next_cursor, 'string');
    const page2 = await server.request('GET', `/v1/me/licenses?limit=1&cursor=${encodeURIComponent(page1.body.next_cursor)}`, {
      token: alice.token,
    });
    assert.equal(page2.status, 200, page2.text);
    assert.equal(page2.body.items.length, 1);
    assert.deepEqual([page1.body.items[0].id, page2.body.items[0].id].sort(), [a1.id, a2.id].sort());

    const bobs = await server.request('GET', '/v1/me/licenses', { token: bob.token });
    assert.equal(bobs.status, 200, bobs.text);
    assert.deepEqual(bobs.body.items.map((i) => i.id), [b1.id]);

    const carol = await signUp(server);
    const none = await server.request('GET', '/v1/me/licenses', { token: carol.token });
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.body, { items: [], next_cursor: null });

    assert.equal((await server.request('GET', '/v1/me/licenses')).status, 401);
    assertProblem(await server.request('GET', '/v1/me/licenses', { token: admin.token }), 403, 'user_required');
  });
});

// ---- activation --------------------------------------------------------------------------------------

describe('activation', () => {
  test('the token is an ES256 license+jwt that jose verifies against the JWKS, with the documented claims', async () => {
    const { user } = await signUp(server);
    const l = await createLicense({ user_id: user.id, max_activations: 2 });
    const fingerprint = `fp-${unique()}`;
    const t0 = Math.floor(Date.now() / 1000);
    const res = await activate({ key: l.key, fingerprint, hostname: 'build-box.local' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['activation_id', 'expires_at', 'license', 'token']);
    assert.match(res.body.activation_id, UUID_V7);
    assertLicenseShape(res.body.license, { withKey: false });
    assert.ok(!res.text.includes(l.key), 'the key is not in the answer');
    assert.equal(res.body.license.id, l.id);
    assert.equal(res.body.license.activations, 1);
    assert.match(res.body.expires_at, RFC3339_MICROS);

    const { payload, protectedHeader } = await verifyLicenseToken(res.body.token);
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.typ, 'license+jwt');
    assert.equal(typeof protectedHeader.kid, 'string');
    const kids = (await server.request('GET', '/.well-known/jwks.json')).body.keys.map((k) => k.kid);
    assert.ok(kids.includes(protectedHeader.kid), 'the kid is published');
    const discovery = await server.request('GET', '/.well-known/openid-configuration');
    assert.equal(payload.iss, discovery.body.issuer, 'iss is the server issuer');
    assert.equal(payload.aud, 'tessera:license');
    assert.equal(payload.sub, l.id);
    assert.equal(payload.license_id, l.id);
    assert.equal(payload.activation_id, res.body.activation_id);
    assert.equal(payload.project_id, projectId);
    assert.equal(payload.product, l.product);
    assert.equal(payload.fingerprint, fingerprint);
    assert.equal(payload.license_expires_at, null);
    assert.ok(payload.iat >= t0 - 5 && payload.iat <= Math.ceil(Date.now() / 1000) + 5, `iat ${payload.iat}`);
    assert.equal(payload.exp - payload.iat, TOKEN_TTL_SECONDS, 'exp is activation_token_ttl (7 days) from now');
    assert.equal(seconds(res.body.expires_at), payload.exp, 'expires_at is the token expiry');
    for (const claim of Object.keys(payload)) assert.ok(!String(payload[claim]).includes(l.key), `no key in ${claim}`);
    await assert.rejects(
      jose.jwtVerify(res.body.token, jwks, { audience: 'tessera:access' }),
      { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' },
      'only for the tessera:license audience',
    );

    const acts = await api('GET', `/v1/licenses/${l.id}/activations`, undefined, reader.token);
    assert.equal(acts.status, 200, acts.text);
    assert.deepEqual(Object.keys(acts.body).sort(), ['items', 'next_cursor']);
    assert.equal(acts.body.next_cursor, null);
    assert.equal(acts.body.items.length, 1);
    const [a] = acts.body.items;
    assert.deepEqual(Object.keys(a).sort(), ACTIVATION_FIELDS);
    assert.equal(a.id, res.body.activation_id);
    assert.equal(a.fingerprint, fingerprint);
    assert.equal(a.hostname, 'build-box.local');
    assert.match(a.created_at, RFC3339_MICROS);
    assert.match(a.last_activated_at, RFC3339_MICROS);
  });

  test('the token never outlives the license', async () => {
    const expiresMs = Date.now() + 2 * HOUR_MS;
    const l = await createLicense({ expires_at: iso(expiresMs) });
    const res = await activate({ key: l.key, fingerprint: `fp-${unique()}` });
    assert.equal(res.status, 200, res.text);
    const { payload } = await verifyLicenseToken(res.body.token);
    const licenseExp = seconds(l.expires_at);
    assert.equal(payload.license_expires_at, licenseExp, 'license_expires_at in unix seconds');
    assert.ok(payload.exp <= licenseExp, `exp ${payload.exp} not after the license's expiry ${licenseExp}`);
    assert.ok(payload.exp > Math.floor(Date.now() / 1000), 'exp in the future');
    assert.ok(seconds(res.body.expires_at) <= licenseExp, 'expires_at not after the license expiry');
  });

  test('the same fingerprint keeps its seat; a new one takes a seat; beyond max_activations 409', async () => {
    const l = await createLicense({ max_activations: 2 });
    const fp1 = `fp-${unique()}`;
    const first = await activate({ key: l.key, fingerprint: fp1, hostname: 'one' });
    assert.equal(first.status, 200, first.text);
    const seat = (await api('GET', `/v1/licenses/${l.id}/activations`)).body.items[0];
    await new Promise((r) => setTimeout(r, 20));
    const again = await activate({ key: l.key, fingerprint: fp1, hostname: 'one' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.activation_id, first.body.activation_id, 'the same seat');
    assert.equal(again.body.license.activations, 1, 'one seat for one fingerprint');
    assert.equal((await getLicense(l.id)).activations, 1);
    const { payload } = await verifyLicenseToken(again.body.token);
    assert.equal(payload.activation_id, first.body.activation_id);
    const afterAgain = (await api('GET', `/v1/licenses/${l.id}/activations`)).body.items;
    assert.equal(afterAgain.length, 1);
    assert.equal(afterAgain[0].created_at, seat.created_at);
    assert.ok(afterAgain[0].last_activated_at > seat.last_activated_at, 'last_activated_at updated');

    const second = await activate({ key: l.key, fingerprint: `fp-${unique()}` });
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.body.activation_id, first.body.activation_id);
    assert.equal(second.body.license.activations, 2);

    const third = await activate({ key: l.key, fingerprint: `fp-${unique()}` });
    assertProblem(third, 409, 'activation_limit');
    assert.equal((await getLicense(l.id)).activations, 2, 'the refused activation took no seat');

    // Those holding a seat still activate again at the limit.
    const refresh = await activate({ key: l.key, fingerprint: fp1 });
    assert.equal(refresh.status, 200, refresh.text);
  });

  test('20 concurrent activations with distinct fingerprints on 3 seats: exactly 3 succeed', async () => {
    const l = await createLicense({ max_activations: 3 });
    const fps = Array.from({ length: 20 }, (_, i) => `par-${i}-${unique()}`);
    const results = await Promise.all(fps.map((fingerprint) => activate({ key: l.key, fingerprint })));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 409);
    assert.equal(ok.length, 3, `statuses: ${JSON.stringify(results.map((r) => r.status))}`);
    assert.equal(limited.length, 17, `statuses: ${JSON.stringify(results.map((r) => r.status))}`);
    for (const r of limited) assertProblem(r, 409, 'activation_limit');
    assert.equal(new Set(ok.map((r) => r.body.activation_id)).size, 3);

    const got = await getLicense(l.id);
    assert.equal(got.activations, 3, 'three seats in use');
    const acts = await api('GET', `/v1/licenses/${l.id}/activations`);
    assert.equal(acts.status, 200, acts.text);
    const wonFps = ok.map((r) => fps[results.indexOf(r)]).sort();
    assert.deepEqual(acts.body.items.map((a) => a.fingerprint).sort(), wonFps, 'the seats are the winners');
  });

  test('10 concurrent activations of one fingerprint keep one seat', async () => {
    const l = await createLicense({ max_activations: 1 });
    const fingerprint = `same-${unique()}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => activate({ key: l.key, fingerprint })));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(10).fill(200),
      `all succeed: ${results.map((r) => `${r.status} ${r.body?.code ?? ''}`).join(', ')}`,
    );
    assert.equal(new Set(results.map((r) => r.body.activation_id)).size, 1, 'one activation');
    assert.equal((await getLicense(l.id)).activations, 1);
  });

  test('deactivation frees a seat; unknown activation 404', async () => {
    const l = await createLicense({ max_activations: 1 });
    const fp1 = `fp-${unique()}`;
    const fp2 = `fp-${unique()}`;
    assert.equal((await activate({ key: l.key, fingerprint: fp1 })).status, 200);
    assertProblem(await activate({ key: l.key, fingerprint: fp2 }), 409, 'activation_limit');

    const off = await deactivate({ key: l.key, fingerprint: fp1 });
    assert.equal(off.status, 204, off.text);
    assert.equal((await getLicense(l.id)).activations, 0, 'the seat is free');
    assert.deepEqual((await api('GET', `/v1/licenses/${l.id}/activations`)).body.items, []);

    const now2 = await activate({ key: l.key, fingerprint: fp2 });
    assert.equal(now2.status, 200, now2.text);
    assert.equal(now2.body.license.activations, 1);

    assertProblem(await deactivate({ key: l.key, fingerprint: fp1 }), 404, 'activation_not_found');
    assertProblem(await deactivate({ key: l.key, fingerprint: `never-${unique()}` }), 404, 'activation_not_found');
    assert.equal((await getLicense(l.id)).activations, 1, 'a refused deactivation frees nothing');
    // Forgiving input for deactivation too.
    const offLower = await deactivate({ key: l.key.toLowerCase().replaceAll('-', ' '), fingerprint: fp2 });
    assert.equal(offLower.status, 204, offLower.text);
    assertProblem(await deactivate({ key: withWrongCheck(l.key), fingerprint: fp2 }), 400, 'invalid_license_key');

    // A key that matches no license.
    const gone = await createLicense();
    assert.equal((await api('DELETE', `/v1/licenses/${gone.id}`)).status, 204);
    const res = await deactivate({ key: gone.key, fingerprint: fp1 });
    assert.equal(res.status, 404, res.text);
    assert.ok(['activation_not_found', 'license_not_found'].includes(res.body.code), res.text);
  });

  test('lowering max_activations keeps the seats in use; new ones wait for free seats', async () => {
    const l = await createLicense({ max_activations: 2 });
    const [fp1, fp2, fp3] = [1, 2, 3].map((i) => `low-${i}-${unique()}`);
    assert.equal((await activate({ key: l.key, fingerprint: fp1 })).status, 200);
    assert.equal((await activate({ key: l.key, fingerprint: fp2 })).status, 200);
    const lowered = await api('PATCH', `/v1/licenses/${l.id}`, { max_activations: 1 });
    assert.equal(lowered.status, 200, lowered.text);
    assert.equal(lowered.body.max_activations, 1);
    assert.equal(lowered.body.activations, 2, 'seats in use are kept');
    assert.equal((await activate({ key: l.key, fingerprint: fp1 })).status, 200, 'a held seat still activates');
    assertProblem(await activate({ key: l.key, fingerprint: fp3 }), 409, 'activation_limit');
    assert.equal((await deactivate({ key: l.key, fingerprint: fp1 })).status, 204);
    assertProblem(await activate({ key: l.key, fingerprint: fp3 }), 409, 'activation_limit');
    assert.equal((await deactivate({ key: l.key, fingerprint: fp2 })).status, 204);
    assert.equal((await activate({ key: l.key, fingerprint: fp3 })).status, 200, 'a seat is free at last');

    const raised = await api('PATCH', `/v1/licenses/${l.id}`, { max_activations: 3 });
    assert.equal(raised.status, 200, raised.text);
    assert.equal((await activate({ key: l.key, fingerprint: fp1 })).status, 200, 'raising frees seats');
  });

  test('suspended: 403 license_suspended until lifted', async () => {
    const l = await createLicense({ max_activations: 2 });
    const fp = `fp-${unique()}`;
    assert.equal((await activate({ key: l.key, fingerprint: fp })).status, 200);
    assert.equal((await api('PATCH', `/v1/licenses/${l.id}`, { suspended: true })).status, 200);
    assertProblem(await activate({ key: l.key, fingerprint: fp }), 403, 'license_suspended');
    assertProblem(await activate({ key: l.key, fingerprint: `fp-${unique()}` }), 403, 'license_suspended');
    assert.equal((await api('PATCH', `/v1/licenses/${l.id}`, { suspended: false })).status, 200);
    assert.equal((await activate({ key: l.key, fingerprint: fp })).status, 200);
  });

  test('expired: 403 license_expired (created so, or patched so); extending it lets it activate again', async () => {
    const past = await createLicense({ expires_at: iso(Date.now() - HOUR_MS) });
    assertProblem(await activate({ key: past.key, fingerprint: `fp-${unique()}` }), 403, 'license_expired');

    const l = await createLicense({ expires_at: iso(Date.now() + HOUR_MS) });
    const fp = `fp-${unique()}`;
    assert.equal((await activate({ key: l.key, fingerprint: fp })).status, 200);
    const expired = await api('PATCH', `/v1/licenses/${l.id}`, { expires_at: iso(Date.now() - 1000) });
    assert.equal(expired.status, 200, expired.text);
    assertProblem(await activate({ key: l.key, fingerprint: fp }), 403, 'license_expired');
    const extended = await api('PATCH', `/v1/licenses/${l.id}`, { expires_at: iso(Date.now() + 24 * HOUR_MS) });
    assert.equal(extended.status, 200, extended.text);
    assert.equal((await activate({ key: l.key, fingerprint: fp })).status, 200);
    const never = await api('PATCH', `/v1/licenses/${past.id}`, { expires_at: null });
    assert.equal(never.status, 200, never.text);
    assert.equal((await activate({ key: past.key, fingerprint: `fp-${unique()}` })).status, 200);
  });

  test('keys: a wrong check character is 400 invalid_license_key; case, spaces, dashes, I/L/O are forgiven', async () => {
    const l = await createLicense({ max_activations: 10 });
    assertProblem(await activate({ key: withWrongCheck(l.key), fingerprint: `fp-${unique()}` }), 400, 'invalid_license_key');
    for (const bad of ['hello', '', 'AAAAA-AAAAA-AAAAA-AAAAA', `${l.key}-AAAAA`, l.key.replace(/.$/, 'U'), `${l.key.slice(0, -1)}!`]) {
      const res = await activate({ key: bad, fingerprint: `fp-${unique()}` });
      assert.ok(
        (res.status === 400 && res.body.code === 'invalid_license_key') || (res.status === 422 && bad === ''),
        `${JSON.stringify(bad)}: ${res.status} ${res.text}`,
      );
    }
    assert.equal((await getLicense(l.id)).activations, 0, 'no seat taken by a mistyped key');

    const variants = [
      l.key.toLowerCase().replaceAll('-', ' '),
      l.key.replaceAll('-', ''),
      ` ${l.key.toLowerCase()} `,
      l.key.replaceAll('1', 'I').replaceAll('0', 'O'),
      l.key.toLowerCase().replaceAll('1', 'l').replaceAll('0', 'o').replaceAll('-', ''),
    ];
    for (const [i, key] of variants.entries()) {
      const res = await activate({ key, fingerprint: `variant-${i}-${unique()}` });
      assert.equal(res.status, 200, `${JSON.stringify(key)}: ${res.status} ${res.text}`);
      assert.equal(res.body.license.id, l.id);
    }
    assert.equal((await getLicense(l.id)).activations, variants.length);
  });

  test('activation validation: key, fingerprint and hostname', async () => {
    const l = await createLicense({ max_activations: 5 });
    assertValidation(await activate({ fingerprint: 'fp' }), 'key');
    assertValidation(await activate({ key: 42, fingerprint: 'fp' }), 'key');
    assertValidation(await activate({ key: l.key, fingerprint: 42 }), 'fingerprint');
    assertValidation(await deactivate({ key: l.key }), 'fingerprint');
    assertValidation(await activate({ key: l.key }), 'fingerprint');
    assertValidation(await activate({ key: l.key, fingerprint: '' }), 'fingerprint');
    assertValidation(await activate({ key: l.key, fingerprint: 'f'.repeat(257) }), 'fingerprint');
    assertValidation(await activate({ key: l.key, fingerprint: 'bad\u0001fp' }), 'fingerprint');
    assertValidation(await activate({ key: l.key, fingerprint: 'fp', hostname: 'h'.repeat(257) }), 'hostname');
    assertProblem(await activate({ key: l.key, fingerprint: 'fp', seats: 2 }), 400, 'unknown_field');
    assert.equal((await getLicense(l.id)).activations, 0);

    const edge = await activate({ key: l.key, fingerprint: 'f'.repeat(256), hostname: 'h'.repeat(256) });
    assert.equal(edge.status, 200, edge.text);
    const bare = await activate({ key: l.key, fingerprint: `no-host-${unique()}` });
    assert.equal(bare.status, 200, bare.text);
    const seats = (await api('GET', `/v1/licenses/${l.id}/activations`)).body.items;
    assert.equal(seats.find((a) => a.id === bare.body.activation_id).hostname, null, 'no hostname: null');
    assert.equal(seats.find((a) => a.id === edge.body.activation_id).hostname, 'h'.repeat(256));
  });
});

// ---- events ------------------------------------------------------------------------------------------

describe('events', () => {
  test('license.created and license.activated reach a webhook, never with the key', async () => {
    const manager = await apiKeyToken(server, 'webhooks:manage');
    const rx = await startWebhookReceiver();
    try {
      const wh = await api('POST', '/v1/webhooks', { url: rx.url, events: ['license.created', 'license.activated'] }, manager.token);
      assert.equal(wh.status, 201, wh.text);
      rx.setSecret(wh.body.secret);

      const l = await createLicense({ max_activations: 2, metadata: { order_id: 'ord_ev' } });
      const fingerprint = `ev-${unique()}`;
      const act = await activate({ key: l.key, fingerprint, hostname: 'events-host' });
      assert.equal(act.status, 200, act.text);

      const [created] = await rx.waitFor((r) => r.json?.type === 'license.created' && r.json?.data?.license?.id === l.id, {
        timeoutMs: 15_000,
      });
      const [activated] = await rx.waitFor(
        (r) => r.json?.type === 'license.activated' && r.json?.data?.license?.id === l.id,
        { timeoutMs: 15_000 },
      );
      for (const req of [created, activated]) {
        assert.ok(req.signature.valid, `signature: ${req.signature.reason}`);
        assert.equal(req.json.project_id, projectId);
        assert.ok(!req.raw.includes(l.key), 'no key (with dashes) in the event');
        assert.ok(!req.raw.includes(l.key.replaceAll('-', '')), 'no key (without dashes) in the event');
        assert.ok(!req.raw.toLowerCase().includes(l.key.replaceAll('-', '').toLowerCase()), 'no key in any case');
        assert.ok(!('key' in req.json.data.license), 'the license of an event has no key field');
        assertLicenseShape(req.json.data.license, { withKey: false });
      }
      assert.deepEqual(Object.keys(created.json.data), ['license']);
      assert.equal(created.json.data.license.product, l.product);
      assert.deepEqual(created.json.data.license.metadata, { order_id: 'ord_ev' });
      assert.deepEqual(Object.keys(activated.json.data).sort(), ['activation_id', 'fingerprint', 'hostname', 'license']);
      assert.equal(activated.json.data.activation_id, act.body.activation_id);
      assert.equal(activated.json.data.fingerprint, fingerprint);
      assert.equal(activated.json.data.hostname, 'events-host');
      assert.ok(
        rx.requests.every((r) => ['license.created', 'license.activated'].includes(r.json?.type)),
        'only the subscribed events',
      );
      assert.equal((await api('DELETE', `/v1/webhooks/${wh.body.id}`, undefined, manager.token)).status, 204);
    } finally {
      await rx.close();
    }
  });
});

// ---- project isolation -------------------------------------------------------------------------------

describe('project isolation', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000' } });
    await createProject(srv.dataDir, 'second');
    await eventually(
      async () => (await srv.request('POST', '/v1/auth/signup', { json: { email: uniqueEmail(), password: PASSWORD } })).status === 400,
      { timeoutMs: 10_000, intervalMs: 250, what: 'the second project is known' },
    );
  });
  after(async () => {
    await srv?.close();
  });

  test("another project's key is not found; another project's key cannot see its licenses; users stay in their project", async () => {
    const [keyA, keyB] = await Promise.all([
      apiKeyToken(srv, 'licenses:read,licenses:write', 'default'),
      apiKeyToken(srv, 'licenses:read,licenses:write', 'second'),
    ]);
    const la = await createLicense({ max_activations: 5 }, { token: keyA.token, srv });
    const lb = await createLicense({ max_activations: 5 }, { token: keyB.token, srv });
    assert.notEqual(la.project_id, lb.project_id);

    // Activation names the project: header or body field.
    const fp = `iso-${unique()}`;
    assertProblem(
      await activate({ key: lb.key, fingerprint: fp }, { srv, headers: { 'x-tessera-project': 'default' } }),
      404,
      'license_not_found',
    );
    assertProblem(await activate({ key: lb.key, fingerprint: fp, project: 'default' }, { srv }), 404, 'license_not_found');
    assertProblem(
      await activate({ key: la.key, fingerprint: fp }, { srv, headers: { 'x-tessera-project': 'second' } }),
      404,
      'license_not_found',
    );
    const crossOff = await deactivate({ key: la.key, fingerprint: fp }, { srv, headers: { 'x-tessera-project': 'second' } });
    assert.equal(crossOff.status, 404, crossOff.text);
    assert.ok(['activation_not_found', 'license_not_found'].includes(crossOff.body.code), crossOff.text);
    const okB = await activate({ key: lb.key, fingerprint: fp }, { srv, headers: { 'x-tessera-project': 'second' } });
    assert.equal(okB.status, 200, okB.text);
    assert.equal(okB.body.license.id, lb.id);
    const okA = await activate({ key: la.key, fingerprint: fp, project: 'default' }, { srv });
    assert.equal(okA.status, 200, okA.text);
    const { payload } = await jose.jwtVerify(
      okB.body.token,
      jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', srv.url)),
      { audience: 'tessera:license', typ: 'license+jwt' },
    );
    assert.equal(payload.project_id, lb.project_id);

    // An API key of project A sees nothing of project B.
    for (const [method, p, json] of [
      ['GET', `/v1/licenses/${lb.id}`],
      ['PATCH', `/v1/licenses/${lb.id}`, { suspended: true }],
      ['GET', `/v1/licenses/${lb.id}/activations`],
      ['DELETE', `/v1/licenses/${lb.id}`],
    ]) {
      assertProblem(await api(method, p, json, keyA.token, srv), 404, 'license_not_found');
    }
    const listA = await api('GET', '/v1/licenses?limit=1000', undefined, keyA.token, srv);
    assert.equal(listA.status, 200, listA.text);
    assert.deepEqual(listA.body.items.map((i) => i.id), [la.id]);
    const stillB = await getLicense(lb.id, keyB.token, srv);
    assert.equal(stillB.suspended, false, 'untouched by project A');
    assert.equal(stillB.activations, 1);

    // A user of project B cannot own a license of project A.
    const inB = await signUp(srv, {}, { headers: { 'x-tessera-project': 'second' } });
    assertValidation(await api('POST', '/v1/licenses', { product: 'p', user_id: inB.user.id }, keyA.token, srv), 'user_id');
    assertValidation(await api('PATCH', `/v1/licenses/${la.id}`, { user_id: inB.user.id }, keyA.token, srv), 'user_id');
    const own = await createLicense({ user_id: inB.user.id }, { token: keyB.token, srv });
    assert.equal(own.user_id, inB.user.id);
    assert.equal((await api('GET', `/v1/licenses?user_id=${inB.user.id}`, undefined, keyA.token, srv)).body.items.length, 0);
  });
});

// ---- storage -----------------------------------------------------------------------------------------

describe('storage', () => {
  test('no key is stored in clear (SQLite: the database and its WAL; PostgreSQL: a dump)', async () => {
    const l = await createLicense({ max_activations: 2 });
    assert.equal((await activate({ key: l.key, fingerprint: `db-${unique()}` })).status, 200);
    const bytes = await storeContents(server);
    // The check is meaningful: what is stored in clear (the product names) is found.
    assert.ok(bytes.includes(Buffer.from(l.product)), 'the product of the last license is in what was read');
    assert.ok(allKeys.length >= 20, `keys made: ${allKeys.length}`);
    for (const key of allKeys) {
      const bare = key.replaceAll('-', '');
      for (const form of [key, bare, key.toLowerCase(), bare.toLowerCase()]) {
        assert.ok(!bytes.includes(Buffer.from(form)), `key ${key} found in clear as ${form}`);
        assert.ok(!bytes.includes(Buffer.from(form, 'utf16le')), `key ${key} found in UTF-16 as ${form}`);
      }
      // Looked up by a keyed hash: a plain hash of the key is not there either.
      for (const form of [key, bare]) {
        const sha = createHash('sha256').update(form).digest();
        assert.ok(!bytes.includes(sha), `plain SHA-256 of ${form} stored`);
        assert.ok(!bytes.includes(Buffer.from(sha.toString('hex'))), `plain SHA-256 hex of ${form} stored`);
      }
    }
  });
});
