// Self-service on /v1/me: merge-patch of the profile and data, re-authentication for identifier
// changes, read-only attributes, password change and self-deletion.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../support/server.mjs';
import {
  PASSWORD,
  assertNoSecrets,
  assertProblem,
  assertUserShape,
  assertValidation,
  cookieFrom,
  fieldErrors,
  logIn,
  signUp,
  uniqueEmail,
  uniqueLogin,
  uniquePhone,
} from '../support/api.mjs';

const NEW_PASSWORD = 'a whole new password';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const patch = (token, json) => server.request('PATCH', '/v1/me', { token, json });
const getMe = (token) => server.request('GET', '/v1/me', { token });

describe('PATCH /v1/me: merge-patch', () => {
  test('data keys are merged, null removes a key, nested objects are merged', async () => {
    const { token, user } = await signUp(server, {
      data: { plan: 'free', keep: true, prefs: { theme: 'dark', lang: 'en', deep: { a: 1, b: 2 } }, list: [1, 2, 3] },
    });
    const res = await patch(token, {
      data: { plan: 'pro', prefs: { lang: null, tz: 'UTC', deep: { b: null, c: 3 } }, list: [9], added: { x: 1 } },
    });
    assert.equal(res.status, 200, res.text);
    assertUserShape(res.body);
    const expected = {
      plan: 'pro',
      keep: true,
      prefs: { theme: 'dark', tz: 'UTC', deep: { a: 1, c: 3 } },
      list: [9],
      added: { x: 1 },
    };
    assert.deepEqual(res.body.data, expected);
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.created_at, user.created_at);
    assert.ok(res.body.updated_at >= user.updated_at, 'updated_at moves forward');
    assert.deepEqual((await getMe(token)).body.data, expected, 'stored');

    const removed = await patch(token, { data: { keep: null, prefs: null } });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.body.data, { plan: 'pro', list: [9], added: { x: 1 } });
  });

  test('a nested object replaces a scalar, a scalar replaces an object', async () => {
    const { token } = await signUp(server, { data: { a: 1, b: { c: 2 } } });
    const res = await patch(token, { data: { a: { nested: true }, b: 'flat' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data, { a: { nested: true }, b: 'flat' });
  });

  test('"data": null empties data; an empty patch changes nothing', async () => {
    const { token } = await signUp(server, { full_name: 'Kept', data: { a: 1 } });
    const empty = await patch(token, {});
    assert.equal(empty.status, 200, empty.text);
    assert.equal(empty.body.full_name, 'Kept');
    assert.deepEqual(empty.body.data, { a: 1 });
    const cleared = await patch(token, { data: null });
    assert.equal(cleared.status, 200, cleared.text);
    assert.deepEqual(cleared.body.data, {});
    assert.equal(cleared.body.full_name, 'Kept');
  });

  test('full_name is set and cleared; other fields stay', async () => {
    const email = uniqueEmail();
    const { token } = await signUp(server, { email, tags: ['t1'], external_id: 'ext-1', data: { k: 'v' } });
    const set = await patch(token, { full_name: 'Ada Lovelace' });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.full_name, 'Ada Lovelace');
    assert.equal(set.body.email, email);
    assert.deepEqual(set.body.tags, ['t1']);
    assert.equal(set.body.external_id, 'ext-1');
    assert.deepEqual(set.body.data, { k: 'v' });
    const cleared = await patch(token, { full_name: null });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.full_name, null);
    assert.equal((await getMe(token)).body.full_name, null);
    assertNoSecrets(cleared);
  });

  test('invalid values are 422 naming the field', async () => {
    const { token } = await signUp(server);
    assertValidation(await patch(token, { full_name: 'n'.repeat(257) }), 'full_name:too_long');
    assertValidation(await patch(token, { data: 'text' }), 'data:type');
    assertValidation(await patch(token, { data: [1] }), 'data:type');
    assertValidation(await patch(token, { data: { blob: 'x'.repeat(65 * 1024) } }), 'data:too_large');
    assertValidation(await patch(token, { full_name: 12 }), 'full_name:type');
    assertValidation(
      await patch(token, { email: 'not-an-email', current_password: PASSWORD }),
      'email:format',
    );
  });

  test('unknown fields are 400, other media types 415', async () => {
    const { token } = await signUp(server);
    const res = await patch(token, { nickname: 'x' });
    assertProblem(res, 400, 'unknown_field');
    assert.deepEqual(fieldErrors(res), ['nickname:unknown_field']);
    assertProblem(
      await server.request('PATCH', '/v1/me', { token, body: 'full_name=x', contentType: 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    const mergePatch = await server.request('PATCH', '/v1/me', {
      token,
      body: JSON.stringify({ full_name: 'Merge Patch' }),
      contentType: 'application/merge-patch+json',
    });
    assert.equal(mergePatch.status, 200, mergePatch.text);
  });
});

describe('PATCH /v1/me: identifiers', () => {
  test('changing the email needs current_password: 422 when missing or wrong', async () => {
    const email = uniqueEmail();
    const { token } = await signUp(server, { email });
    const next = uniqueEmail('moved');
    assertValidation(await patch(token, { email: next }), 'current_password:required');
    assertValidation(await patch(token, { email: next, current_password: 'wrong password' }), 'current_password:incorrect');
    assert.equal((await getMe(token)).body.email, email, 'unchanged');
  });

  test('with the current password the email changes, email_verified resets and login follows', async () => {
    const email = uniqueEmail();
    const { token, user } = await signUp(server, { email });
    const next = uniqueEmail('moved');
    const res = await patch(token, { email: next, current_password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.email, next);
    assert.equal(res.body.email_verified, false);
    assertNoSecrets(res);
    const newLogin = await logIn(server, { email: next });
    assert.equal(newLogin.status, 200, newLogin.text);
    assert.equal(newLogin.body.user.id, user.id);
    assertProblem(await logIn(server, { email }), 401, 'invalid_credentials');
    // The old address is free again.
    assert.equal((await server.request('POST', '/v1/auth/signup', { json: { email, password: PASSWORD } })).status, 201);
  });

  test('changing login or phone needs the current password too', async () => {
    const { token } = await signUp(server, { login: uniqueLogin(), phone: uniquePhone() });
    const login = uniqueLogin('renamed');
    const phone = uniquePhone();
    assertValidation(await patch(token, { login }), 'current_password:required');
    assertValidation(await patch(token, { phone }), 'current_password:required');
    assertValidation(await patch(token, { login: null }), 'current_password:required');
    const res = await patch(token, { login, phone, current_password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.login, login);
    assert.equal(res.body.phone, phone);
    assert.equal((await logIn(server, { login })).status, 200);
    assert.equal((await logIn(server, { phone })).status, 200);
  });

  test('adding an email to a login-only user and removing an identifier', async () => {
    const login = uniqueLogin();
    const { token } = await signUp(server, { login });
    const email = uniqueEmail();
    const added = await patch(token, { email, current_password: PASSWORD });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.body.email, email);
    const removed = await patch(token, { login: null, current_password: PASSWORD });
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.body.login, null);
    assertProblem(await logIn(server, { login }), 401, 'invalid_credentials');
  });

  test('the last identifier cannot be removed', async () => {
    const { token } = await signUp(server);
    assertValidation(await patch(token, { email: null, current_password: PASSWORD }), 'email:required');
  });

  test("another user's email is 409 identifier_taken", async () => {
    const taken = await signUp(server);
    const { token } = await signUp(server);
    const res = await patch(token, { email: taken.email.toUpperCase(), current_password: PASSWORD });
    assertProblem(res, 409, 'identifier_taken');
    assert.deepEqual(fieldErrors(res), ['email:taken']);
  });

  test('no current_password is needed when the identifiers do not change', async () => {
    const { token, email } = await signUp(server);
    const res = await patch(token, { email, full_name: 'Same Email' });
    assert.equal(res.status, 200, res.text);
  });
});

describe('PATCH /v1/me: refused fields', () => {
  test('tags, external_id, active, email_verified and is_guest are read_only (422)', async () => {
    const { token } = await signUp(server, { tags: ['a'], external_id: 'e' });
    for (const [field, value] of [
      ['tags', ['admin']],
      ['external_id', 'other'],
      ['active', false],
      ['email_verified', true],
      ['is_guest', true],
    ]) {
      assertValidation(await patch(token, { [field]: value }), `${field}:read_only`);
    }
    const all = await patch(token, { tags: [], external_id: null, active: true });
    assertValidation(all, ['tags:read_only', 'external_id:read_only', 'active:read_only']);
    const me = (await getMe(token)).body;
    assert.deepEqual(me.tags, ['a']);
    assert.equal(me.external_id, 'e');
    assert.equal(me.active, true);
  });

  test('password in PATCH is refused (422 not_allowed) for a user who has one', async () => {
    const { token, email } = await signUp(server);
    assertValidation(await patch(token, { password: NEW_PASSWORD }), 'password:not_allowed');
    assertProblem(await logIn(server, { email, password: NEW_PASSWORD }), 401, 'invalid_credentials');
  });
});

describe('POST /v1/me/password', () => {
  const change = (token, json) => server.request('POST', '/v1/me/password', { token, json });

  test('a wrong old password is 422 naming old_password', async () => {
    const { token } = await signUp(server);
    assertValidation(await change(token, { old_password: 'wrong password', new_password: NEW_PASSWORD }), 'old_password:incorrect');
  });

  test('missing fields and a short new password are 422 naming them', async () => {
    const { token } = await signUp(server);
    assertValidation(await change(token, {}), ['old_password:required', 'new_password:required']);
    assertValidation(await change(token, { old_password: PASSWORD, new_password: 'short' }), 'new_password:too_short');
    assertValidation(
      await change(token, { old_password: PASSWORD, new_password: 'p'.repeat(1025) }),
      'new_password:too_long',
    );
    assertProblem(await change(token, { old_password: PASSWORD, new_password: NEW_PASSWORD, extra: 1 }), 400, 'unknown_field');
  });

  test('success: 204, other sessions revoked, this one lives, the new password logs in and the old does not', async () => {
    const { token, email, user } = await signUp(server);
    const other1 = (await logIn(server, { email })).body.session;
    const other2 = (await logIn(server, { email })).body.session;
    const stranger = await signUp(server);

    const res = await change(token, { old_password: PASSWORD, new_password: NEW_PASSWORD });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');

    for (const s of [other1, other2]) assertProblem(await getMe(s.token), 401, 'invalid_token');
    assert.equal((await getMe(token)).status, 200, 'the current session still works');
    assert.equal((await getMe(stranger.token)).status, 200, "other users' sessions are untouched");
    const list = await server.request('GET', '/v1/sessions', { token });
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].current, true);

    const fresh = await logIn(server, { email, password: NEW_PASSWORD });
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.user.id, user.id);
    assertProblem(await logIn(server, { email, password: PASSWORD }), 401, 'invalid_credentials');
    // The old password no longer confirms anything either.
    assertValidation(
      await patch(token, { email: uniqueEmail(), current_password: PASSWORD }),
      'current_password:incorrect',
    );
  });
});

