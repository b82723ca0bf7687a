// Administration of users: POST /v1/users (with a password or an imported password hash), GET, PATCH and
// DELETE /v1/users/{id}, GET /v1/users/lookup, POST /v1/users/bulk-update and /v1/users/bulk-delete,
// and the isolation of projects on all of them. (The filter language of GET /v1/users has its own file,
// filters.test.mjs.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';

import { createProject, runCli, sql, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  assertNoSecrets,
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
  uniquePhone,
} from '../support/api.mjs';

const NO_SUCH_ID = '01a21044-0000-7000-8000-000000000000';

// ---- helpers ---------------------------------------------------------------------------------------

async function cliKey(srv, permissions = 'users:*', project = 'default') {
  const r = await runCli(['apikey', 'create', '--data-dir', srv.dataDir, '--project', project, '--permissions', permissions, '--name', 't']);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

// client_credentials with HTTP Basic.
async function accessToken(srv, key) {
  const basic = Buffer.from(`${encodeURIComponent(key.id)}:${encodeURIComponent(key.secret)}`).toString('base64');
  const res = await srv.request('POST', '/v1/token', {
    json: { grant_type: 'client_credentials' },
    headers: { authorization: `Basic ${basic}` },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

// passlib's "adapted base64": standard alphabet, '.' for '+', no padding.
const ab64 = (buf) => buf.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');

// A passlib $pbkdf2-sha256$ hash of `password`, made here.
function pbkdf2Sha256(password, rounds = 29000, salt = randomBytes(16)) {
  const checksum = pbkdf2Sync(password, salt, rounds, 32, 'sha256');
  return `$pbkdf2-sha256$${rounds}$${ab64(salt)}$${ab64(checksum)}`;
}

// Fixed vectors (Node has neither bcrypt nor Argon2). The first bcrypt one is the published OpenBSD /
// Openwall test vector for "U*U"; the others were made once with libxcrypt's crypt() and libsodium's
// crypto_pwhash_str_alg() and are checked by logging in with their passwords below.
const VECTORS = {
  bcrypt2a: { password: 'U*U', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' },
  bcrypt2b: { password: 'imported bcrypt 2b secret', hash: '$2b$04$abcdefghijklmnopqrstuuLkwmSpbl/jT4oj8nNFLSWurG6yf2cP2' },
  bcrypt2y: { password: 'imported bcrypt 2y secret', hash: '$2y$05$ABCDEFGHIJKLMNOPQRSTUuTGi0N.NaBpwkKm3ZE8Btc8A8tpkG6Na' },
  argon2id: {
    password: 'imported argon2id secret',
    hash: '$argon2id$v=19$m=16384,t=2,p=1$JqF0t2d6LtBPk16dnghtJg$/wE2nJBo8QUDzovjif0Aa6+yibTjzcB4+q6i/Q+1R9g',
  },
  argon2i: {
    password: 'imported argon2i secret',
    hash: '$argon2i$v=19$m=8192,t=3,p=1$ylytSJwmXBxdtJsYB4LPrA$1v653lXPg+fFV2yVC5+LY1Yx4vYJ4UBvF31LU/qXZ/g',
  },
};

// The stored password hash of a user, read from the server's database.
async function storedHash(srv, userId) {
  const rows = await sql(srv, 'SELECT password_hash FROM users WHERE id = $1', [userId]);
  assert.equal(rows.length, 1, `user ${userId} stored`);
  return rows[0].password_hash;
}

// ---- one server, one key for the default project ----------------------------------------------------

let server;
let token;
before(async () => {
  server = await startServer();
  token = await accessToken(server, await cliKey(server, 'users:*'));
});
after(async () => {
  await server?.close();
});

const api = (method, urlPath, json, tok = token) => server.request(method, urlPath, { token: tok, json });

async function createUser(json) {
  const res = await api('POST', '/v1/users', json);
  assert.equal(res.status, 201, res.text);
  assertUserShape(res.body);
  return res.body;
}

async function getUser(id) {
  const res = await api('GET', `/v1/users/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

// A user made by an administrator with PASSWORD, and a session from logging in as that user.
async function userWithSession(fields = {}) {
  const email = uniqueEmail('adm');
  const user = await createUser({ email, password: PASSWORD, ...fields });
  const login = await logIn(server, { email });
  assert.equal(login.status, 200, login.text);
  return { user, email, token: login.body.session.token };
}

function assertSessionDead(res) {
  assert.ok(
    (res.status === 401 && ['invalid_token', 'session_expired'].includes(res.body?.code)) ||
      (res.status === 403 && res.body?.code === 'user_inactive'),
    `the session is refused: ${res.status} ${res.text}`,
  );
}

// ---- create -----------------------------------------------------------------------------------------

describe('POST /v1/users', () => {
  test('201 with every profile field; GET answers the same user', async () => {
    const email = uniqueEmail('Full');
    const login = uniqueLogin('Full');
    const phone = uniquePhone();
    const data = { plan: 'pro', age: 41, nested: { deep: [1, 'two', { three: true }], none: null } };
    const res = await api('POST', '/v1/users', {
      email,
      login,
      phone,
      full_name: 'Ada Lovelace',
      external_id: 'crm-42',
      tags: ['vip', 'beta'],
      data,
    });
    assert.equal(res.status, 201, res.text);
    const u = res.body;
    assertUserShape(u);
    assert.equal(u.email, email, 'the spelling is kept');
    assert.equal(u.login, login);
    assert.equal(u.phone, phone);
    assert.equal(u.full_name, 'Ada Lovelace');
    assert.equal(u.external_id, 'crm-42');
    assert.deepEqual(u.tags, ['vip', 'beta']);
    assert.deepEqual(u.data, data);
    assert.equal(u.avatar_url, null);
    assert.equal(u.active, true);
    assert.equal(u.email_verified, false);
    assert.equal(u.is_guest, false);
    assert.equal(u.last_request_at, null);
    assert.equal(u.created_at, u.updated_at);
    assertNoSecrets(res);
    assert.deepEqual(await getUser(u.id), u);
  });

  test('active and email_verified may be set at creation', async () => {
    const u = await createUser({ email: uniqueEmail(), active: false, email_verified: true });
    assert.equal(u.active, false);
    assert.equal(u.email_verified, true);
  });

  test('any one identifier suffices, external_id included; none is 422', async () => {
    assert.equal((await createUser({ login: uniqueLogin() })).email, null);
    assert.equal((await createUser({ phone: uniquePhone() })).login, null);
    const byExternal = await createUser({ external_id: `ext-${unique()}` });
    assert.equal(byExternal.email, null);
    assert.equal(byExternal.login, null);
    assert.equal(byExternal.phone, null);
    assertValidation(await api('POST', '/v1/users', { full_name: 'Nobody' }), 'email:required');
    assertValidation(await api('POST', '/v1/users', {}), 'email:required');
  });

  test('validation names every offending field', async () => {
    const res = await api('POST', '/v1/users', {
      email: 'not an email',
      login: '-bad login-',
      phone: '555-1234',
      full_name: 'x'.repeat(257),
      tags: ['ok', ''],
      password: 'short',
    });
    const got = assertValidation(res, ['email:format', 'login:format', 'phone:format', 'full_name:too_long', 'tags[1]:length', 'password:too_short']);
    assert.equal(got.length, 6, JSON.stringify(got));
    assertValidation(await api('POST', '/v1/users', { email: uniqueEmail(), tags: 'vip' }), 'tags:type');
    assertValidation(await api('POST', '/v1/users', { email: uniqueEmail(), data: [1, 2] }), 'data:type');
    assertValidation(await api('POST', '/v1/users', { email: uniqueEmail(), active: 'yes' }), 'active:type');
    assertValidation(
      await api('POST', '/v1/users', { email: uniqueEmail(), tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }),
      'tags:too_many',
    );
    assertValidation(await api('POST', '/v1/users', { email: uniqueEmail(), data: { blob: 'x'.repeat(70 * 1024) } }), 'data:too_large');
  });

  test('unknown fields are 400 unknown_field; server-owned fields cannot be set', async () => {
    for (const field of ['is_guest', 'id', 'created_at', 'password_hashh', 'roles', 'avatar_url']) {
      const res = await api('POST', '/v1/users', { email: uniqueEmail(), [field]: field === 'is_guest' ? true : 'x' });
      assertProblem(res, 400, 'unknown_field');
      assert.ok(fieldErrors(res).includes(`${field}:unknown_field`), res.text);
    }
  });

  test('duplicates are 409 identifier_taken naming the field; emails and logins regardless of case', async () => {
    const email = uniqueEmail('Dup');
    const login = uniqueLogin('Dup');
    const phone = uniquePhone();
    await createUser({ email, login, phone });
    const cases = [
      [{ email: email.toUpperCase() }, 'email'],
      [{ email }, 'email'],
      [{ login: login.toLowerCase() }, 'login'],
      [{ login: login.toUpperCase() }, 'login'],
      [{ phone }, 'phone'],
    ];
    for (const [json, field] of cases) {
      const res = await api('POST', '/v1/users', json);
      assertProblem(res, 409, 'identifier_taken');
      assert.deepEqual(fieldErrors(res), [`${field}:taken`], res.text);
    }
    // A sign-up collides with an administrator's user, and the other way round.
    assertProblem(await server.request('POST', '/v1/auth/signup', { json: { email, password: PASSWORD } }), 409, 'identifier_taken');
    const signed = await signUp(server);
    assertProblem(await api('POST', '/v1/users', { email: signed.email }), 409, 'identifier_taken');
  });

  test('needs a credential with users:write', async () => {
    assertProblem(await server.request('POST', '/v1/users', { json: { email: uniqueEmail() } }), 401, 'unauthenticated');
    const reader = await accessToken(server, await cliKey(server, 'users:read'));
    const res = await api('POST', '/v1/users', { email: uniqueEmail() }, reader);
    assert.equal(assertProblem(res, 403, 'forbidden').missing_permission, 'users:write');
  });
});

// ---- passwords --------------------------------------------------------------------------------------

describe('passwords: set by the administrator or imported as a hash', () => {
  test('a user created with a password logs in (200) by email, login and phone', async () => {
    const email = uniqueEmail('pw');
    const login = uniqueLogin('pw');
    const phone = uniquePhone();
    const password = 'an administrator chose this';
    const res = await api('POST', '/v1/users', { email, login, phone, password });
    assert.equal(res.status, 201, res.text);
    assertNoSecrets(res, password);
    for (const id of [{ email }, { login }, { phone }]) {
      const ok = await logIn(server, { ...id, password });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.user.id, res.body.id);
    }
    assertProblem(await logIn(server, { email, password: 'not the password' }), 401, 'invalid_credentials');
  });

  test('a user created without a password cannot log in', async () => {
    const email = uniqueEmail('nopw');
    await createUser({ email });
    assertProblem(await logIn(server, { email }), 401, 'invalid_credentials');
  });

  const imports = [
    ['bcrypt $2a$ (published vector)', () => VECTORS.bcrypt2a],
    ['bcrypt $2b$', () => VECTORS.bcrypt2b],
    ['bcrypt $2y$', () => VECTORS.bcrypt2y],
    ['Argon2id with other parameters', () => VECTORS.argon2id],
    ['Argon2i', () => VECTORS.argon2i],
    ['passlib PBKDF2-SHA256 made with node:crypto', () => ({ password: 'imported pbkdf2 secret', hash: pbkdf2Sha256('imported pbkdf2 secret') })],
    ['passlib PBKDF2-SHA256 with a long salt', () => ({ password: 'another pbkdf2 secret', hash: pbkdf2Sha256('another pbkdf2 secret', 1000, randomBytes(40)) })],
  ];
  for (const [name, vector] of imports) {
    test(`import ${name}: the original password logs in, is re-hashed to Argon2id, and keeps working`, async () => {
      const { password, hash } = vector();
      const email = uniqueEmail('imp');
      const res = await api('POST', '/v1/users', { email, password_hash: hash });
      assert.equal(res.status, 201, res.text);
      assertUserShape(res.body);
      assert.ok(!res.text.includes(hash), 'the hash is not echoed');
      assert.ok(!/password/i.test(res.text), 'no password field in the user');
      const id = res.body.id;
      assert.equal(await storedHash(server, id), hash, 'stored as given');

      assertProblem(await logIn(server, { email, password: `${password}x` }), 401, 'invalid_credentials');
      const first = await logIn(server, { email, password });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.user.id, id);

      const rehashed = await storedHash(server, id);
      assert.notEqual(rehashed, hash, 're-hashed at the first login');
      // The server runs with FAST_ENV: m=8192 KiB, t=1.
      assert.match(rehashed, /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/, 'with the current Argon2id parameters');
      const second = await logIn(server, { email, password });
      assert.equal(second.status, 200, second.text);
      assertProblem(await logIn(server, { email, password: 'wrong password' }), 401, 'invalid_credentials');
      assert.equal(await storedHash(server, id), rehashed, 'not re-hashed again');
    });
  }

  test('imports at the caps are accepted (not logged in: they are slow by design)', async () => {
    const atCaps = [
      '$2b$15$abcdefghijklmnopqrstuuLkwmSpbl/jT4oj8nNFLSWurG6yf2cP2',
      `$pbkdf2-sha256$2000000$${ab64(Buffer.alloc(16, 1))}$${ab64(Buffer.alloc(32, 7))}`, // formed, not computed
      '$argon2id$v=19$m=262144,t=16,p=1$JqF0t2d6LtBPk16dnghtJg$/wE2nJBo8QUDzovjif0Aa6+yibTjzcB4+q6i/Q+1R9g',
    ];
    for (const hash of atCaps) {
      const res = await api('POST', '/v1/users', { email: uniqueEmail('cap'), password_hash: hash });
      assert.equal(res.status, 201, `${hash}: ${res.text}`);
    }
  });

  test('over-cost and malformed hashes are 422 naming password_hash', async () => {
    const checksum = ab64(Buffer.alloc(32, 7));
    const salt = ab64(Buffer.alloc(16, 1));
    const refused = [
      '$2b$16$abcdefghijklmnopqrstuuLkwmSpbl/jT4oj8nNFLSWurG6yf2cP2', // bcrypt cost over 15
      '$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
      `$pbkdf2-sha256$3000000$${salt}$${checksum}`, // PBKDF2 rounds over 2,000,000
      `$pbkdf2-sha256$2000001$${salt}$${checksum}`,
      '$argon2id$v=19$m=262145,t=2,p=1$JqF0t2d6LtBPk16dnghtJg$/wE2nJBo8QUDzovjif0Aa6+yibTjzcB4+q6i/Q+1R9g', // > 256 MiB
      '$argon2id$v=19$m=16384,t=17,p=1$JqF0t2d6LtBPk16dnghtJg$/wE2nJBo8QUDzovjif0Aa6+yibTjzcB4+q6i/Q+1R9g', // t > 16
      'not a hash',
      '',
      'correct horse battery staple',
      '$2b$04$short',
      '$2x$04$abcdefghijklmnopqrstuuLkwmSpbl/jT4oj8nNFLSWurG6yf2cP2', // not a bcrypt variant we import
      '$2b$03$abcdefghijklmnopqrstuuLkwmSpbl/jT4oj8nNFLSWurG6yf2cP2', // cost under 4
      `$pbkdf2-sha256$0$${salt}$${checksum}`,
      `$pbkdf2-sha256$01000$${salt}$${checksum}`,
      `$pbkdf2-sha256$1000$${salt}$${ab64(Buffer.alloc(20, 7))}`, // a SHA-1 sized checksum
      `$pbkdf2-sha256$1000$${salt}+$${checksum}`,
      `$pbkdf2-sha512$1000$${salt}$${checksum}`,
      '$argon2d$v=19$m=16384,t=2,p=1$JqF0t2d6LtBPk16dnghtJg$/wE2nJBo8QUDzovjif0Aa6+yibTjzcB4+q6i/Q+1R9g',
      '$argon2id$v=16$m=16384,t=2,p=1$JqF0t2d6LtBPk16dnghtJg$/wE2nJBo8QUDzovjif0Aa6+yibTjzcB4+q6i/Q+1R9g',
      '$argon2id$v=19$m=16384,t=2,p=1$JqF0t2d6LtBPk16dnghtJg',
      '$1$saltsalt$cfUEJ3e2Z8hpf3bplBjvX/', // MD5-crypt
    ];
    for (const hash of refused) {
      const email = uniqueEmail('bad');
      const res = await api('POST', '/v1/users', { email, password_hash: hash });
      assertValidation(res, 'password_hash:format');
      assertProblem(await api('GET', `/v1/users/lookup?email=${encodeURIComponent(email)}`), 404, 'user_not_found');
    }
    assertValidation(await api('POST', '/v1/users', { email: uniqueEmail(), password_hash: 42 }), 'password_hash:type');
  });

  test('password and password_hash together are 422 (conflict)', async () => {
    const email = uniqueEmail('both');
    const res = await api('POST', '/v1/users', { email, password: PASSWORD, password_hash: VECTORS.bcrypt2b.hash });
    assertValidation(res, 'password_hash:conflict');
    assertProblem(await api('GET', `/v1/users/lookup?email=${encodeURIComponent(email)}`), 404, 'user_not_found');
  });
});

// ---- get --------------------------------------------------------------------------------------------

describe('GET /v1/users/{id}', () => {
  test('unknown and malformed ids are 404 user_not_found', async () => {
    for (const id of [NO_SUCH_ID, 'not-a-uuid', "x' OR '1'='1"]) {
      assertProblem(await api('GET', `/v1/users/${encodeURIComponent(id)}`), 404, 'user_not_found');
    }
  });

  test('needs users:read', async () => {
    const u = await createUser({ email: uniqueEmail() });
    assertProblem(await server.request('GET', `/v1/users/${u.id}`), 401, 'unauthenticated');
    const writer = await accessToken(server, await cliKey(server, 'users:write'));
    assert.equal(assertProblem(await api('GET', `/v1/users/${u.id}`, undefined, writer), 403, 'forbidden').missing_permission, 'users:read');
  });
});

// ---- patch ------------------------------------------------------------------------------------------

describe('PATCH /v1/users/{id}', () => {
  test('profile fields, tags (replaced) and data (merge-patch)', async () => {
    const u = await createUser({
      email: uniqueEmail(),
      full_name: 'Before',
      tags: ['a', 'b'],
      data: { keep: 1, nested: { x: 1, y: 2 }, drop: 'me', list: [1, 2] },
    });
    const login = uniqueLogin('patched');
    const phone = uniquePhone();
    const res = await api('PATCH', `/v1/users/${u.id}`, {
      full_name: 'After',
      login,
      phone,
      external_id: 'crm-7',
      tags: ['c'],
      data: { nested: { y: null, z: 3 }, drop: null, list: [3], added: { deep: true } },
    });
    assert.equal(res.status, 200, res.text);
    const p = res.body;
    assertUserShape(p);
    assert.equal(p.id, u.id);
    assert.equal(p.full_name, 'After');
    assert.equal(p.login, login);
    assert.equal(p.phone, phone);
    assert.equal(p.external_id, 'crm-7');
    assert.deepEqual(p.tags, ['c']);
    assert.deepEqual(p.data, { keep: 1, nested: { x: 1, z: 3 }, list: [3], added: { deep: true } });
    assert.equal(p.created_at, u.created_at);
    assert.ok(p.updated_at > u.updated_at, 'updated_at advances');
    assert.deepEqual(await getUser(u.id), p, 'GET sees the change');

    // null clears nullable fields; "data": null empties data; an empty body changes nothing but updated_at.
    const cleared = await api('PATCH', `/v1/users/${u.id}`, { full_name: null, external_id: null, tags: [], data: null });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.full_name, null);
    assert.equal(cleared.body.external_id, null);
    assert.deepEqual(cleared.body.tags, []);
    assert.deepEqual(cleared.body.data, {});
    const same = await api('PATCH', `/v1/users/${u.id}`, {});
    assert.equal(same.status, 200, same.text);
    assert.equal(same.body.login, login);
  });

  test('validation: 422 names the fields and changes nothing; unknown fields are 400', async () => {
    const u = await createUser({ email: uniqueEmail(), data: { a: 1 } });
    assertValidation(await api('PATCH', `/v1/users/${u.id}`, { email: 'nope', login: 'x', data: { a: 2 } }), ['email:format', 'login:format']);
    assertValidation(await api('PATCH', `/v1/users/${u.id}`, { data: 'text' }), 'data:type');
    assertValidation(await api('PATCH', `/v1/users/${u.id}`, { active: 'no' }), 'active:type');
    assertValidation(await api('PATCH', `/v1/users/${u.id}`, { tags: [1] }), 'tags:type');
    assertProblem(await api('PATCH', `/v1/users/${u.id}`, { password: PASSWORD }), 400, 'unknown_field');
    assertProblem(await api('PATCH', `/v1/users/${u.id}`, { is_guest: true }), 400, 'unknown_field');
    assertProblem(await api('PATCH', `/v1/users/${u.id}`, { created_at: '2020-01-01T00:00:00Z' }), 400, 'unknown_field');
    const now = await getUser(u.id);
    assert.deepEqual(now.data, { a: 1 });
    assert.equal(now.updated_at, u.updated_at);
    assertProblem(await api('PATCH', `/v1/users/${NO_SUCH_ID}`, { full_name: 'x' }), 404, 'user_not_found');
  });

  test('identifiers can be removed, but not the last one (422, as at creation)', async () => {
    const both = await createUser({ email: uniqueEmail('two'), login: uniqueLogin('two') });
    const res = await api('PATCH', `/v1/users/${both.id}`, { email: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.email, null);
    assert.equal(res.body.login, both.login);
    // POST /v1/users needs one of email, login, phone or external_id; a PATCH must not leave a user
    // with none (docs/behaviour.md: "A user keeps at least one identifier").
    for (const [fields, remove] of [
      [{ email: uniqueEmail('only') }, { email: null }],
      [{ external_id: `only-${unique()}` }, { external_id: null }],
      [{ login: uniqueLogin('only') }, { login: null }],
    ]) {
      const u = await createUser(fields);
      const refused = await api('PATCH', `/v1/users/${u.id}`, remove);
      assertValidation(refused, 'email:required');
      assert.deepEqual(await getUser(u.id), u, 'unchanged');
    }
  });

  test("taking another user's email or login is 409 identifier_taken", async () => {
    const a = await createUser({ email: uniqueEmail('A'), login: uniqueLogin('a') });
    const b = await createUser({ email: uniqueEmail('B') });
    let res = await api('PATCH', `/v1/users/${b.id}`, { email: a.email.toUpperCase() });
    assertProblem(res, 409, 'identifier_taken');
    assert.deepEqual(fieldErrors(res), ['email:taken']);
    res = await api('PATCH', `/v1/users/${b.id}`, { login: a.login });
    assertProblem(res, 409, 'identifier_taken');
    assert.deepEqual(fieldErrors(res), ['login:taken']);
    assert.equal((await getUser(b.id)).email, b.email, 'unchanged');
  });

  test('changing the email resets email_verified unless the same request sets it', async () => {
    const u = await createUser({ email: uniqueEmail('ver'), email_verified: true });
    assert.equal(u.email_verified, true);
    // Only the letter case: the same address, still verified.
    let res = await api('PATCH', `/v1/users/${u.id}`, { email: u.email.toUpperCase() });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.email, u.email.toUpperCase());
    assert.equal(res.body.email_verified, true);
    // Another address: no longer verified.
    res = await api('PATCH', `/v1/users/${u.id}`, { email: uniqueEmail('ver2') });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.email_verified, false);
    // Other changes do not touch it.
    res = await api('PATCH', `/v1/users/${u.id}`, { email_verified: true });
    assert.equal(res.body.email_verified, true);
    res = await api('PATCH', `/v1/users/${u.id}`, { full_name: 'x' });
    assert.equal(res.body.email_verified, true);
    // A new address and email_verified together: as the request says.
    res = await api('PATCH', `/v1/users/${u.id}`, { email: uniqueEmail('ver3'), email_verified: true });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.email_verified, true);
    assert.equal((await getUser(u.id)).email_verified, true);
  });

  test('active:false suspends: the session dies, login is 403 user_inactive; active:true restores login', async () => {
    const v = await userWithSession();
    assert.equal((await server.request('GET', '/v1/me', { token: v.token })).status, 200);

    const res = await api('PATCH', `/v1/users/${v.user.id}`, { active: false });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active, false);
    assertSessionDead(await server.request('GET', '/v1/me', { token: v.token }));
    assertProblem(await logIn(server, { email: v.email }), 403, 'user_inactive');
    assertProblem(await logIn(server, { email: v.email, password: 'wrong password' }), 401, 'invalid_credentials');
    // Still an administrable user.
    assert.equal((await getUser(v.user.id)).active, false);

    const back = await api('PATCH', `/v1/users/${v.user.id}`, { active: true });
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.active, true);
    const login = await logIn(server, { email: v.email });
    assert.equal(login.status, 200, login.text);
    assert.equal((await server.request('GET', '/v1/me', { token: login.body.session.token })).status, 200);
    // The session ended by the suspension stays ended.
    assertSessionDead(await server.request('GET', '/v1/me', { token: v.token }));
  });
});

// ---- delete -----------------------------------------------------------------------------------------

describe('DELETE /v1/users/{id}', () => {
  test("204; the user's session dies; 404 afterwards; the identifiers are free again", async () => {
    const v = await userWithSession({ login: uniqueLogin('del'), external_id: `del-${unique()}` });
    const res = await api('DELETE', `/v1/users/${v.user.id}`);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    assertSessionDead(await server.request('GET', '/v1/me', { token: v.token }));
    assertProblem(await api('GET', `/v1/users/${v.user.id}`), 404, 'user_not_found');
    assertProblem(await api('PATCH', `/v1/users/${v.user.id}`, { full_name: 'x' }), 404, 'user_not_found');
    assertProblem(await api('DELETE', `/v1/users/${v.user.id}`), 404, 'user_not_found');
    assertProblem(await api('GET', `/v1/users/lookup?email=${encodeURIComponent(v.email)}`), 404, 'user_not_found');
    assertProblem(await api('GET', `/v1/users/lookup?external_id=${encodeURIComponent(v.user.external_id)}`), 404, 'user_not_found');
    assertProblem(await logIn(server, { email: v.email }), 401, 'invalid_credentials');
    const again = await createUser({ email: v.email, login: v.user.login });
    assert.notEqual(again.id, v.user.id);
  });

  test('needs users:delete', async () => {
    const u = await createUser({ email: uniqueEmail() });
    const writer = await accessToken(server, await cliKey(server, 'users:read,users:write'));
    const res = await api('DELETE', `/v1/users/${u.id}`, undefined, writer);
    assert.equal(assertProblem(res, 403, 'forbidden').missing_permission, 'users:delete');
    await getUser(u.id);
  });
});

// ---- lookup -----------------------------------------------------------------------------------------

describe('GET /v1/users/lookup', () => {
  let u;
  before(async () => {
    u = await createUser({ email: uniqueEmail('Look.Up'), login: uniqueLogin('LookUp'), phone: uniquePhone(), external_id: `Ext-${unique()}` });
  });
  const lookup = (query) => api('GET', `/v1/users/lookup?${query}`);

  test('by email (any letter case), login (any letter case), phone and external_id', async () => {
    const queries = [
      `email=${encodeURIComponent(u.email)}`,
      `email=${encodeURIComponent(u.email.toUpperCase())}`,
      `email=${encodeURIComponent(u.email.toLowerCase())}`,
      `login=${encodeURIComponent(u.login)}`,
      `login=${encodeURIComponent(u.login.toUpperCase())}`,
      `phone=${encodeURIComponent(u.phone)}`,
      `external_id=${encodeURIComponent(u.external_id)}`,
    ];
    for (const q of queries) {
      const res = await lookup(q);
      assert.equal(res.status, 200, `${q}: ${res.text}`);
      assert.deepEqual(res.body, u, q);
    }
  });

  test('external_id is exact: another case or a prefix finds nobody', async () => {
    for (const q of [
      `external_id=${encodeURIComponent(u.external_id.toLowerCase())}`,
      `external_id=${encodeURIComponent(u.external_id.slice(0, -1))}`,
      `email=${encodeURIComponent(u.email.slice(0, -1))}`,
      `phone=${encodeURIComponent(u.phone.slice(0, -1))}`,
      'email=nobody%40example.com',
      `login=${encodeURIComponent("' OR '1'='1")}`,
    ]) {
      assertProblem(await lookup(q), 404, 'user_not_found');
    }
  });

  test('none or two identifiers are 422', async () => {
    assertValidation(await api('GET', '/v1/users/lookup'), 'email:required');
    assertValidation(await lookup('full_name=x'), 'email:required');
    assertValidation(await lookup(`email=${encodeURIComponent(u.email)}&login=${encodeURIComponent(u.login)}`), 'email:ambiguous');
    assertValidation(await lookup(`phone=${encodeURIComponent(u.phone)}&external_id=${encodeURIComponent(u.external_id)}`), 'email:ambiguous');
    assertValidation(await lookup(`email=${encodeURIComponent(u.email)}&email=${encodeURIComponent(u.email)}`), 'email:ambiguous');
  });
});

// ---- bulk update ------------------------------------------------------------------------------------

describe('POST /v1/users/bulk-update', () => {
  // `n` users tagged with a fresh group tag (and data.group), plus one outsider.
  async function group(n, extra = {}) {
    const tag = `g-${unique()}`;
    const members = [];
    for (let i = 0; i < n; i++) members.push(await userWithSession({ tags: [tag, 'member'], data: { group: tag, i }, ...extra }));
    const outsider = await userWithSession({ tags: ['member'], data: { group: 'other', i: 0 } });
    return { tag, members, outsider };
  }
  const bulk = (json, tok) => api('POST', '/v1/users/bulk-update', json, tok);

  test('set active:false and tags on the users a filter matches: {matched}, their sessions die', async () => {
    const { tag, members, outsider } = await group(3);
    const res = await bulk({ where: { tags: { contains: tag }, active: { eq: true } }, set: { active: false, tags: [tag, 'suspended'] } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { matched: 3 });
    for (const m of members) {
      const now = await getUser(m.user.id);
      assert.equal(now.active, false);
      assert.deepEqual(now.tags, [tag, 'suspended']);
      assert.ok(now.updated_at > m.user.updated_at);
      assertSessionDead(await server.request('GET', '/v1/me', { token: m.token }));
      assertProblem(await logIn(server, { email: m.email }), 403, 'user_inactive');
    }
    const o = await getUser(outsider.user.id);
    assert.equal(o.active, true);
    assert.deepEqual(o.tags, ['member']);
    assert.equal((await server.request('GET', '/v1/me', { token: outsider.token })).status, 200);

    // The same filter now matches nobody (they are inactive).
    assert.deepEqual((await bulk({ where: { tags: { contains: tag }, active: { eq: true } }, set: { full_name: 'x' } })).body, { matched: 0 });
    // Reactivated in bulk, they log in again.
    const back = await bulk({ where: { tags: { contains: tag } }, set: { active: true } });
    assert.deepEqual(back.body, { matched: 3 });
    assert.equal((await logIn(server, { email: members[0].email })).status, 200);
  });

  test('data merge-patch, full_name, external_id and email_verified on every match', async () => {
    const { tag, members, outsider } = await group(2);
    const res = await bulk({
      where: { 'data.group': tag },
      set: { data: { plan: 'gold', i: null, nested: { a: 1 } }, full_name: 'Bulk', external_id: 'bulk-ext', email_verified: true },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { matched: 2 });
    for (const m of members) {
      const now = await getUser(m.user.id);
      assert.deepEqual(now.data, { group: tag, plan: 'gold', nested: { a: 1 } });
      assert.equal(now.full_name, 'Bulk');
      assert.equal(now.external_id, 'bulk-ext');
      assert.equal(now.email_verified, true);
      assert.equal(now.active, true, 'not suspended');
      assert.equal((await server.request('GET', '/v1/me', { token: m.token })).status, 200, 'sessions live on');
    }
    assert.deepEqual((await getUser(outsider.user.id)).data, { group: 'other', i: 0 });
    // A second merge-patch merges into the first; null clears text fields.
    const again = await bulk({ where: { 'data.group': { in: [tag] } }, set: { data: { nested: { b: 2 } }, full_name: null } });
    assert.deepEqual(again.body, { matched: 2 });
    const now = await getUser(members[0].user.id);
    assert.deepEqual(now.data, { group: tag, plan: 'gold', nested: { a: 1, b: 2 } });
    assert.equal(now.full_name, null);
  });

  test('a where matching nothing answers matched 0', async () => {
    for (const where of [
      { email: `nobody-${unique()}@example.com` },
      { 'data.group': { eq: `none-${unique()}` } },
      { tags: { contains: `none-${unique()}` } },
    ]) {
      const res = await bulk({ where, set: { full_name: 'never' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { matched: 0 });
    }
  });

  test('an invalid where is 400 invalid_filter naming the field, and changes nothing', async () => {
    const { tag, members } = await group(1);
    const cases = [
      [{ 'data.group': tag, nosuch: { eq: 1 } }, 'nosuch', 'unknown_field'],
      [{ 'data.group': tag, active: { like: true } }, 'active', 'unknown_operator'],
      [{ 'data.group': tag, active: 'yes' }, 'active', 'type'],
      [{ 'data.group': tag, created_at: { gt: 'yesterday' } }, 'created_at', 'type'],
      [{ 'data.group': tag, tags: { eq: 'x' } }, 'tags', 'operator_not_allowed'],
      [{ 'data.group': tag, "data.a'b": 1 }, "data.a'b", 'format'],
      [{ 'data.group': tag, password_hash: { exists: true } }, 'password_hash', 'unknown_field'],
      [{ 'data.group': tag, email: {} }, 'email', 'type'],
      [{ 'data.group': tag, email: { in: [] } }, 'email', 'type'],
      [{ 'data.group': tag, email: { in: 'a@b.c' } }, 'email', 'type'],
    ];
    for (const [where, field, code] of cases) {
      const res = await bulk({ where, set: { full_name: 'changed', active: false } });
      const body = assertProblem(res, 400, 'invalid_filter');
      assert.ok(body.errors.some((e) => e.field === field && e.code === code), `${field}:${code} in ${res.text}`);
    }
    // Two bad conditions: both are named.
    const two = await bulk({ where: { nosuch: 1, active: 'maybe' }, set: { full_name: 'changed' } });
    assertProblem(two, 400, 'invalid_filter');
    assert.deepEqual(fieldErrors(two).sort(), ['active:type', 'nosuch:unknown_field']);
    const now = await getUser(members[0].user.id);
    assert.equal(now.full_name, null);
    assert.equal(now.active, true);
  });

  test('an empty or missing where is 422 (never every user); a bad set is refused and changes nothing', async () => {
    const { tag, members } = await group(2);
    assertValidation(await bulk({ where: {}, set: { full_name: 'everyone' } }), 'where:required');
    assertValidation(await bulk({ set: { full_name: 'everyone' } }), 'where:required');
    assertValidation(await bulk({ where: { 'data.group': tag } }), 'set:required');
    assertValidation(await bulk({ where: 'everything', set: { full_name: 'x' } }), 'where:type');
    assertProblem(await bulk({ where: { 'data.group': tag }, set: { full_name: 'x' }, limit: 1 }), 400, 'unknown_field');
    assertProblem(await bulk({ where: { 'data.group': tag }, set: { full_name: 'x', password: PASSWORD } }), 400, 'unknown_field');
    assertProblem(await bulk({ where: { 'data.group': tag }, set: { full_name: 'x', email: 'same@example.com' } }), 400, 'unknown_field');
    // Valid changes together with an invalid one: nothing is applied to anybody.
    assertValidation(await bulk({ where: { 'data.group': tag }, set: { full_name: 'x', active: 'no' } }), 'set.active:type');
    const tooMany = await bulk({ where: { 'data.group': tag }, set: { active: false, tags: Array.from({ length: 65 }, (_, i) => `t${i}`) } });
    assertProblem(tooMany, 422, 'validation_failed');
    assert.ok(fieldErrors(tooMany).some((e) => /^(set\.)?tags:too_many$/.test(e)), tooMany.text);
    const longName = await bulk({ where: { 'data.group': tag }, set: { active: false, full_name: 'x'.repeat(257) } });
    assertValidation(longName, 'set.full_name:too_long');
    for (const m of members) {
      const now = await getUser(m.user.id);
      assert.equal(now.full_name, null);
      assert.equal(now.active, true);
      assert.deepEqual(now.tags, [tag, 'member']);
      assert.equal((await server.request('GET', '/v1/me', { token: m.token })).status, 200);
    }
  });

  test('a data merge-patch that would grow data past 64 KiB is refused for everyone', async () => {
    const tag = `big-${unique()}`;
    const a = await createUser({ email: uniqueEmail(), data: { group: tag, blob: 'a'.repeat(40 * 1024) } });
    const b = await createUser({ email: uniqueEmail(), data: { group: tag } });
    const res = await bulk({ where: { 'data.group': tag }, set: { data: { more: 'b'.repeat(40 * 1024) } } });
    // PATCH /v1/users/{id} checks the merged document (64 KiB at most); a bulk merge-patch must too,
    // and being atomic it then changes neither user.
    assertProblem(res, 422, 'validation_failed');
    assert.deepEqual(Object.keys((await getUser(a.id)).data).sort(), ['blob', 'group']);
    assert.deepEqual((await getUser(b.id)).data, { group: tag });
  });

  test('needs users:write', async () => {
    const reader = await accessToken(server, await cliKey(server, 'users:read,users:delete'));
    const res = await bulk({ where: { email: 'a@example.com' }, set: { full_name: 'x' } }, reader);
    assert.equal(assertProblem(res, 403, 'forbidden').missing_permission, 'users:write');
  });
});

// ---- bulk delete ------------------------------------------------------------------------------------

describe('POST /v1/users/bulk-delete', () => {
  const bulkDelete = (json, tok) => api('POST', '/v1/users/bulk-delete', json, tok);

  test('deletes the users a filter matches and answers {matched}; their sessions die', async () => {
    const tag = `bd-${unique()}`;
    const doomed = [];
    for (let i = 0; i < 3; i++) doomed.push(await userWithSession({ tags: [tag], data: { n: i } }));
    const spared = await userWithSession({ tags: [tag], data: { n: 99 } });
    const res = await bulkDelete({ where: { tags: { contains: tag }, 'data.n': { lt: 10 } } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { matched: 3 });
    for (const d of doomed) {
      assertProblem(await api('GET', `/v1/users/${d.user.id}`), 404, 'user_not_found');
      assertSessionDead(await server.request('GET', '/v1/me', { token: d.token }));
      assertProblem(await logIn(server, { email: d.email }), 401, 'invalid_credentials');
    }
    await getUser(spared.user.id);
    assert.equal((await server.request('GET', '/v1/me', { token: spared.token })).status, 200);
    // Again: nothing left to match.
    assert.deepEqual((await bulkDelete({ where: { tags: { contains: tag }, 'data.n': { lt: 10 } } })).body, { matched: 0 });
    // The email of a deleted user can be used again.
    await createUser({ email: doomed[0].email });
  });

  test('an empty where is 422, an invalid one 400; neither deletes anything', async () => {
    const u = await createUser({ email: uniqueEmail(), tags: ['survivor'] });
    assertValidation(await bulkDelete({ where: {} }), 'where:required');
    assertValidation(await bulkDelete({}), 'where:required');
    assertProblem(await bulkDelete({ where: { tags: { contains: 'survivor' }, nosuch: 1 } }), 400, 'invalid_filter');
    assertProblem(await bulkDelete({ where: { tags: { contains: 'survivor' } }, set: {} }), 400, 'unknown_field');
    await getUser(u.id);
  });

  test('needs users:delete', async () => {
    const u = await createUser({ email: uniqueEmail(), tags: ['keep-me'] });
    const writer = await accessToken(server, await cliKey(server, 'users:read,users:write'));
    const res = await bulkDelete({ where: { tags: { contains: 'keep-me' } } }, writer);
    assert.equal(assertProblem(res, 403, 'forbidden').missing_permission, 'users:delete');
    await getUser(u.id);
  });
});

// ---- project isolation ------------------------------------------------------------------------------

describe('project isolation', () => {
  let iso; // a server of its own: the default project A and a project "b"
  let tokenA;
  let tokenB;
  const usersA = [];
  let userB;
  const EVERYTHING = { created_at: { gte: '1970-01-01T00:00:00Z' } };

  before(async () => {
    iso = await startServer();
    tokenA = await accessToken(iso, await cliKey(iso, 'users:*'));
    for (let i = 0; i < 3; i++) {
      const email = uniqueEmail('iso-a');
      const res = await iso.request('POST', '/v1/users', {
        token: tokenA,
        json: { email, login: uniqueLogin('isoa'), phone: uniquePhone(), external_id: `shared-ext-${i}`, password: PASSWORD, tags: ['shared'], data: { k: 1 } },
      });
      assert.equal(res.status, 201, res.text);
      const login = await logIn(iso, { email });
      assert.equal(login.status, 200, login.text);
      usersA.push({ user: res.body, email, token: login.body.session.token });
    }
    await createProject(iso.dataDir, 'b');
    tokenB = await accessToken(iso, await cliKey(iso, 'users:*', 'b'));
    // A running server learns of a project made by the CLI within seconds (docs/behaviour.md).
    await eventually(async () => (await iso.request('GET', '/v1/users', { token: tokenB })).status === 200, {
      what: 'the server knows project b',
    });
    const res = await iso.request('POST', '/v1/users', { token: tokenB, json: { email: uniqueEmail('iso-b'), tags: ['shared'], external_id: 'shared-ext-0', data: { k: 1 } } });
    assert.equal(res.status, 201, res.text);
    userB = res.body;
  });
  after(async () => {
    await iso?.close();
  });

  const asA = (method, p, json) => iso.request(method, p, { token: tokenA, json });
  const asB = (method, p, json) => iso.request(method, p, { token: tokenB, json });

  async function assertAUntouched() {
    for (const a of usersA) {
      const res = await asA('GET', `/v1/users/${a.user.id}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual({ ...res.body, last_request_at: null, updated_at: null }, { ...a.user, last_request_at: null, updated_at: null });
    }
    const list = await asA('GET', '/v1/users?limit=1000');
    assert.deepEqual(list.body.items.map((u) => u.id).sort(), usersA.map((a) => a.user.id).sort());
  }

  test("B's list, get and lookup never show A's users", async () => {
    const list = await asB('GET', '/v1/users?limit=1000');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.items.map((u) => u.id), [userB.id]);
    for (const q of ['tags[contains]=shared', 'data.k=1', 'external_id=shared-ext-1', 'email[prefix]=iso-a', 'sort=-created_at']) {
      const res = await asB('GET', `/v1/users?${q}`);
      assert.equal(res.status, 200, `${q}: ${res.text}`);
      assert.ok(res.body.items.every((u) => u.id === userB.id && u.project_id === userB.project_id), `${q}: ${res.text}`);
    }
    for (const a of usersA) {
      assertProblem(await asB('GET', `/v1/users/${a.user.id}`), 404, 'user_not_found');
      for (const q of [`email=${encodeURIComponent(a.email)}`, `login=${a.user.login}`, `phone=${encodeURIComponent(a.user.phone)}`]) {
        assertProblem(await asB('GET', `/v1/users/lookup?${q}`), 404, 'user_not_found');
      }
    }
    assertProblem(await asB('GET', '/v1/users/lookup?external_id=shared-ext-1'), 404, 'user_not_found');
    // The external id both projects use finds B's own user.
    assert.equal((await asB('GET', '/v1/users/lookup?external_id=shared-ext-0')).body.id, userB.id);
    assert.equal((await asA('GET', '/v1/users/lookup?external_id=shared-ext-0')).body.id, usersA[0].user.id);
    // And A never sees B's.
    assertProblem(await asA('GET', `/v1/users/${userB.id}`), 404, 'user_not_found');
  });

  test("B's bulk-update matching everything changes only B's users", async () => {
    const res = await asB('POST', '/v1/users/bulk-update', { where: EVERYTHING, set: { active: false, full_name: 'from B', tags: ['b'], data: { k: 2 } } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { matched: 1 });
    const again = await asB('POST', '/v1/users/bulk-update', { where: { tags: { contains: 'shared' } }, set: { full_name: 'from B' } });
    assert.deepEqual(again.body, { matched: 0 });
    await assertAUntouched();
    for (const a of usersA) assert.equal((await iso.request('GET', '/v1/me', { token: a.token })).status, 200, "A's sessions live on");
  });

  test("B cannot patch or delete A's users, and trying does not touch their sessions", async () => {
    for (const a of usersA) {
      assertProblem(await asB('PATCH', `/v1/users/${a.user.id}`, { active: false }), 404, 'user_not_found');
      assertProblem(await asB('DELETE', `/v1/users/${a.user.id}`), 404, 'user_not_found');
    }
    await assertAUntouched();
    for (const a of usersA) {
      const me = await iso.request('GET', '/v1/me', { token: a.token });
      assert.equal(me.status, 200, `A's session survives B's refused DELETE: ${me.status} ${me.text}`);
    }
  });

  test("B's bulk-delete matching everything deletes none of A's users", async () => {
    const res = await asB('POST', '/v1/users/bulk-delete', { where: EVERYTHING });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { matched: 1 }, "B's own user only");
    assertProblem(await asB('GET', `/v1/users/${userB.id}`), 404, 'user_not_found');
    assert.deepEqual((await asB('GET', '/v1/users')).body.items, []);
    await assertAUntouched();
    const again = await asB('POST', '/v1/users/bulk-delete', { where: { tags: { contains: 'shared' } } });
    assert.deepEqual(again.body, { matched: 0 });
    await assertAUntouched();
  });
});
