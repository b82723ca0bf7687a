// POST /v1/auth/login: by email (any letter case), login and phone; one answer for every wrong
// credential; the session it issues, its cookies, and the login metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { metricValue, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  SESSION_TOKEN,
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

const login = (json, options = {}) => server.request('POST', '/v1/auth/login', { json, ...options });

async function metrics() {
  const res = await server.request('GET', '/metrics');
  assert.equal(res.status, 200);
  return {
    ok: metricValue(res.text, 'tessera_logins_total'),
    failed: metricValue(res.text, 'tessera_login_failures_total'),
  };
}

describe('successful login', () => {
  test('by email, in any letter case, returns 200 {user, session}', async () => {
    const email = `Mixed.Case-${Date.now()}@Example.COM`;
    const { user } = await signUp(server, { email });
    for (const variant of [email, email.toLowerCase(), email.toUpperCase()]) {
      const res = await login({ email: variant, password: PASSWORD });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['session', 'user']);
      assertUserShape(res.body.user);
      assertIssuedSession(res.body.session);
      assert.equal(res.body.user.id, user.id);
      assert.equal(res.body.user.email, email, 'the spelling given at sign-up is kept');
      assertNoSecrets(res);
    }
  });

  test('by login (letter case ignored)', async () => {
    const name = uniqueLogin('Bob');
    const { user } = await signUp(server, { login: name });
    for (const variant of [name, name.toLowerCase(), name.toUpperCase()]) {
      const res = await login({ login: variant, password: PASSWORD });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.id, user.id);
    }
  });

  test('by phone', async () => {
    const phone = uniquePhone();
    const { user } = await signUp(server, { phone });
    const res = await login({ phone, password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.user.id, user.id);
  });

  test('a user with several identifiers logs in with any of them', async () => {
    const fields = { email: uniqueEmail(), login: uniqueLogin(), phone: uniquePhone() };
    const { user } = await signUp(server, fields);
    for (const [k, v] of Object.entries(fields)) {
      const res = await login({ [k]: v, password: PASSWORD });
      assert.equal(res.status, 200, `${k}: ${res.text}`);
      assert.equal(res.body.user.id, user.id);
    }
  });

  test('a user with tags, data and a profile logs in', async () => {
    const email = uniqueEmail();
    await signUp(server, { email, full_name: 'Tag Holder', tags: ['vip'], data: { plan: 'pro' } });
    const res = await login({ email, password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.user.tags, ['vip']);
    assert.deepEqual(res.body.user.data, { plan: 'pro' });
  });

  test('the session is {id, token, expires_at, idle_expires_at, csrf_token}; each login issues a new one', async () => {
    const { email, session: first } = await signUp(server);
    const a = await login({ email, password: PASSWORD });
    const b = await login({ email, password: PASSWORD });
    for (const res of [a, b]) {
      assertIssuedSession(res.body.session);
      assert.match(res.body.session.token, SESSION_TOKEN);
      assert.match(res.body.session.token, /^tss_[A-Za-z0-9_-]{43}$/);
    }
    const tokens = new Set([first.token, a.body.session.token, b.body.session.token]);
    assert.equal(tokens.size, 3, 'tokens are unique');
    const ids = new Set([first.id, a.body.session.id, b.body.session.id]);
    assert.equal(ids.size, 3, 'session ids are unique');
    assert.notEqual(a.body.session.csrf_token, b.body.session.csrf_token);
    // Logging in again does not end earlier sessions.
    for (const token of tokens) assert.equal((await server.request('GET', '/v1/me', { token })).status, 200);
  });

  test('Set-Cookie: tessera_session (HttpOnly, SameSite=Lax) and tessera_csrf (readable)', async () => {
    const { email } = await signUp(server);
    const res = await login({ email, password: PASSWORD });
    assert.equal(res.status, 200);
    const session = cookieFrom(res.setCookies, 'tessera_session');
    const csrf = cookieFrom(res.setCookies, 'tessera_csrf');
    assert.ok(session, `Set-Cookie: ${JSON.stringify(res.setCookies)}`);
    assert.ok(csrf, `Set-Cookie: ${JSON.stringify(res.setCookies)}`);
    assert.equal(session.value, res.body.session.token);
    assert.equal(csrf.value, res.body.session.csrf_token);
    const attrs = (c) => c.attributes.split(';').slice(1).map((s) => s.trim().toLowerCase());
    assert.ok(attrs(session).includes('httponly'), session.attributes);
    assert.ok(attrs(session).includes('samesite=lax'), session.attributes);
    assert.ok(attrs(session).includes('path=/'), session.attributes);
    assert.ok(!attrs(session).includes('secure'), 'no Secure flag over plain http');
    assert.ok(!attrs(csrf).includes('httponly'), 'the CSRF cookie is readable by the page');
    assert.ok(attrs(csrf).includes('samesite=lax'), csrf.attributes);
    const maxAge = attrs(session).find((a) => a.startsWith('max-age='));
    assert.ok(maxAge, 'a persistent cookie');
    const lifetime = (Date.parse(res.body.session.expires_at) - Date.now()) / 1000;
    assert.ok(Math.abs(Number(maxAge.slice(8)) - lifetime) < 300, `${maxAge} matches expires_at`);
  });

  test('the cookie set at login authenticates', async () => {
    const { email } = await signUp(server);
    const res = await login({ email, password: PASSWORD });
    const cookie = `tessera_session=${cookieFrom(res.setCookies, 'tessera_session').value}`;
    const me = await server.request('GET', '/v1/me', { cookie });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.id, res.body.user.id);
  });

  test('a login request may name the project in the body', async () => {
    const { email } = await signUp(server);
    const res = await login({ email, password: PASSWORD, project: 'default' });
    assert.equal(res.status, 200, res.text);
  });
});

