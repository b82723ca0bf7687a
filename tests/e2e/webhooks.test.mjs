// Webhooks (docs/events.md, "Webhooks" and "Event payloads"): CRUD under webhooks:manage with a secret
// shown only on creation and rotation; signed POSTs with event and delivery ids; event filters; the
// payload of each event; retries with backoff until max_attempts; the deliveries log; loopback targets
// refused unless allowed; project isolation.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createProject, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  UUID_V7,
  assertProblem,
  assertUserShape,
  assertValidation,
  eventually,
  fieldErrors,
  logIn,
  signUp,
  unique,
  uniqueEmail,
  uniqueLogin,
} from '../support/api.mjs';
import { startWebhookReceiver } from '../support/webhooks.mjs';
import { findLink } from '../support/mime.mjs';
import {
  FAST_EVENTS_ENV,
  RFC3339,
  WEBHOOK_SECRET,
  apiKeyToken,
  confirmReset,
  grace,
  mailFilesTo,
  requestReset,
  waitForDeliveries,
} from '../support/events.mjs';

const MAX_ATTEMPTS = 6;
const NO_SUCH_ID = '01a21044-0000-7000-8000-000000000000';
const DELIVERY_FIELDS = [
  'id',
  'event_id',
  'event_type',
  'status',
  'attempts',
  'response_status',
  'last_error',
  'next_attempt_at',
  'created_at',
  'delivered_at',
].sort();

