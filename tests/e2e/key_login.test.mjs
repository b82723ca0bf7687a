// Key login (docs/contexts.md, "Key login"): a challenge, then a signature made with a key registered in
// a context, signed here with Node's crypto as an independent implementation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';

import { createProject, startServer } from '../support/server.mjs';
import { SESSION_TOKEN, assertProblem, assertValidation, eventually, signUp, uniqueEmail } from '../support/api.mjs';
import { apiKeyToken } from '../support/events.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = (await apiKeyToken(server, 'contexts:write,contexts:read,users:write')).token;
});
after(async () => {
  await server?.close();
});

function ed25519Pair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { publicKey: raw.toString('base64'), privateKey, type: 'ed25519' };
}

function p256Pair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey: publicKey.export({ format: 'pem', type: 'spki' }), privateKey, type: 'p256' };
}

function signMessage(pair, message, dsaEncoding = 'der') {
  const bytes = Buffer.from(message, 'base64url');
  const signature =
    pair.type === 'ed25519' ? sign(null, bytes, pair.privateKey) : sign('sha256', bytes, { key: pair.privateKey, dsaEncoding });
  return signature.toString('base64url');
}

async function newContext(token = admin, s = server) {
  const res = await s.request('POST', '/v1/contexts', { token, json: { name: `ctx-${Date.now()}` } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function register(contextId, userId, pair, token = admin, s = server) {
  const res = await s.request('PUT', `/v1/contexts/${contextId}/users/${userId}`, {
    token,
    json: { public_key: pair.publicKey, key_type: pair.type },
  });
  assert.ok(res.status === 201 || res.status === 200, res.text);
}

function challenge(json, s = server, headers) {
  return s.request('POST', '/v1/auth/key-challenge', { json, headers });
}

function keyLogin(json, s = server, headers) {
  return s.request('POST', '/v1/auth/key-login', { json, headers });
}

describe('key login', () => {
  test('ed25519 and p256 (DER and IEEE P1363) signatures log in; the session works', async () => {
    const context = await newContext();
    for (const [pair, encoding] of [
      [ed25519Pair(), undefined],
      [p256Pair(), 'der'],
      [p256Pair(), 'ieee-p1363'],
    ]) {
      const { user } = await signUp(server);
      await register(context, user.id, pair);
      const c = await challenge({ user_id: user.id, context_id: context });
      assert.equal(c.status, 200, c.text);
      assert.deepEqual(Object.keys(c.body).sort(), ['challenge_id', 'expires_at', 'message', 'nonce']);
      const message = Buffer.from(c.body.message, 'base64url').toString();
      const projectId = user.project_id;
      assert.equal(message, `tessera-key-login/v1\ntessera\n${projectId}\n${c.body.challenge_id}\n${c.body.nonce}\n`);
      const res = await keyLogin({ challenge_id: c.body.challenge_id, signature: signMessage(pair, c.body.message, encoding) });
      assert.equal(res.status, 200, `${pair.type} ${encoding}: ${res.text}`);
      assert.equal(res.body.user.id, user.id);
      assert.match(res.body.session.token, SESSION_TOKEN);
      const me = await server.request('GET', '/v1/me', { token: res.body.session.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, user.id);
    }
  });

  test('by email or login, and without context_id any registered key counts', async () => {
    const context = await newContext();
    const email = uniqueEmail('keys');
    const { user } = await signUp(server, { email });
    const pair = ed25519Pair();
    await register(context, user.id, pair);
    const c = await challenge({ email: email.toUpperCase() });
    assert.equal(c.status, 200, c.text);
    const res = await keyLogin({ challenge_id: c.body.challenge_id, signature: signMessage(pair, c.body.message) });
    assert.equal(res.status, 200, res.text);
  });

  test('a challenge is single use; a wrong key, a tampered message or another context is 401 invalid_signature', async () => {
    const context = await newContext();
    const other = await newContext();
    const { user } = await signUp(server);
    const pair = ed25519Pair();
    await register(context, user.id, pair);
    const stranger = ed25519Pair();
    await register(other, user.id, p256Pair());

    const c1 = await challenge({ user_id: user.id });
    const signature = signMessage(pair, c1.body.message);
    assert.equal((await keyLogin({ challenge_id: c1.body.challenge_id, signature })).status, 200);
    assertProblem(await keyLogin({ challenge_id: c1.body.challenge_id, signature }), 400, 'invalid_challenge');

    const c2 = await challenge({ user_id: user.id });
    assertProblem(await keyLogin({ challenge_id: c2.body.challenge_id, signature: signMessage(stranger, c2.body.message) }), 401, 'invalid_signature');
    const c3 = await challenge({ user_id: user.id });
    const tampered = Buffer.from(Buffer.from(c3.body.message, 'base64url').toString().replace('tessera\n', 'elsewhere\n')).toString('base64url');
    assertProblem(await keyLogin({ challenge_id: c3.body.challenge_id, signature: signMessage(pair, tampered) }), 401, 'invalid_signature');
    // The key of `context` does not count for a challenge bound to `other`.
    const c4 = await challenge({ user_id: user.id, context_id: other });
    assertProblem(await keyLogin({ challenge_id: c4.body.challenge_id, signature: signMessage(pair, c4.body.message) }), 401, 'invalid_signature');
    // A signature of an older challenge does not fit a new one.
    const c5 = await challenge({ user_id: user.id });
    assertProblem(await keyLogin({ challenge_id: c5.body.challenge_id, signature }), 401, 'invalid_signature');
    assertProblem(await keyLogin({ challenge_id: '01a21000-0000-7000-8000-000000000000', signature }), 400, 'invalid_challenge');
  });

  test('no enumeration: an unknown user gets a challenge of the same shape; the login fails as a wrong signature', async () => {
    const pair = ed25519Pair();
    const c = await challenge({ email: uniqueEmail('nobody') });
    assert.equal(c.status, 200, c.text);
    assert.deepEqual(Object.keys(c.body).sort(), ['challenge_id', 'expires_at', 'message', 'nonce']);
    assertProblem(await keyLogin({ challenge_id: c.body.challenge_id, signature: signMessage(pair, c.body.message) }), 401, 'invalid_signature');
  });

  test('a suspended user proves the key and gets 403 user_inactive', async () => {
    const context = await newContext();
    const { user } = await signUp(server);
    const pair = p256Pair();
    await register(context, user.id, pair);
    const suspended = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin, json: { active: false } });
    assert.equal(suspended.status, 200, suspended.text);
    const c = await challenge({ user_id: user.id });
    assertProblem(await keyLogin({ challenge_id: c.body.challenge_id, signature: signMessage(pair, c.body.message) }), 403, 'user_inactive');
  });

  test('validation: exactly one identifier; signature in base64url', async () => {
    assertValidation(await challenge({}), 'user_id');
    assertValidation(await challenge({ email: 'a@example.com', login: 'abc' }), 'user_id');
    assertProblem(await challenge({ user_id: 'x', colour: 'blue' }), 400, 'unknown_field');
    assertValidation(await keyLogin({ challenge_id: 'x', signature: 'not base64url!' }), 'signature');
    assertValidation(await keyLogin({}), ['challenge_id', 'signature']);
  });

  test("another project's challenge is refused; a project's keys do not log in elsewhere", async () => {
    const other = await createProject(server.dataDir, `kl-${Date.now()}`);
    // The running server notices a project made by the CLI within a few seconds.
    await eventually(async () => (await challenge({ email: 'x@example.com' }, server, { 'X-Tessera-Project': other.alias })).status === 200, {
      what: 'the new project is visible',
    });
    const context = await newContext();
    const { user } = await signUp(server, {}, { headers: { 'X-Tessera-Project': 'default' } });
    const pair = ed25519Pair();
    await register(context, user.id, pair);
    const c = await challenge({ user_id: user.id }, server, { 'X-Tessera-Project': 'default' });
    const signature = signMessage(pair, c.body.message);
    assertProblem(await keyLogin({ challenge_id: c.body.challenge_id, signature }, server, { 'X-Tessera-Project': other.alias }), 400, 'invalid_challenge');
    const elsewhere = await challenge({ user_id: user.id }, server, { 'X-Tessera-Project': other.alias });
    assert.equal(elsewhere.status, 200, elsewhere.text);
    const res = await keyLogin({ challenge_id: elsewhere.body.challenge_id, signature: signMessage(pair, elsewhere.body.message) }, server, {
      'X-Tessera-Project': other.alias,
    });
    assertProblem(res, 401, 'invalid_signature');
  });
});
