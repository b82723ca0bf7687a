// Guests: POST /v1/auth/guest, and a guest becoming a full user through PATCH /v1/me.
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
  logIn,
  uniqueEmail,
  uniqueLogin,
} from '../support/api.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

async function newGuest() {
  const res = await server.request('POST', '/v1/auth/guest');
  assert.equal(res.status, 201, res.text);
  return { res, user: res.body.user, session: res.body.session, token: res.body.session.token };
}

const patch = (token, json) => server.request('PATCH', '/v1/me', { token, json });

describe('POST /v1/auth/guest', () => {
  test('201 {user, session} with is_guest true and no identifiers', async () => {
    const { res, user, session } = await newGuest();
    assert.deepEqual(Object.keys(res.body).sort(), ['session', 'user']);
    assertUserShape(user);
    assertIssuedSession(session);
    assert.equal(user.is_guest, true);
    assert.equal(user.email, null);
    assert.equal(user.login, null);
    assert.equal(user.phone, null);
    assert.equal(user.active, true);
    assert.equal(user.email_verified, false);
    assert.deepEqual(user.tags, []);
    assert.deepEqual(user.data, {});
    assert.ok(cookieFrom(res.setCookies, 'tessera_session'));
    assert.ok(cookieFrom(res.setCookies, 'tessera_csrf'));
  });

  test('the guest session works and every guest is a new user', async () => {
    const a = await newGuest();
    const b = await newGuest();
    assert.notEqual(a.user.id, b.user.id);
    const me = await server.request('GET', '/v1/me', { token: a.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.id, a.user.id);
    assert.equal(me.body.is_guest, true);
  });

  test('an empty JSON object is accepted; unknown fields are not', async () => {
    const ok = await server.request('POST', '/v1/auth/guest', { json: {} });
    assert.equal(ok.status, 201, ok.text);
    const named = await server.request('POST', '/v1/auth/guest', { json: { project: 'default' } });
    assert.equal(named.status, 201, named.text);
    const bad = await server.request('POST', '/v1/auth/guest', { json: { email: uniqueEmail() } });
    assertProblem(bad, 400, 'unknown_field');
  });

  test('a guest can keep data without becoming a full user', async () => {
    const { token } = await newGuest();
    const res = await patch(token, { data: { cart: [1, 2] }, full_name: 'Anonymous' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.is_guest, true);
    assert.deepEqual(res.body.data, { cart: [1, 2] });
  });
});

describe('a guest becoming a full user', () => {
  test('PATCH with email + password: is_guest false, same id and session, and the user can log in', async () => {
    const { token, user } = await newGuest();
    const email = uniqueEmail('converted');
    const res = await patch(token, { email, password: PASSWORD, data: { from: 'guest' } });
    assert.equal(res.status, 200, res.text);
    assertUserShape(res.body);
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.is_guest, false);
    assert.equal(res.body.email, email);
    assert.deepEqual(res.body.data, { from: 'guest' });
    assertNoSecrets(res);

    const me = await server.request('GET', '/v1/me', { token });
    assert.equal(me.status, 200, 'the guest session lives on');
    assert.equal(me.body.is_guest, false);

    const login = await logIn(server, { email });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.user.id, user.id);
    assert.equal(login.body.user.is_guest, false);
  });

  test('login + password works too', async () => {
    const { token, user } = await newGuest();
    const name = uniqueLogin('guest');
    const res = await patch(token, { login: name, password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.is_guest, false);
    const login = await logIn(server, { login: name });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.user.id, user.id);
  });

  test('an identifier without a password is 422 naming password', async () => {
    const { token } = await newGuest();
    const email = uniqueEmail();
    assertValidation(await patch(token, { email }), 'password:required');
    const me = await server.request('GET', '/v1/me', { token });
    assert.equal(me.body.is_guest, true);
    assert.equal(me.body.email, null);
    assertProblem(await logIn(server, { email }), 401, 'invalid_credentials');
  });

  test('a password without an identifier is 422 naming the identifier', async () => {
    const { token } = await newGuest();
    assertValidation(await patch(token, { password: PASSWORD }), 'email:required');
  });

  test('the password rules apply', async () => {
    const { token } = await newGuest();
    assertValidation(await patch(token, { email: uniqueEmail(), password: 'short' }), 'password:too_short');
    assertValidation(await patch(token, { email: 'not-an-email', password: PASSWORD }), 'email:format');
  });

  test('an identifier taken by another user is 409 identifier_taken', async () => {
    const email = uniqueEmail();
    const first = await server.request('POST', '/v1/auth/signup', { json: { email, password: PASSWORD } });
    assert.equal(first.status, 201);
    const { token } = await newGuest();
    assertProblem(await patch(token, { email: email.toUpperCase(), password: PASSWORD }), 409, 'identifier_taken');
    assert.equal((await server.request('GET', '/v1/me', { token })).body.is_guest, true);
  });

  test('once converted, password goes through POST /v1/me/password', async () => {
    const { token } = await newGuest();
    const email = uniqueEmail();
    assert.equal((await patch(token, { email, password: PASSWORD })).status, 200);
    assertValidation(await patch(token, { password: 'another password' }), 'password:not_allowed');
    const change = await server.request('POST', '/v1/me/password', {
      token,
      json: { old_password: PASSWORD, new_password: 'another password' },
    });
    assert.equal(change.status, 204, change.text);
    assert.equal((await logIn(server, { email, password: 'another password' })).status, 200);
  });
});

describe('guest self-service limits', () => {
  test('POST /v1/me/password for a guest is 422 no_password', async () => {
    const { token } = await newGuest();
    const res = await server.request('POST', '/v1/me/password', {
      token,
      json: { old_password: PASSWORD, new_password: 'another password' },
    });
    assertValidation(res, 'old_password:no_password');
  });

  test('a guest deletes itself without a password', async () => {
    const { token } = await newGuest();
    const res = await server.request('DELETE', '/v1/me', { token });
    assert.equal(res.status, 204, res.text);
    assertProblem(await server.request('GET', '/v1/me', { token }), 401, 'invalid_token');
  });
});
