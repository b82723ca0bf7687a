// POST /v1/auth/signup: identifiers, profile fields, the {user, session} shape, duplicates, validation,
// and the conventions every response follows (problem details, X-Request-Id).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../support/server.mjs';
import {
  PASSWORD,
  assertIssuedSession,
  assertNoSecrets,
  assertProblem,
  assertUserShape,
  assertValidation,
  cookieFrom,
  fieldErrors,
  signUp,
  uniqueEmail,
  uniqueLogin,
  uniquePhone,
} from '../support/api.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const signup = (json, options = {}) => server.request('POST', '/v1/auth/signup', { json, ...options });

describe('successful sign-up', () => {
  test('by email: 201 with {user, session} in the documented shape', async () => {
    const email = uniqueEmail();
    const res = await signup({ email, password: PASSWORD });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(Object.keys(res.body).sort(), ['session', 'user']);
    const { user, session } = res.body;
    assertUserShape(user);
    assertIssuedSession(session);
    assert.equal(user.email, email);
    assert.equal(user.login, null);
    assert.equal(user.phone, null);
    assert.equal(user.full_name, null);
    assert.equal(user.external_id, null);
    assert.deepEqual(user.tags, []);
    assert.deepEqual(user.data, {});
    assert.equal(user.avatar_url, null);
    assert.equal(user.active, true);
    assert.equal(user.email_verified, false);
    assert.equal(user.is_guest, false);
    assert.equal(user.created_at, user.updated_at);
    assertNoSecrets(res);
    // The session works at once, for the same user.
    const me = await server.request('GET', '/v1/me', { token: session.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.id, user.id);
    assertNoSecrets(me);
  });

  test('ids are UUIDv7 carrying the creation time; times are RFC 3339 UTC with microseconds', async () => {
    const { user, session } = await signUp(server);
    const idMillis = parseInt(user.id.replaceAll('-', '').slice(0, 12), 16);
    assert.equal(idMillis, Math.floor(Date.parse(user.created_at)), 'UUIDv7 timestamp = created_at (ms)');
    const sessionMillis = parseInt(session.id.replaceAll('-', '').slice(0, 12), 16);
    assert.ok(sessionMillis >= idMillis, 'the session is created after the user');
    assert.ok(Date.parse(session.expires_at) > Date.parse(user.created_at));
  });

  test('the sign-up response sets the session and CSRF cookies', async () => {
    const { res, session } = await signUp(server);
    const sessionCookie = cookieFrom(res.setCookies, 'tessera_session');
    const csrfCookie = cookieFrom(res.setCookies, 'tessera_csrf');
    assert.ok(sessionCookie, `Set-Cookie: ${res.setCookies}`);
    assert.equal(sessionCookie.value, session.token);
    assert.ok(csrfCookie);
    assert.equal(csrfCookie.value, session.csrf_token);
  });

  test('by login', async () => {
    const login = uniqueLogin('Alice');
    const res = await signup({ login, password: PASSWORD });
    assert.equal(res.status, 201, res.text);
    assertUserShape(res.body.user);
    assert.equal(res.body.user.login, login, 'the spelling is kept');
    assert.equal(res.body.user.email, null);
    assert.equal(res.body.user.phone, null);
    assertNoSecrets(res);
  });

  test('by phone (E.164)', async () => {
    const phone = uniquePhone();
    const res = await signup({ phone, password: PASSWORD });
    assert.equal(res.status, 201, res.text);
    assertUserShape(res.body.user);
    assert.equal(res.body.user.phone, phone);
    assert.equal(res.body.user.email, null);
    assert.equal(res.body.user.login, null);
  });

  test('E.164 phones of 7 and of 15 digits are accepted', async () => {
    const short = `+1${String(Date.now()).slice(-6)}`;
    const long = `+1${String(Date.now()).slice(-6)}${'9'.repeat(8)}`;
    for (const phone of [short, long]) {
      const res = await signup({ phone, password: PASSWORD });
      assert.equal(res.status, 201, `${phone}: ${res.text}`);
    }
  });

  test('with every identifier and the optional profile fields', async () => {
    const json = {
      email: uniqueEmail(),
      login: uniqueLogin(),
      phone: uniquePhone(),
      password: PASSWORD,
      full_name: 'Zoë Ünicode',
      external_id: 'crm-42',
      tags: ['vip', 'beta'],
      data: { plan: 'pro', age: 33, nested: { deep: [1, 2, { x: null }] }, flag: true },
    };
    const res = await signup(json);
    assert.equal(res.status, 201, res.text);
    const { user } = res.body;
    assertUserShape(user);
    for (const k of ['email', 'login', 'phone', 'full_name', 'external_id', 'tags', 'data'])
      assert.deepEqual(user[k], json[k], k);
    assertNoSecrets(res);
    const me = await server.request('GET', '/v1/me', { token: res.body.session.token });
    assert.equal(me.status, 200);
    for (const k of ['email', 'login', 'phone', 'full_name', 'external_id', 'tags', 'data'])
      assert.deepEqual(me.body[k], json[k], `stored ${k}`);
  });

  test('passwords of exactly 8 and exactly 1024 characters are accepted', async () => {
    assert.equal((await signup({ email: uniqueEmail(), password: '12345678' })).status, 201);
    assert.equal((await signup({ email: uniqueEmail(), password: 'p'.repeat(1024) })).status, 201);
    // Characters, not bytes: eight two-byte characters are enough.
    assert.equal((await signup({ email: uniqueEmail(), password: 'éééééééé' })).status, 201);
  });

  test('a body may name the project explicitly, and unknown keys inside data are free-form', async () => {
    const res = await signup({
      email: uniqueEmail(),
      password: PASSWORD,
      project: 'default',
      data: { anything: { goes: 'here' }, password_hint: 'not special' },
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.user.data, { anything: { goes: 'here' }, password_hint: 'not special' });
  });

  test('a +json media type and a charset parameter are JSON too', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD }, { contentType: 'application/vnd.api+json' });
    assert.equal(res.status, 201, res.text);
    const utf8 = await signup({ email: uniqueEmail(), password: PASSWORD }, { contentType: 'Application/JSON; charset=utf-8' });
    assert.equal(utf8.status, 201, utf8.text);
  });
});