let server;
let admin; // every permission
let manager; // webhooks:manage only
const servers = [];
before(async () => {
  server = await startServer({
    env: { ...FAST_EVENTS_ENV, TESSERA_EVENTS_MAX_ATTEMPTS: String(MAX_ATTEMPTS), TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000' },
  });
  admin = await apiKeyToken(server, '*');
  manager = await apiKeyToken(server, 'webhooks:manage');
});
after(async () => {
  await server?.close();
  for (const s of servers) await s.close();
});

// Per test: receivers to close and webhooks to delete afterwards (so that nothing leaks into the next).
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

async function receiver(options) {
  const rx = await startWebhookReceiver(options);
  cleanup.push(() => rx.close());
  return rx;
}

const hooks = (method, path, json, token = manager.token, srv = server) => srv.request(method, path, { token, json });

async function createWebhook(json, { token = manager.token, srv = server } = {}) {
  const res = await hooks('POST', '/v1/webhooks', json, token, srv);
  assert.equal(res.status, 201, res.text);
  cleanup.push(() => hooks('DELETE', `/v1/webhooks/${res.body.id}`, undefined, token, srv));
  return res.body;
}

// A receiver plus a webhook pointing at it (secret set on the receiver). Returns { rx, wh }.
async function hookedReceiver(events = ['*'], { srv = server, token = manager.token, extra = {} } = {}) {
  const rx = await receiver();
  const wh = await createWebhook({ url: rx.url, events, ...extra }, { token, srv });
  rx.setSecret(wh.secret);
  return { rx, wh };
}

const ofType = (type) => (r) => r.json?.type === type;
const aboutUser = (id) => (r) => {
  const d = r.json?.data ?? {};
  return d.user?.id === id || d.user_id === id;
};
const both = (...ps) => (r) => ps.every((p) => p(r));

// Waits for one event of `type` about user `id` and returns its request.
async function eventFor(rx, type, id, timeoutMs = 10_000) {
  const [req] = await rx.waitFor(both(ofType(type), aboutUser(id)), { timeoutMs });
  return req;
}

function assertSignedDelivery(req, type) {
  assert.equal(req.method, 'POST');
  assert.match(req.headers['content-type'] ?? '', /^application\/json/);
  assert.match(req.headers['user-agent'] ?? '', /^Tessera\/\S+/);
  assert.equal(req.headers['tessera-event-type'], type);
  assert.ok(req.eventId, 'Tessera-Event-Id');
  assert.ok(req.deliveryId, 'Tessera-Delivery-Id');
  assert.match(req.headers['tessera-delivery-attempt'] ?? '', /^[1-9]\d*$/);
  assert.ok(req.signature.valid, `signature: ${req.signature.reason} (${req.headers['tessera-signature']})`);
  assert.equal(req.jsonError, null, 'the body is JSON');
  assert.deepEqual(Object.keys(req.json).sort(), ['created_at', 'data', 'id', 'project_id', 'type']);
  assert.equal(req.json.id, req.eventId, 'the body id is the event id');
  assert.equal(req.json.type, type);
  assert.match(req.json.created_at, RFC3339);
  assert.match(req.json.project_id, UUID_V7);
}

// ---- CRUD ------------------------------------------------------------------------------------------

describe('CRUD under webhooks:manage', () => {
  test('create shows the secret once; get, list and patch never do; delete; rotate-secret shows a new one', async () => {
    const created = await createWebhook({ url: 'https://hooks.example.test/tessera', events: ['user.created', 'user.deleted'], description: 'crm sync' });
    assert.match(created.id, UUID_V7);
    assert.equal(created.url, 'https://hooks.example.test/tessera');
    assert.deepEqual(created.events, ['user.created', 'user.deleted']);
    assert.equal(created.description, 'crm sync');
    assert.equal(created.active, true, 'active by default');
    assert.match(created.secret, WEBHOOK_SECRET);
    assert.match(created.created_at, RFC3339);

    const one = await hooks('GET', `/v1/webhooks/${created.id}`);
    assert.equal(one.status, 200, one.text);
    assert.ok(!('secret' in one.body), 'no secret in GET');
    assert.ok(!one.text.includes('whsec_') && !one.text.includes(created.secret));
    const { secret, ...withoutSecret } = created;
    assert.deepEqual(one.body, withoutSecret, 'GET shows what create showed, less the secret');

    const patched = await hooks('PATCH', `/v1/webhooks/${created.id}`, {
      url: 'http://hooks.example.test/v2',
      events: ['*'],
      description: 'all events',
      active: false,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.url, 'http://hooks.example.test/v2');
    assert.deepEqual(patched.body.events, ['*']);
    assert.equal(patched.body.description, 'all events');
    assert.equal(patched.body.active, false);
    assert.ok(!patched.text.includes('whsec_'), 'no secret in PATCH');

    const rotated = await hooks('POST', `/v1/webhooks/${created.id}/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    assert.match(rotated.body.secret, WEBHOOK_SECRET);
    assert.notEqual(rotated.body.secret, created.secret);
    assert.ok(!(await hooks('GET', `/v1/webhooks/${created.id}`)).text.includes('whsec_'));

    const del = await hooks('DELETE', `/v1/webhooks/${created.id}`);
    assert.equal(del.status, 204, del.text);
    const gone = await hooks('GET', `/v1/webhooks/${created.id}`);
    assert.equal(gone.status, 404, gone.text);
    assert.match(gone.body.code, /not_found$/);
    assert.equal((await hooks('DELETE', `/v1/webhooks/${created.id}`)).status, 404);
    assert.equal((await hooks('PATCH', `/v1/webhooks/${created.id}`, { active: true })).status, 404);
    assert.equal((await hooks('POST', `/v1/webhooks/${created.id}/rotate-secret`)).status, 404);
    assert.equal((await hooks('GET', `/v1/webhooks/${created.id}/deliveries`)).status, 404);
    assert.equal((await hooks('GET', `/v1/webhooks/${NO_SUCH_ID}`)).status, 404);
  });

  test('the list pages with limit and cursor and shows no secret', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createWebhook({ url: `https://hooks.example.test/${i}`, events: ['user.created'] })).id);
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await hooks('GET', `/v1/webhooks?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
      assert.ok(res.body.items.length <= 2);
      assert.ok(!res.text.includes('whsec_'), 'no secret in the list');
      seen.push(...res.body.items.map((w) => w.id));
      cursor = res.body.next_cursor;
      pages += 1;
      assert.ok(pages < 100);
    } while (cursor);
    for (const id of ids) assert.ok(seen.includes(id), `${id} listed`);
    assert.equal(new Set(seen).size, seen.length, 'none twice');
  });

  test('403 missing_permission webhooks:manage without the permission', async () => {
    const reader = await apiKeyToken(server, 'users:read,users:write');
    const wh = await createWebhook({ url: 'https://hooks.example.test/x', events: ['*'] });
    for (const [method, path, json] of [
      ['GET', '/v1/webhooks'],
      ['POST', '/v1/webhooks', { url: 'https://hooks.example.test/y', events: ['*'] }],
      ['GET', `/v1/webhooks/${wh.id}`],
      ['PATCH', `/v1/webhooks/${wh.id}`, { active: false }],
      ['DELETE', `/v1/webhooks/${wh.id}`],
      ['POST', `/v1/webhooks/${wh.id}/rotate-secret`],
      ['GET', `/v1/webhooks/${wh.id}/deliveries`],
    ]) {
      const body = assertProblem(await hooks(method, path, json, reader.token), 403, 'forbidden');
      assert.equal(body.missing_permission, 'webhooks:manage', `${method} ${path}`);
    }
    // A plain user's session has no administration rights either.
    const { token } = await signUp(server);
    assertProblem(await hooks('GET', '/v1/webhooks', undefined, token), 403, 'forbidden');
    assert.equal((await hooks('GET', `/v1/webhooks/${wh.id}`)).status, 200, 'still there');
  });

  test('validation: url scheme, credentials and length, unknown event types, types; 422 naming the field', async () => {
    const create = (json) => hooks('POST', '/v1/webhooks', json);
    for (const url of ['ftp://hooks.example.test/x', 'hooks.example.test/x', 'not a url', 'http://user:pw@hooks.example.test/x', 'javascript:alert(1)']) {
      assertValidation(await create({ url, events: ['*'] }), 'url');
    }
    assertValidation(await create({ url: `https://hooks.example.test/${'a'.repeat(2048)}`, events: ['*'] }), 'url');
    assertValidation(await create({ events: ['*'] }), 'url:required');
    assertValidation(await create({ url: 42, events: ['*'] }), 'url');
    const unknownType = await create({ url: 'https://hooks.example.test/x', events: ['user.created', 'user.exploded'] });
    assertProblem(unknownType, 422, 'validation_failed');
    assert.ok(fieldErrors(unknownType).some((f) => f.startsWith('events[1]') || f.startsWith('events:')), `${fieldErrors(unknownType)}`);
    assertValidation(await create({ url: 'https://hooks.example.test/x' }), 'events');
    assertValidation(await create({ url: 'https://hooks.example.test/x', events: [] }), 'events');
    assertValidation(await create({ url: 'https://hooks.example.test/x', events: 'user.created' }), 'events');
    assertValidation(await create({ url: 'https://hooks.example.test/x', events: ['*'], active: 'yes' }), 'active');
    assertProblem(await create({ url: 'https://hooks.example.test/x', events: ['*'], secret: 'mine' }), 400, 'unknown_field');

    const wh = await createWebhook({ url: 'https://hooks.example.test/ok', events: ['user.created', 'password.changed'] });
    assertValidation(await hooks('PATCH', `/v1/webhooks/${wh.id}`, { url: 'gopher://x' }), 'url');
    assertValidation(await hooks('PATCH', `/v1/webhooks/${wh.id}`, { events: ['nope'] }), 'events');
    assert.equal((await hooks('GET', `/v1/webhooks/${wh.id}`)).body.url, 'https://hooks.example.test/ok', 'unchanged');
  });
});

// ---- deliveries ------------------------------------------------------------------------------------

describe('deliveries', () => {
  test('a sign-up delivers user.created, signed, with event and delivery ids; the log says delivered', async () => {
    const { rx, wh } = await hookedReceiver(['user.created']);
    const { user } = await signUp(server);
    const req = await eventFor(rx, 'user.created', user.id);
    assertSignedDelivery(req, 'user.created');
    assert.equal(req.attempt, 1);
    assert.ok(req.signature.ageSeconds <= 60, 't is the time of sending');
    assert.equal(req.json.project_id, user.project_id);
    assertUserShape(req.json.data.user);
    assert.deepEqual(Object.keys(req.json.data), ['user']);
    assert.equal(req.json.data.user.id, user.id);
    assert.equal(req.json.data.user.email, user.email);
    assert.ok(!req.raw.includes('password') && !req.raw.includes('$argon2'), 'no password material');

    const items = await waitForDeliveries(server, manager.token, wh.id, (xs) => xs.some((d) => d.id === req.deliveryId && d.status === 'delivered'));
    const d = items.find((x) => x.id === req.deliveryId);
    assert.deepEqual(Object.keys(d).sort(), DELIVERY_FIELDS);
    assert.equal(d.event_id, req.eventId);
    assert.equal(d.event_type, 'user.created');
    assert.equal(d.attempts, 1);
    assert.equal(d.response_status, 200);
    assert.equal(d.last_error, null);
    assert.match(d.created_at, RFC3339);
    assert.match(d.delivered_at, RFC3339);
    const delivered = await hooks('GET', `/v1/webhooks/${wh.id}/deliveries?status=delivered`);
    assert.ok(delivered.body.items.some((x) => x.id === d.id));
    const pending = await hooks('GET', `/v1/webhooks/${wh.id}/deliveries?status=pending`);
    assert.ok(!pending.body.items.some((x) => x.id === d.id));
    assertValidation(await hooks('GET', `/v1/webhooks/${wh.id}/deliveries?status=lost`), 'status');
  });

  test('the deliveries log is newest first and pages with limit and cursor', async () => {
    const { rx, wh } = await hookedReceiver(['user.created']);
    const users = [];
    for (let i = 0; i < 3; i++) users.push((await signUp(server)).user);
    await rx.waitFor(3);
    await waitForDeliveries(server, manager.token, wh.id, (xs) => xs.length === 3 && xs.every((d) => d.status === 'delivered'));
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await hooks('GET', `/v1/webhooks/${wh.id}/deliveries?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
      pages += 1;
      assert.ok(pages < 10);
    } while (cursor);
    assert.equal(seen.length, 3);
    assert.equal(pages, 2);
    // Newest first: the last sign-up's event comes first.
    const byDelivery = new Map(rx.requests.map((r) => [r.deliveryId, r.json.data.user.id]));
    assert.deepEqual(seen.map((d) => byDelivery.get(d.id)), users.map((u) => u.id).reverse());
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].created_at >= seen[i].created_at, 'created_at descending');
  });

  test('a webhook gets only the events after its creation', async () => {
    const early = await signUp(server);
    const { rx } = await hookedReceiver(['user.created']);
    const late = await signUp(server);
    await eventFor(rx, 'user.created', late.user.id);
    await grace();
    assert.deepEqual(rx.matching(aboutUser(early.user.id)), []);
  });

  test('event filters: user.login only never gets user.created; "*" gets both; one event id, one delivery id per webhook', async () => {
    const a = await hookedReceiver(['user.login']);
    const b = await hookedReceiver(['*']);
    const { user, email } = await signUp(server);
    const login = await logIn(server, { email });
    assert.equal(login.status, 200);
    const bCreated = await eventFor(b.rx, 'user.created', user.id);
    const bLogin = await eventFor(b.rx, 'user.login', user.id);
    const aLogin = await eventFor(a.rx, 'user.login', user.id);
    assertSignedDelivery(bCreated, 'user.created');
    assertSignedDelivery(aLogin, 'user.login');
    assert.equal(aLogin.eventId, bLogin.eventId, 'the same event id for every webhook');
    assert.notEqual(aLogin.deliveryId, bLogin.deliveryId, 'a delivery id per webhook');
    assert.notEqual(bCreated.eventId, bLogin.eventId);
    await grace();
    assert.deepEqual(a.rx.matching(ofType('user.created')), [], 'the user.login webhook got no user.created');
  });

  test('an inactive or deleted webhook gets nothing', async () => {
    const live = await hookedReceiver(['user.created']);
    const inactive = await hookedReceiver(['user.created'], { extra: { active: false } });
    const deleted = await hookedReceiver(['user.created']);
    assert.equal((await hooks('DELETE', `/v1/webhooks/${deleted.wh.id}`)).status, 204);
    const { user } = await signUp(server);
    await eventFor(live.rx, 'user.created', user.id);
    await grace();
    assert.deepEqual(inactive.rx.requests, []);
    assert.deepEqual(deleted.rx.requests, []);
  });

  test('rotate-secret: later deliveries verify with the new secret, not the old one', async () => {
    const { rx, wh } = await hookedReceiver(['user.created']);
    const rotated = await hooks('POST', `/v1/webhooks/${wh.id}/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    rx.setSecret(rotated.body.secret);
    const { user } = await signUp(server);
    const req = await eventFor(rx, 'user.created', user.id);
    assert.ok(req.signature.valid, `new secret: ${req.signature.reason}`);
    assert.equal(rx.verify(req, wh.secret).valid, false, 'the old secret no longer verifies');
  });
});

// ---- payloads --------------------------------------------------------------------------------------

describe('event payloads', () => {
  test('user.login: {user, session_id, ip}', async () => {
    const { rx } = await hookedReceiver(['user.login']);
    const { user, email } = await signUp(server);
    const login = await logIn(server, { email });
    const req = await eventFor(rx, 'user.login', user.id);
    assertSignedDelivery(req, 'user.login');
    assert.deepEqual(Object.keys(req.json.data).sort(), ['ip', 'session_id', 'user']);
    assertUserShape(req.json.data.user);
    assert.equal(req.json.data.session_id, login.body.session.id);
    assert.equal(req.json.data.ip, '127.0.0.1');
  });

  test('user.login_failed: identifier, user_id (or null), reason invalid_credentials | user_inactive, ip', async () => {
    const { rx } = await hookedReceiver(['user.login_failed']);
    const { user, email } = await signUp(server);
    assert.equal((await logIn(server, { email, password: 'wrong password' })).status, 401);
    const wrong = await eventFor(rx, 'user.login_failed', user.id);
    assertSignedDelivery(wrong, 'user.login_failed');
    assert.deepEqual(wrong.json.data, { identifier: { email }, user_id: user.id, reason: 'invalid_credentials', ip: '127.0.0.1' });
    assert.ok(!wrong.raw.includes('wrong password'), 'the attempted password is not sent');

    const nobody = uniqueEmail('nobody');
    assert.equal((await logIn(server, { email: nobody })).status, 401);
    const [unknown] = await rx.waitFor((r) => r.json?.data?.identifier?.email === nobody);
    assert.deepEqual(unknown.json.data, { identifier: { email: nobody }, user_id: null, reason: 'invalid_credentials', ip: '127.0.0.1' });

    const login = uniqueLogin();
    const byLogin = await signUp(server, { login });
    assert.equal((await logIn(server, { login, password: 'wrong password' })).status, 401);
    const loginReq = await eventFor(rx, 'user.login_failed', byLogin.user.id);
    assert.deepEqual(loginReq.json.data.identifier, { login });

    const off = await signUp(server);
    assert.equal((await hooks('PATCH', `/v1/users/${off.user.id}`, { active: false }, admin.token)).status, 200);
    assert.equal((await logIn(server, { email: off.email })).status, 403);
    const inactive = await eventFor(rx, 'user.login_failed', off.user.id);
    assert.equal(inactive.json.data.reason, 'user_inactive');
  });

  test('session.revoked: logout, DELETE /v1/sessions/{id}, suspension', async () => {
    const { rx } = await hookedReceiver(['session.revoked']);
    const { user, email, token, session } = await signUp(server);
    const other = (await logIn(server, { email })).body.session;
    assert.equal((await server.request('DELETE', `/v1/sessions/${other.id}`, { token })).status, 204);
    const revoked = await rx.waitFor(both(ofType('session.revoked'), aboutUser(user.id)));
    assertSignedDelivery(revoked[0], 'session.revoked');
    assert.deepEqual(revoked[0].json.data, { user_id: user.id, session_ids: [other.id], reason: 'revoked' });

    assert.equal((await server.request('POST', '/v1/auth/logout', { token })).status, 204);
    const [logout] = await rx.waitFor((r) => r.json?.data?.reason === 'logout' && r.json.data.user_id === user.id);
    assert.deepEqual(logout.json.data, { user_id: user.id, session_ids: [session.id], reason: 'logout' });

    const s = await signUp(server);
    const s2 = (await logIn(server, { email: s.email })).body.session;
    assert.equal((await hooks('PATCH', `/v1/users/${s.user.id}`, { active: false }, admin.token)).status, 200);
    const [suspended] = await rx.waitFor((r) => r.json?.data?.reason === 'user_suspended' && r.json.data.user_id === s.user.id);
    assert.deepEqual([...suspended.json.data.session_ids].sort(), [s.session.id, s2.id].sort());
  });

  test('user.updated (PATCH /v1/me, admin PATCH, bulk-update) and user.deleted (admin, self) with the user as it was', async () => {
    const { rx } = await hookedReceiver(['user.updated', 'user.deleted']);
    const a = await signUp(server);
    const patched = await server.request('PATCH', '/v1/me', { token: a.token, json: { full_name: 'Renamed Person' } });
    assert.equal(patched.status, 200);
    const updated = await eventFor(rx, 'user.updated', a.user.id);
    assertSignedDelivery(updated, 'user.updated');
    assert.deepEqual(Object.keys(updated.json.data), ['user']);
    assertUserShape(updated.json.data.user);
    assert.equal(updated.json.data.user.full_name, 'Renamed Person');

    const del = await hooks('DELETE', `/v1/users/${a.user.id}`, undefined, admin.token);
    assert.equal(del.status, 204, del.text);
    const deleted = await eventFor(rx, 'user.deleted', a.user.id);
    assertSignedDelivery(deleted, 'user.deleted');
    assert.equal(deleted.json.data.user.email, a.email, 'as it was');
    assert.equal(deleted.json.data.user.full_name, 'Renamed Person');

    const b = await signUp(server);
    assert.equal((await server.request('DELETE', '/v1/me', { token: b.token, json: { password: PASSWORD } })).status, 204);
    const selfDeleted = await eventFor(rx, 'user.deleted', b.user.id);
    assert.equal(selfDeleted.json.data.user.email, b.email);

    const tag = `bulk-${unique()}`;
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await signUp(server, { tags: [tag] }));
    const bulk = await hooks('POST', '/v1/users/bulk-update', { where: { tags: { contains: tag } }, set: { full_name: 'Bulk Name' } }, admin.token);
    assert.equal(bulk.status, 200, bulk.text);
    for (const m of members) {
      const r = await eventFor(rx, 'user.updated', m.user.id);
      assert.equal(r.json.data.user.full_name, 'Bulk Name');
    }
    const eventIds = members.map((m) => rx.matching(both(ofType('user.updated'), aboutUser(m.user.id)))[0].eventId);
    assert.equal(new Set(eventIds).size, 3, 'one event per user');
  });

  test('user.created for administration-created users and guests; bulk-delete: one user.deleted per user', async () => {
    const { rx } = await hookedReceiver(['user.created', 'user.deleted']);
    const email = uniqueEmail('admin-made');
    const made = await hooks('POST', '/v1/users', { email, password: PASSWORD, full_name: 'Made By Admin' }, admin.token);
    assert.equal(made.status, 201, made.text);
    const createdReq = await eventFor(rx, 'user.created', made.body.id);
    assert.equal(createdReq.json.data.user.email, email);
    assert.equal(createdReq.json.data.user.full_name, 'Made By Admin');

    const guest = await server.request('POST', '/v1/auth/guest');
    assert.equal(guest.status, 201, guest.text);
    const guestReq = await eventFor(rx, 'user.created', guest.body.user.id);
    assert.equal(guestReq.json.data.user.is_guest, true);

    const tag = `bulk-del-${unique()}`;
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await signUp(server, { tags: [tag] }));
    const res = await hooks('POST', '/v1/users/bulk-delete', { where: { tags: { contains: tag } } }, admin.token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { matched: 3 });
    const ids = new Set();
    for (const m of members) {
      const r = await eventFor(rx, 'user.deleted', m.user.id);
      assert.equal(r.json.data.user.email, m.email, 'as it was');
      ids.add(r.eventId);
    }
    assert.equal(ids.size, 3, 'one event per user');
  });

  test('password.changed and session.revoked on a password change', async () => {
    const { rx } = await hookedReceiver(['password.changed', 'session.revoked']);
    const { user, email, token } = await signUp(server);
    const other = (await logIn(server, { email })).body.session;
    const res = await server.request('POST', '/v1/me/password', { token, json: { old_password: PASSWORD, new_password: 'changed password' } });
    assert.equal(res.status, 204);
    const changed = await eventFor(rx, 'password.changed', user.id);
    assertSignedDelivery(changed, 'password.changed');
    assert.deepEqual(changed.json.data, { user_id: user.id, via: 'change' });
    const revoked = await eventFor(rx, 'session.revoked', user.id);
    assert.deepEqual(revoked.json.data, { user_id: user.id, session_ids: [other.id], reason: 'password_changed' });
    assert.ok(!changed.raw.includes('changed password'));
  });

  test('password.reset_requested (never the token), then password.changed via reset and session.revoked', async () => {
    const { rx } = await hookedReceiver(['password.reset_requested', 'password.changed', 'session.revoked']);
    const { user, email, session } = await signUp(server);
    assert.equal((await requestReset(server, email)).status, 202);
    const requested = await eventFor(rx, 'password.reset_requested', user.id);
    assertSignedDelivery(requested, 'password.reset_requested');
    assert.deepEqual(Object.keys(requested.json.data), ['user']);
    assert.equal(requested.json.data.user.id, user.id);
    assert.ok(!requested.raw.includes('tsc_'), 'no token in the event');

    const [mail] = await eventually(() => {
      const m = mailFilesTo(server.dataDir, email);
      return m.length > 0 ? m : false;
    }, { timeoutMs: 10_000, what: 'the reset mail (mode log)' });
    const link = findLink(mail.text);
    assert.ok(link, mail.text);
    assert.ok(!requested.raw.includes(link.token));
    assert.equal((await confirmReset(server, link.token, 'reset password 1')).status, 204);
    const changed = await eventFor(rx, 'password.changed', user.id);
    assert.deepEqual(changed.json.data, { user_id: user.id, via: 'reset' });
    const revoked = await eventFor(rx, 'session.revoked', user.id);
    assert.deepEqual(revoked.json.data, { user_id: user.id, session_ids: [session.id], reason: 'password_reset' });
  });

  test('email.verification_requested: {user, email}, never the token', async () => {
    const { rx } = await hookedReceiver(['email.verification_requested']);
    const { user, email, token } = await signUp(server);
    assert.equal((await server.request('POST', '/v1/auth/verify-email', { token })).status, 202);
    const req = await eventFor(rx, 'email.verification_requested', user.id);
    assertSignedDelivery(req, 'email.verification_requested');
    assert.deepEqual(Object.keys(req.json.data).sort(), ['email', 'user']);
    assert.equal(req.json.data.email, email);
    assert.ok(!req.raw.includes('tsc_'));
  });
});

// ---- retries -------------------------------------------------------------------------------------

describe('retries', () => {
  test('500 then 200: retried with backoff, the same delivery id, attempts counting up; the log follows', async () => {
    const { rx, wh } = await hookedReceiver(['user.created']);
    rx.setStatus(500);
    const { user } = await signUp(server);
    await rx.waitFor(aboutUser(user.id), { count: 2 });
    // While failing: pending, with the last answer and error.
    const pending = await waitForDeliveries(server, manager.token, wh.id, (xs) => xs.some((d) => d.status === 'pending' && d.attempts >= 2 && d.response_status === 500));
    const p = pending.find((d) => d.status === 'pending');
    assert.ok(p.last_error, 'last_error says why');
    assert.match(p.next_attempt_at, RFC3339);
    assert.equal(p.delivered_at, null);
    rx.setStatus(200);

    const items = await waitForDeliveries(server, manager.token, wh.id, (xs) => xs.some((d) => d.status === 'delivered'));
    const d = items.find((x) => x.status === 'delivered');
    const reqs = rx.matching(aboutUser(user.id));
    assert.equal(d.attempts, reqs.length, 'one attempt per request received');
    assert.ok(reqs.length >= 3);
    assert.equal(d.response_status, 200);
    assert.deepEqual(reqs.map((r) => r.attempt), reqs.map((_, i) => i + 1), 'Tessera-Delivery-Attempt counts up');
    assert.deepEqual(reqs.map((r) => r.status), [...reqs.slice(0, -1).map(() => 500), 200]);
    for (const r of reqs) {
      assert.equal(r.deliveryId, d.id, 'the same delivery id on every retry');
      assert.equal(r.eventId, reqs[0].eventId);
      assert.equal(r.raw, reqs[0].raw, 'the same body');
      assert.ok(r.signature.valid, r.signature.reason);
    }
    // Backoff: retry_base 200 ms doubling (±20 %): lower bounds only.
    assert.ok(reqs[1].receivedAt - reqs[0].receivedAt >= 150, `first retry after ${reqs[1].receivedAt - reqs[0].receivedAt} ms`);
    assert.ok(reqs[2].receivedAt - reqs[1].receivedAt >= 300, `second retry after ${reqs[2].receivedAt - reqs[1].receivedAt} ms`);
  });

  test(`max_attempts (${MAX_ATTEMPTS}) reached: status failed, no more attempts`, async () => {
    const { rx, wh } = await hookedReceiver(['user.created']);
    rx.setStatus(503);
    const { user } = await signUp(server);
    const items = await waitForDeliveries(server, manager.token, wh.id, (xs) => xs.some((d) => d.status === 'failed'), { timeoutMs: 20_000 });
    const d = items.find((x) => x.status === 'failed');
    assert.equal(d.attempts, MAX_ATTEMPTS);
    assert.equal(d.response_status, 503);
    assert.ok(d.last_error);
    assert.equal(d.delivered_at, null);
    await grace(1500);
    const reqs = rx.matching(aboutUser(user.id));
    assert.equal(reqs.length, MAX_ATTEMPTS, 'no attempt after the last');
    assert.deepEqual(reqs.map((r) => r.attempt), Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1));
    const failed = await hooks('GET', `/v1/webhooks/${wh.id}/deliveries?status=failed`);
    assert.ok(failed.body.items.some((x) => x.id === d.id));
  });

  test('redirects are not followed: a 302 is a failed attempt', async () => {
    const { rx, wh } = await hookedReceiver(['user.created']);
    rx.respondWith((r) => (r.path === '/hook' ? { status: 302, headers: { location: rx.urlFor('elsewhere') } } : 200));
    const { user } = await signUp(server);
    await waitForDeliveries(server, manager.token, wh.id, (xs) => xs.some((d) => d.attempts >= 1 && d.response_status === 302));
    assert.deepEqual(rx.matching((r) => r.path === '/elsewhere'), [], 'the redirect target was never called');
    assert.ok(rx.matching(aboutUser(user.id)).length >= 1);
  });

  test('a slow webhook does not hold up a healthy one', async () => {
    const bad = await hookedReceiver(['user.created']);
    bad.rx.respondWith(() => ({ status: 200, delayMs: 5000 }));
    const good = await hookedReceiver(['user.created']);
    const { user } = await signUp(server);
    // Both deliveries are due at once; the healthy one must not wait for the slow one's answer.
    await eventFor(good.rx, 'user.created', user.id, 3000);
  });
});

// ---- refused targets -------------------------------------------------------------------------------

describe('private targets', () => {
  test('without webhook_allow_private a loopback target is refused at delivery time', async () => {
    const strict = await startServer({
      env: { TESSERA_EVENTS_RETRY_BASE: '200ms', TESSERA_EVENTS_RETRY_MAX: '1s', TESSERA_EVENTS_MAX_ATTEMPTS: '3' },
    });
    servers.push(strict);
    const key = await apiKeyToken(strict, 'webhooks:manage');
    const rx = await receiver();
    const byIp = await createWebhook({ url: rx.urlFor('ip'), events: ['user.created'] }, { token: key.token, srv: strict });
    const byName = await createWebhook(
      { url: `http://localhost:${rx.port}/name`, events: ['user.created'] },
      { token: key.token, srv: strict },
    );
    await signUp(strict);
    for (const wh of [byIp, byName]) {
      const items = await waitForDeliveries(strict, key.token, wh.id, (xs) => xs.some((d) => d.attempts >= 1 && d.last_error));
      const d = items.find((x) => x.last_error);
      assert.match(d.last_error, /not allowed/i, `last_error: ${d.last_error}`);
      assert.equal(d.response_status, null, 'no HTTP answer: never connected');
    }
    await grace();
    assert.deepEqual(rx.requests, [], 'the receiver got nothing');
  });
});

// ---- projects --------------------------------------------------------------------------------------

describe('project isolation', () => {
  test("a webhook never gets another project's events; another project's key cannot see it (404)", async () => {
    const srv = await startServer({ env: { ...FAST_EVENTS_ENV } });
    servers.push(srv);
    await createProject(srv.dataDir, 'second');
    await eventually(
      async () => (await srv.request('POST', '/v1/auth/signup', { json: { email: uniqueEmail(), password: PASSWORD } })).status === 400,
      { timeoutMs: 10_000, intervalMs: 250, what: 'the second project is known' },
    );
    const keyA = await apiKeyToken(srv, 'webhooks:manage', 'default');
    const keyB = await apiKeyToken(srv, 'webhooks:manage', 'second');
    const a = await hookedReceiver(['*'], { srv, token: keyA.token });
    const b = await hookedReceiver(['*'], { srv, token: keyB.token });

    const inB = await signUp(srv, {}, { headers: { 'x-tessera-project': 'second' } });
    const inA = await signUp(srv, {}, { headers: { 'x-tessera-project': 'default' } });
    const bReq = await eventFor(b.rx, 'user.created', inB.user.id);
    const aReq = await eventFor(a.rx, 'user.created', inA.user.id);
    assert.equal(bReq.json.project_id, inB.user.project_id);
    assert.equal(aReq.json.project_id, inA.user.project_id);
    assert.notEqual(aReq.json.project_id, bReq.json.project_id);
    await grace();
    assert.ok(a.rx.requests.every((r) => r.json?.project_id === inA.user.project_id), 'A got only A events');
    assert.ok(b.rx.requests.every((r) => r.json?.project_id === inB.user.project_id), 'B got only B events');

    for (const [method, path, json] of [
      ['GET', `/v1/webhooks/${a.wh.id}`],
      ['PATCH', `/v1/webhooks/${a.wh.id}`, { active: false }],
      ['POST', `/v1/webhooks/${a.wh.id}/rotate-secret`],
      ['GET', `/v1/webhooks/${a.wh.id}/deliveries`],
      ['DELETE', `/v1/webhooks/${a.wh.id}`],
    ]) {
      const res = await hooks(method, path, json, keyB.token, srv);
      assert.equal(res.status, 404, `${method} ${path} from project B: ${res.text}`);
    }
    const listB = await hooks('GET', '/v1/webhooks?limit=1000', undefined, keyB.token, srv);
    assert.ok(!listB.body.items.some((w) => w.id === a.wh.id));
    const stillA = await hooks('GET', `/v1/webhooks/${a.wh.id}`, undefined, keyA.token, srv);
    assert.equal(stillA.status, 200);
    assert.equal(stillA.body.active, true, 'untouched by project B');
  });
});