describe('refused credentials', () => {
  test('a wrong password and an unknown user get the same 401 invalid_credentials', async () => {
    const { email } = await signUp(server);
    const wrong = await login({ email, password: 'not the password' });
    const unknown = await login({ email: uniqueEmail('nobody'), password: 'not the password' });
    const wrongBody = assertProblem(wrong, 401, 'invalid_credentials');
    const unknownBody = assertProblem(unknown, 401, 'invalid_credentials');
    const strip = (b) => {
      const { request_id: _ignored, ...rest } = b;
      return rest;
    };
    assert.deepEqual(strip(wrongBody), strip(unknownBody), 'identical bodies');
    assert.equal(wrong.headers.get('content-type'), unknown.headers.get('content-type'));
    assert.equal(wrong.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
    assert.equal(wrong.headers.get('content-length'), unknown.headers.get('content-length'));
    assert.ok(!wrong.text.includes(email), 'the identifier is not echoed');
  });

  test('the same for login and phone identifiers', async () => {
    const name = uniqueLogin();
    const phone = uniquePhone();
    await signUp(server, { login: name, phone });
    const answers = [
      await login({ login: name, password: 'wrong password' }),
      await login({ login: uniqueLogin('ghost'), password: 'wrong password' }),
      await login({ phone, password: 'wrong password' }),
      await login({ phone: uniquePhone(), password: 'wrong password' }),
    ];
    const texts = answers.map((a) => {
      assertProblem(a, 401, 'invalid_credentials');
      return a.text;
    });
    assert.equal(new Set(texts).size, 1, 'one body for every refusal');
  });

  test('the password is case-sensitive and not trimmed', async () => {
    const { email } = await signUp(server);
    assertProblem(await login({ email, password: PASSWORD.toUpperCase() }), 401, 'invalid_credentials');
    assertProblem(await login({ email, password: ` ${PASSWORD}` }), 401, 'invalid_credentials');
    assertProblem(await login({ email, password: `${PASSWORD} ` }), 401, 'invalid_credentials');
  });

  test('an identifier of the wrong kind does not match', async () => {
    const email = uniqueEmail();
    await signUp(server, { email });
    assertProblem(await login({ login: email, password: PASSWORD }), 401, 'invalid_credentials');
  });
});

describe('request validation', () => {
  test('exactly one identifier: none is 422 required', async () => {
    const res = await login({ password: PASSWORD });
    assertValidation(res, 'email:required');
  });

  test('exactly one identifier: two are 422 ambiguous', async () => {
    const fields = { email: uniqueEmail(), login: uniqueLogin() };
    await signUp(server, fields);
    assertValidation(await login({ ...fields, password: PASSWORD }), 'email:ambiguous');
    assertValidation(await login({ email: fields.email, phone: uniquePhone(), password: PASSWORD }), 'email:ambiguous');
  });

  test('a missing password is 422 naming password', async () => {
    assertValidation(await login({ email: uniqueEmail() }), 'password:required');
  });

  test('an empty body names both the identifier and the password', async () => {
    // API.md: "A validation error names every offending field."
    const res = await login({});
    assertValidation(res, ['email:required', 'password:required']);
  });

  test('wrong types are 422 type', async () => {
    assertValidation(await login({ email: 7, password: PASSWORD }), 'email:type');
    assertValidation(await login({ email: uniqueEmail(), password: 12345678 }), 'password:type');
  });

  test('an unknown field is 400 unknown_field, malformed JSON 400, other media types 415', async () => {
    const unknown = await login({ email: uniqueEmail(), password: PASSWORD, remember_me: true });
    assertProblem(unknown, 400, 'unknown_field');
    assert.deepEqual(fieldErrors(unknown), ['remember_me:unknown_field']);
    assertProblem(
      await server.request('POST', '/v1/auth/login', { body: '{"email":', contentType: 'application/json' }),
      400,
      'malformed_json',
    );
    assertProblem(
      await server.request('POST', '/v1/auth/login', { body: 'email=a', contentType: 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    );
  });
});

describe('metrics', () => {
  test('tessera_logins_total and tessera_login_failures_total count logins', async () => {
    const { email } = await signUp(server);
    const before0 = await metrics();
    assert.equal(typeof before0.ok, 'number', 'tessera_logins_total is exported');
    assert.equal(typeof before0.failed, 'number', 'tessera_login_failures_total is exported');

    assert.equal((await login({ email, password: PASSWORD })).status, 200);
    const afterOk = await metrics();
    assert.equal(afterOk.ok, before0.ok + 1);
    assert.equal(afterOk.failed, before0.failed);

    assert.equal((await login({ email, password: 'wrong password' })).status, 401);
    assert.equal((await login({ email: uniqueEmail(), password: 'wrong password' })).status, 401);
    const afterFail = await metrics();
    assert.equal(afterFail.ok, afterOk.ok);
    assert.equal(afterFail.failed, afterOk.failed + 2);

    // A request refused before any credential is checked is neither.
    assert.equal((await login({ password: PASSWORD })).status, 422);
    const afterInvalid = await metrics();
    assert.deepEqual(afterInvalid, afterFail);
  });

  test('the request counter has the login route by status', async () => {
    await login({ email: uniqueEmail(), password: 'wrong password' });
    const res = await server.request('GET', '/metrics');
    const n = metricValue(res.text, 'tessera_http_requests_total', { route: 'POST /v1/auth/login', status: '401' });
    assert.ok(n >= 1, `tessera_http_requests_total for POST /v1/auth/login 401: ${n}`);
  });
});