describe('DELETE /v1/me', () => {
  const remove = (token, json) => server.request('DELETE', '/v1/me', { token, json });

  test('needs the password: 422 when missing or wrong', async () => {
    const { token } = await signUp(server);
    assertValidation(await remove(token, undefined), 'password:required');
    assertValidation(await remove(token, {}), 'password:required');
    assertValidation(await remove(token, { password: 'wrong password' }), 'password:incorrect');
    assertProblem(await remove(token, { password: PASSWORD, reason: 'bye' }), 400, 'unknown_field');
    assert.equal((await getMe(token)).status, 200, 'still there');
  });

  test('with the password: 204, cookies cleared, every session dead, login fails', async () => {
    const { token, email } = await signUp(server);
    const other = (await logIn(server, { email })).body.session;
    const res = await remove(token, { password: PASSWORD });
    assert.equal(res.status, 204, res.text);
    assert.equal(cookieFrom(res.setCookies, 'tessera_session')?.value, '');
    assertProblem(await getMe(token), 401, 'invalid_token');
    assertProblem(await getMe(other.token), 401, 'invalid_token');
    assertProblem(await logIn(server, { email }), 401, 'invalid_credentials');
    // The identifier can be registered again, as a new user.
    const again = await server.request('POST', '/v1/auth/signup', { json: { email, password: PASSWORD } });
    assert.equal(again.status, 201, again.text);
  });
});