describe('duplicates', () => {
  test('the same email in another letter case is 409 identifier_taken naming email', async () => {
    const email = uniqueEmail('Dup.Case');
    await signUp(server, { email });
    for (const variant of [email, email.toUpperCase(), email.toLowerCase()]) {
      const res = await signup({ email: variant, password: PASSWORD });
      const body = assertProblem(res, 409, 'identifier_taken');
      assert.deepEqual(fieldErrors(res), ['email:taken']);
      assert.ok(!body.detail.includes(PASSWORD));
    }
  });

  test('the same login in another letter case is 409 naming login', async () => {
    const login = uniqueLogin('MiXeD');
    await signUp(server, { login });
    const res = await signup({ login: login.toLowerCase(), password: PASSWORD });
    assertProblem(res, 409, 'identifier_taken');
    assert.deepEqual(fieldErrors(res), ['login:taken']);
    const upper = await signup({ login: login.toUpperCase(), password: PASSWORD });
    assertProblem(upper, 409, 'identifier_taken');
  });

  test('the same phone is 409 naming phone', async () => {
    const phone = uniquePhone();
    await signUp(server, { phone });
    const res = await signup({ phone, password: PASSWORD });
    assertProblem(res, 409, 'identifier_taken');
    assert.deepEqual(fieldErrors(res), ['phone:taken']);
  });

  test('concurrent sign-ups with one email: exactly one 201, the others 409', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => signup({ email: i % 2 ? email.toUpperCase() : email, password: PASSWORD })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409], results.map((r) => r.text).join('\n'));
    for (const r of results.filter((x) => x.status === 409)) assertProblem(r, 409, 'identifier_taken');
  });

  test('a refused duplicate does not create a user or change the first one', async () => {
    const email = uniqueEmail();
    const first = await signUp(server, { email, full_name: 'First' });
    const dup = await signup({ email: email.toUpperCase(), password: 'another password', full_name: 'Second' });
    assert.equal(dup.status, 409);
    const login = await server.request('POST', '/v1/auth/login', { json: { email, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.user.id, first.user.id);
    assert.equal(login.body.user.full_name, 'First');
    const other = await server.request('POST', '/v1/auth/login', { json: { email, password: 'another password' } });
    assertProblem(other, 401, 'invalid_credentials');
  });
});

describe('validation (422 validation_failed naming each field and rule)', () => {
  test('a malformed email', async () => {
    for (const email of ['not-an-email', 'a@b', '@example.com', 'a..b@example.com', 'a b@example.com']) {
      const res = await signup({ email, password: PASSWORD });
      assertValidation(res, 'email:format');
    }
  });

  test('a password shorter than 8 characters', async () => {
    assertValidation(await signup({ email: uniqueEmail(), password: '1234567' }), 'password:too_short');
    assertValidation(await signup({ email: uniqueEmail(), password: '' }), 'password:too_short');
    // Seven characters are too short even when they take 14 bytes.
    assertValidation(await signup({ email: uniqueEmail(), password: 'ééééééé' }), 'password:too_short');
  });

  test('a password longer than 1024 characters', async () => {
    assertValidation(await signup({ email: uniqueEmail(), password: 'p'.repeat(1025) }), 'password:too_long');
  });

  test('data over 64 KiB', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD, data: { blob: 'x'.repeat(65 * 1024) } });
    assertValidation(res, 'data:too_large');
  });

  test('more than 64 tags, and a tag over 64 characters (or empty)', async () => {
    const many = Array.from({ length: 65 }, (_, i) => `t${i}`);
    assertValidation(await signup({ email: uniqueEmail(), password: PASSWORD, tags: many }), 'tags:too_many');
    const long = await signup({ email: uniqueEmail(), password: PASSWORD, tags: ['ok', 'x'.repeat(65)] });
    assertValidation(long, 'tags[1]:length');
    const empty = await signup({ email: uniqueEmail(), password: PASSWORD, tags: [''] });
    assertValidation(empty, 'tags[0]:length');
    // The limits themselves are fine.
    const edge = await signup({
      email: uniqueEmail(),
      password: PASSWORD,
      tags: [...Array.from({ length: 63 }, (_, i) => `t${i}`), 'y'.repeat(64)],
    });
    assert.equal(edge.status, 201, edge.text);
  });

  test('a full_name over 256 characters', async () => {
    assertValidation(
      await signup({ email: uniqueEmail(), password: PASSWORD, full_name: 'n'.repeat(257) }),
      'full_name:too_long',
    );
  });

  test('a bad login and a bad phone', async () => {
    assertValidation(await signup({ login: 'ab', password: PASSWORD }), 'login:format');
    assertValidation(await signup({ login: '-starts-with-dash', password: PASSWORD }), 'login:format');
    assertValidation(await signup({ login: 'has space', password: PASSWORD }), 'login:format');
    assertValidation(await signup({ phone: '4155550123', password: PASSWORD }), 'phone:format');
    assertValidation(await signup({ phone: '+0155550123', password: PASSWORD }), 'phone:format');
    assertValidation(await signup({ phone: '+1415555012345678', password: PASSWORD }), 'phone:format');
    assertValidation(await signup({ phone: '+123456', password: PASSWORD }), 'phone:format');
    assertValidation(await signup({ phone: '+1 415 555 0123', password: PASSWORD }), 'phone:format');
  });

  test('no identifier at all', async () => {
    assertValidation(await signup({ password: PASSWORD }), 'email:required');
  });

  test('no password', async () => {
    assertValidation(await signup({ email: uniqueEmail() }), 'password:required');
  });

  test('an empty body names both the identifier and the password', async () => {
    const res = await server.request('POST', '/v1/auth/signup', { body: '', contentType: 'application/json' });
    assertValidation(res, ['email:required', 'password:required']);
  });

  test('several broken rules are all named in one answer', async () => {
    const res = await signup({ email: 'nope', password: 'short', tags: ['x'.repeat(65)], full_name: 'n'.repeat(300) });
    assertValidation(res, ['email:format', 'password:too_short', 'tags[0]:length', 'full_name:too_long']);
  });

  test('wrong JSON types are named with code type', async () => {
    assertValidation(await signup({ email: 42, password: PASSWORD }), 'email:type');
    assertValidation(await signup({ email: uniqueEmail(), password: 12345678 }), 'password:type');
    assertValidation(await signup({ email: uniqueEmail(), password: PASSWORD, tags: 'vip' }), 'tags:type');
    assertValidation(await signup({ email: uniqueEmail(), password: PASSWORD, tags: ['ok', 7] }), 'tags:type');
    assertValidation(await signup({ email: uniqueEmail(), password: PASSWORD, data: [1, 2] }), 'data:type');
    assertValidation(await signup({ email: uniqueEmail(), password: PASSWORD, full_name: { a: 1 } }), 'full_name:type');
    assertValidation(await signup({ email: null, password: PASSWORD, login: uniqueLogin() }), 'email:type');
  });

  test('several wrong types are all named', async () => {
    const res = await signup({ email: 1, login: true, password: [], data: 'x' });
    assertValidation(res, ['email:type', 'login:type', 'password:type', 'data:type']);
  });

  test('a wrong type and a broken rule in one request are both named', async () => {
    // API.md: "A validation error names every offending field."
    const res = await signup({ email: 42, password: 'short' });
    assertValidation(res, ['email:type', 'password:too_short']);
  });
});

describe('malformed requests', () => {
  test('malformed JSON is 400 malformed_json', async () => {
    for (const body of ['{"email": ', '{email: "a@b.co"}', '{"a":1}}', 'nul']) {
      const res = await server.request('POST', '/v1/auth/signup', { body, contentType: 'application/json' });
      assertProblem(res, 400, 'malformed_json');
    }
  });

  test('invalid UTF-8 and nesting deeper than 64 levels are 400 malformed_json', async () => {
    const badUtf8 = Buffer.concat([
      Buffer.from('{"email":"a@example.com","password":"1234567'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    assertProblem(
      await server.request('POST', '/v1/auth/signup', { body: badUtf8, contentType: 'application/json' }),
      400,
      'malformed_json',
    );
    const deep = `{"email":"${uniqueEmail()}","password":"${PASSWORD}","data":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`;
    assertProblem(
      await server.request('POST', '/v1/auth/signup', { body: deep, contentType: 'application/json' }),
      400,
      'malformed_json',
    );
    // Moderate nesting inside data is fine.
    const ok = `{"email":"${uniqueEmail()}","password":"${PASSWORD}","data":${'{"a":'.repeat(20)}1${'}'.repeat(20)}}`;
    assert.equal((await server.request('POST', '/v1/auth/signup', { body: ok, contentType: 'application/json' })).status, 201);
  });

  test('JSON that is not an object is 400 malformed_json', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      const res = await server.request('POST', '/v1/auth/signup', { body, contentType: 'application/json' });
      assertProblem(res, 400, 'malformed_json');
    }
  });

  test('an unknown field is 400 unknown_field naming it', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD, nickname: 'bob' });
    const body = assertProblem(res, 400, 'unknown_field');
    assert.match(body.detail, /nickname/);
    assert.deepEqual(fieldErrors(res), ['nickname:unknown_field']);
  });

  test('every unknown field is named', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD, nickname: 'bob', role: 'admin' });
    assertProblem(res, 400, 'unknown_field');
    assert.deepEqual(fieldErrors(res).sort(), ['nickname:unknown_field', 'role:unknown_field']);
  });

  test('a password_hash field is not accepted at sign-up', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD, password_hash: '$argon2id$v=19$m=8,t=1,p=1$x$y' });
    assertProblem(res, 400, 'unknown_field');
  });

  test('a body that is not JSON is 415 unsupported_media_type', async () => {
    const form = await server.request('POST', '/v1/auth/signup', {
      body: 'email=a%40b.co&password=12345678',
      contentType: 'application/x-www-form-urlencoded',
    });
    assertProblem(form, 415, 'unsupported_media_type');
    const text = await server.request('POST', '/v1/auth/signup', {
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
      contentType: 'text/plain',
    });
    assertProblem(text, 415, 'unsupported_media_type');
  });
});

describe('conventions', () => {
  test('every response carries an X-Request-Id, successes included', async () => {
    const ok = await signup({ email: uniqueEmail(), password: PASSWORD });
    assert.ok(ok.headers.get('x-request-id'));
    const bad = await signup({ email: 'x', password: PASSWORD });
    assert.ok(bad.headers.get('x-request-id'));
    assert.notEqual(ok.headers.get('x-request-id'), bad.headers.get('x-request-id'));
  });

  test('a valid incoming X-Request-Id is echoed, an invalid one replaced', async () => {
    const mine = 'e2e-req_1.abc';
    const ok = await signup({ email: uniqueEmail(), password: PASSWORD }, { headers: { 'x-request-id': mine } });
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get('x-request-id'), mine);
    const err = await signup({ email: 'bad', password: PASSWORD }, { headers: { 'x-request-id': mine } });
    assert.equal(err.status, 422);
    assert.equal(err.headers.get('x-request-id'), mine);
    for (const invalid of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const res = await signup({ email: 'bad', password: PASSWORD }, { headers: { 'x-request-id': invalid } });
      const id = res.headers.get('x-request-id');
      assert.ok(id && id !== invalid, `an invalid id (${invalid.slice(0, 20)}) is replaced`);
      assert.match(id, /^[A-Za-z0-9._-]{1,128}$/);
    }
  });

  test('problem details carry type, title, status, code and detail', async () => {
    const res = await signup({ email: 'x', password: 'y' });
    const body = assertProblem(res, 422, 'validation_failed');
    assert.match(body.type, /validation_failed/);
    assert.equal(body.title, 'Unprocessable Entity');
    assert.ok(Array.isArray(body.errors));
    for (const e of body.errors) assert.deepEqual(Object.keys(e).sort(), ['code', 'detail', 'field']);
  });
});
