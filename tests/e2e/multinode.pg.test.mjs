// Several nodes on one PostgreSQL database (issue 7): two `tessera serve` processes with their own data
// directories share TESSERA_STORE_URL and TESSERA_SERVER_SECRET_KEY. Every node caches sessions, users,
// API keys, personal access tokens, roles and identities; a change committed on one node is announced
// through LISTEN/NOTIFY and must reach the other node's caches within one second. Rate limits are counted
// in the database, signing keys live there, refresh tokens are spent for every node, and an outbox row is
// delivered once although both nodes run delivery threads.
//
// Each test makes its own project (CLI, on the shared database) with an API key holding `*`, and its own
// users, so the tests do not depend on one another. "Within one second" is checked by polling every
// 50 ms from the moment the change was answered on node A, never by sleeping and looking once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import * as jose from 'jose';

import { createDatabase, runCli, sleep, sql, startServer, usingPostgres } from '../support/server.mjs';
import { PASSWORD, assertProblem, eventually, logIn, signUp, unique, uniqueEmail } from '../support/api.mjs';
import { FAST_EVENTS_ENV, confirmReset, grace, mailFilesTo, requestReset, tokenFromMail } from '../support/events.mjs';
import { startWebhookReceiver } from '../support/webhooks.mjs';
import { startCustomIdp } from '../support/identity_services.mjs';

const WITHIN_MS = 1000; // the bound for a change to reach every node
const POLL_MS = 50;
const PER_EMAIL = 3; // [account] requests_per_email on both nodes
const REUSE_GRACE = '1s'; // [token] refresh_reuse_grace (its minimum) on both nodes
const NEW_PASSWORD = 'a brand new password';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';
const NO_SUCH_USER = '01a21044-0000-7000-8000-000000000000';

// ---- helpers -----------------------------------------------------------------------------------------

// Calls `fn` every ~50 ms until `done(answer)` holds and returns that answer; fails when it still does
// not hold `ms` after the first call, showing the last answer.
async function expectWithin(fn, done, { what, ms = WITHIN_MS } = {}) {
  const started = Date.now();
  for (;;) {
    const res = await fn();
    if (done(res)) return res;
    if (Date.now() - started >= ms) {
      assert.fail(`${what}: still not the case ${Date.now() - started} ms after the change; last answer ${res.status} ${res.text}`);
    }
    await sleep(POLL_MS);
  }
}

// Polls `fn` while it still answers `accepted` (the status of a request that is let through) and
// returns the first other answer; fails when `fn` is still accepted one second after the change. The
// caller asserts the exact refusal.
const expectRefusedWithin = (fn, { what, accepted = 200, ms = WITHIN_MS } = {}) =>
  expectWithin(fn, (res) => res.status !== accepted, { what: `${what} is refused`, ms });

function assertInvalidToken(res, code = 'invalid_token') {
  assertProblem(res, 401, code);
  assert.equal(res.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE, 'WWW-Authenticate');
}

function assertForbidden(res, permission) {
  const body = assertProblem(res, 403, 'forbidden');
  assert.equal(body.missing_permission, permission, res.text);
}

// A suspended user's session: deleted with the suspension (401) or refused as inactive (403).
function assertSuspendedSession(res) {
  const ok =
    (res.status === 401 && ['invalid_token', 'session_expired'].includes(res.body?.code)) ||
    (res.status === 403 && res.body?.code === 'user_inactive');
  assert.ok(ok, `the session of a suspended user is refused: ${res.status} ${res.text}`);
}

function assertRateLimited(res) {
  assertProblem(res, 429, 'rate_limited');
  assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After is a number of seconds');
}

const kidOf = (jwt) => jose.decodeProtectedHeader(jwt).kid;
const sortedKeys = (jwks) => [...jwks.keys].sort((a, b) => a.kid.localeCompare(b.kid));

// ---- the cluster ---------------------------------------------------------------------------------------

describe('two nodes on one PostgreSQL database', { skip: !usingPostgres && 'needs PostgreSQL (TESSERA_TEST_PG_DIR)' }, () => {
  let A;
  let B;
  let cliEnv; // what a CLI command needs to reach the shared database
  const others = [];

  before(async () => {
    cliEnv = { TESSERA_STORE_URL: await createDatabase(), TESSERA_SERVER_SECRET_KEY: randomBytes(32).toString('base64') };
    const env = {
      ...cliEnv,
      ...FAST_EVENTS_ENV,
      TESSERA_ACCOUNT_REQUESTS_PER_EMAIL: String(PER_EMAIL),
      TESSERA_ACCOUNT_REQUESTS_PER_IP: '100000',
      TESSERA_TOKEN_REFRESH_REUSE_GRACE: REUSE_GRACE,
      TESSERA_EXTERNAL_ALLOW_PRIVATE: 'true', // the identity provider of a test listens on loopback
    };
    A = await startServer({ env });
    B = await startServer({ env });
  });
  after(async () => {
    for (const c of others) await c.close();
    await A?.close();
    await B?.close();
  });

  // A project of this test's own, made by the CLI on the shared database, with an API key holding `*`.
  // Returns { alias, id, headers (naming the project), key: {id, secret} }. Both nodes are waited for
  // (bounded) until they know the project: a node learns of new projects by itself, and this is set-up,
  // not what the tests check.
  async function newProject() {
    const alias = `mn-${unique()}`.toLowerCase();
    const made = await runCli(['project', 'create', '--alias', alias, '--data-dir', A.dataDir], { env: cliEnv });
    assert.equal(made.code, 0, `project create: ${made.stderr}`);
    const [id] = made.stdout.trim().split(/\s+/);
    const k = await runCli(
      ['apikey', 'create', '--data-dir', A.dataDir, '--project', alias, '--permissions', '*', '--name', 'multinode'],
      { env: cliEnv },
    );
    assert.equal(k.code, 0, `apikey create: ${k.stderr}`);
    const key = { id: /^id: (\S+)$/m.exec(k.stdout)?.[1], secret: /^secret: (\S+)$/m.exec(k.stdout)?.[1] };
    assert.ok(key.id && key.secret, k.stdout);
    const headers = { 'x-tessera-project': alias };
    for (const node of [A, B]) {
      // Known project, unknown provider: 404 provider_not_found (an unknown project is project_not_found).
      await eventually(
        async () => (await node.request('GET', '/v1/auth/oauth/none/start?mode=json', { headers })).body?.code === 'provider_not_found',
        { timeoutMs: 10_000, what: `project ${alias} known on ${node.url}` },
      );
    }
    return { alias, id, headers, key };
  }

  async function clientCredentials(node, key, scope) {
    const json = { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret };
    if (scope !== undefined) json.scope = scope;
    const res = await node.request('POST', '/v1/token', { json });
    assert.equal(res.status, 200, `client_credentials on ${node.url}: ${res.text}`);
    return res.body;
  }
  const accessToken = async (node, key, scope) => (await clientCredentials(node, key, scope)).access_token;

  const me = (node, token) => node.request('GET', '/v1/me', { token });
  async function expectMe(node, token, userId) {
    const res = await me(node, token);
    assert.equal(res.status, 200, `GET /v1/me on ${node.url}: ${res.text}`);
    assert.equal(res.body.id, userId);
    return res.body;
  }
  async function newSession(node, project, email) {
    const res = await logIn(node, { email }, { headers: project.headers });
    assert.equal(res.status, 200, res.text);
    return res.body.session;
  }

  // The mails to `email` in both data dirs ([mail] mode = "log": written by whichever node delivered them).
  const mailsTo = (email) => [A, B].flatMap((node) => mailFilesTo(node.dataDir, email));

  // A new role holding `permissions`, assigned to `userId` (on node A, by the project's key).
  async function grantRole(project, userId, permissions) {
    const admin = await accessToken(A, project.key);
    const role = await A.request('POST', '/v1/roles', { token: admin, json: { name: `r-${unique()}`.toLowerCase(), permissions } });
    assert.equal(role.status, 201, role.text);
    const set = await A.request('PUT', `/v1/users/${userId}/roles`, { token: admin, json: { roles: [role.body.name] } });
    assert.equal(set.status, 200, set.text);
    return role.body;
  }

  // ---- 1. sessions ---------------------------------------------------------------------------------

  test('a session made on A works on B; logout on A is refused on B within 1 s (only that session)', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const other = await newSession(A, p, u.email);
    await expectMe(B, u.token, u.user.id); // cached on B now
    await expectMe(B, other.token, u.user.id);

    const out = await A.request('POST', '/v1/auth/logout', { token: u.token });
    assert.equal(out.status, 204, out.text);
    assertInvalidToken(await expectRefusedWithin(() => me(B, u.token), { what: 'the logged-out session on B' }));
    await expectMe(B, other.token, u.user.id);
  });

  test('a session logged in on B and revoked on A (DELETE /v1/sessions/{id}) is refused on B within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const onB = await newSession(B, p, u.email);
    await expectMe(B, onB.token, u.user.id);

    const del = await A.request('DELETE', `/v1/sessions/${onB.id}`, { token: u.token });
    assert.equal(del.status, 204, del.text);
    assertInvalidToken(await expectRefusedWithin(() => me(B, onB.token), { what: 'the revoked session on B' }));
    await expectMe(B, u.token, u.user.id);
  });

  test("a password change on A ends the user's other sessions on B within 1 s; the changing session lives", async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const second = await newSession(B, p, u.email);
    const third = await newSession(A, p, u.email);
    for (const s of [u.token, second.token, third.token]) await expectMe(B, s, u.user.id);

    const change = await A.request('POST', '/v1/me/password', { token: u.token, json: { old_password: PASSWORD, new_password: NEW_PASSWORD } });
    assert.equal(change.status, 204, change.text);
    for (const [name, s] of [['the session logged in on B', second], ['the other session of A', third]]) {
      assertInvalidToken(await expectRefusedWithin(() => me(B, s.token), { what: `${name}, on B` }));
    }
    await expectMe(B, u.token, u.user.id); // API.md: "revokes my other sessions"
    // B checks the new password, not a cached hash.
    assertProblem(
      await expectRefusedWithin(() => logIn(B, { email: u.email }, { headers: p.headers }), { what: 'the old password on B' }),
      401,
      'invalid_credentials',
    );
    const fresh = await logIn(B, { email: u.email, password: NEW_PASSWORD }, { headers: p.headers });
    assert.equal(fresh.status, 200, fresh.text);
  });

  test('a password reset confirmed on A ends every session of the user on B within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const onB = await newSession(B, p, u.email);
    for (const s of [u.token, onB.token]) await expectMe(B, s, u.user.id);

    assert.equal((await requestReset(B, u.email, { headers: p.headers })).status, 202);
    const [mail] = await eventually(() => mailsTo(u.email).length > 0 && mailsTo(u.email), { timeoutMs: 15_000, what: 'the reset mail' });
    const confirmed = await confirmReset(A, tokenFromMail(mail, '/reset-password'), NEW_PASSWORD);
    assert.equal(confirmed.status, 204, confirmed.text);
    for (const [name, s] of [['the sign-up session', u.token], ['the session logged in on B', onB.token]]) {
      assertInvalidToken(await expectRefusedWithin(() => me(B, s), { what: `${name}, on B, after the reset` }));
    }
  });

  test("suspending the user on A (API key) refuses the user's session and access token on B within 1 s", async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const exchanged = await B.request('POST', '/v1/token', { json: { grant_type: TOKEN_EXCHANGE, subject_token: u.token } });
    assert.equal(exchanged.status, 200, exchanged.text);
    const jwt = exchanged.body.access_token;
    await expectMe(B, u.token, u.user.id);
    await expectMe(B, jwt, u.user.id);

    const admin = await accessToken(A, p.key);
    const off = await A.request('PATCH', `/v1/users/${u.user.id}`, { token: admin, json: { active: false } });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.active, false);
    assertSuspendedSession(await expectRefusedWithin(() => me(B, u.token), { what: 'the suspended user’s session on B' }));
    assertProblem(await expectRefusedWithin(() => me(B, jwt), { what: 'the suspended user’s access token on B' }), 403, 'user_inactive');
    assertProblem(await logIn(B, { email: u.email }, { headers: p.headers }), 403, 'user_inactive');
  });

  test('deleting the user on A (API key) refuses their session on B within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    await expectMe(B, u.token, u.user.id);

    const del = await A.request('DELETE', `/v1/users/${u.user.id}`, { token: await accessToken(A, p.key) });
    assert.equal(del.status, 204, del.text);
    assertInvalidToken(await expectRefusedWithin(() => me(B, u.token), { what: 'the deleted user’s session on B' }));
  });

  test('a user deleting themselves on A (DELETE /v1/me) has their other session refused on B within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const onB = await newSession(B, p, u.email);
    await expectMe(B, onB.token, u.user.id);

    const del = await A.request('DELETE', '/v1/me', { token: u.token, json: { password: PASSWORD } });
    assert.equal(del.status, 204, del.text);
    assertInvalidToken(await expectRefusedWithin(() => me(B, onB.token), { what: 'the self-deleted user’s session on B' }));
  });

  // ---- 2. API keys, personal access tokens, roles ----------------------------------------------------

  test('an API key deleted on A: its access token, secret and refresh token are refused on B within 1 s', async () => {
    const p = await newProject();
    const admin = await accessToken(A, p.key);
    const created = await A.request('POST', '/v1/api-keys', { token: admin, json: { name: 'doomed', permissions: ['users:read'] } });
    assert.equal(created.status, 201, created.text);
    const key = { id: created.body.id, secret: created.body.secret };
    const issued = await clientCredentials(B, key); // the key is cached on B now
    const readNoUser = () => B.request('GET', `/v1/users/${NO_SUCH_USER}`, { token: issued.access_token });
    assertProblem(await readNoUser(), 404, 'user_not_found'); // accepted, and the token cached on B

    const del = await A.request('DELETE', `/v1/api-keys/${key.id}`, { token: admin });
    assert.equal(del.status, 204, del.text);
    assertInvalidToken(await expectRefusedWithin(readNoUser, { what: 'the deleted key’s access token on B', accepted: 404 }));
    const grant = () =>
      B.request('POST', '/v1/token', { json: { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret } });
    const refused = await expectRefusedWithin(grant, { what: 'the deleted key’s secret on B' });
    assertProblem(refused, 401, 'invalid_client');
    const refreshed = await B.request('POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: issued.refresh_token } });
    assertProblem(refreshed, 400, 'invalid_grant');
  });

  test('a personal access token revoked on A is refused on B within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const target = (await signUp(A, {}, { headers: p.headers })).user;
    await grantRole(p, u.user.id, ['users:read']);
    const pat = await A.request('POST', '/v1/me/tokens', { token: u.token, json: { name: 'ci', permissions: ['users:read'] } });
    assert.equal(pat.status, 201, pat.text);
    await expectMe(B, pat.body.token, u.user.id);
    const read = await B.request('GET', `/v1/users/${target.id}`, { token: pat.body.token });
    assert.equal(read.status, 200, read.text);

    const del = await A.request('DELETE', `/v1/me/tokens/${pat.body.id}`, { token: u.token });
    assert.equal(del.status, 204, del.text);
    assertInvalidToken(await expectRefusedWithin(() => me(B, pat.body.token), { what: 'the revoked PAT on B' }));
    assertInvalidToken(await B.request('GET', `/v1/users/${target.id}`, { token: pat.body.token }));
  });

  test('role changes on A change what the members hold on B within 1 s (session, PAT, access token)', async () => {
    const p = await newProject();
    const admin = await accessToken(A, p.key);
    const target = (await signUp(A, {}, { headers: p.headers })).user;
    const u = await signUp(A, {}, { headers: p.headers });
    const role = await A.request('POST', '/v1/roles', { token: admin, json: { name: `support-${unique()}`.toLowerCase(), permissions: ['users:read'] } });
    assert.equal(role.status, 201, role.text);

    // Not a member yet: refused on B (and cached so).
    const readAs = (token) => () => B.request('GET', `/v1/users/${target.id}`, { token });
    assertForbidden(await readAs(u.token)(), 'users:read');

    const assign = async (roles) => {
      const res = await A.request('PUT', `/v1/users/${u.user.id}/roles`, { token: admin, json: { roles } });
      assert.equal(res.status, 200, res.text);
    };
    const setPermissions = async (permissions) => {
      const res = await A.request('PATCH', `/v1/roles/${role.body.id}`, { token: admin, json: { permissions } });
      assert.equal(res.status, 200, res.text);
    };
    const allowedWithin = (token, what) => expectWithin(readAs(token), (r) => r.status === 200, { what: `${what}: allowed on B` });
    const refusedWithin = async (token, what) => assertForbidden(await expectRefusedWithin(readAs(token), { what: `${what}, on B` }), 'users:read');

    // Assigned on A: allowed on B.
    await assign([role.body.name]);
    await allowedWithin(u.token, 'the session of a user given the role');
    const pat = await A.request('POST', '/v1/me/tokens', { token: u.token, json: { name: 'ci', permissions: ['users:read'] } });
    assert.equal(pat.status, 201, pat.text);
    const exchanged = await A.request('POST', '/v1/token', { json: { grant_type: TOKEN_EXCHANGE, subject_token: u.token } });
    assert.equal(exchanged.status, 200, exchanged.text);
    const credentials = [
      ['the session', u.token],
      ['the PAT', pat.body.token],
      ['the exchanged access token', exchanged.body.access_token],
    ];
    for (const [name, token] of credentials) assert.equal((await readAs(token)()).status, 200, `${name} reads on B`);

    // The permission taken from the role on A: refused on B.
    await setPermissions(['contexts:read']);
    for (const [name, token] of credentials) await refusedWithin(token, `${name} after users:read left the role`);
    // Given back: allowed again.
    await setPermissions(['users:read']);
    for (const [name, token] of credentials) await allowedWithin(token, `${name} after users:read came back`);
    // The user taken out of the role.
    await assign([]);
    for (const [name, token] of credentials) await refusedWithin(token, `${name} after the user left the role`);
    await assign([role.body.name]);
    for (const [name, token] of credentials) await allowedWithin(token, `${name} after the user rejoined the role`);
    // The role deleted.
    const del = await A.request('DELETE', `/v1/roles/${role.body.id}`, { token: admin });
    assert.equal(del.status, 204, del.text);
    for (const [name, token] of credentials) await refusedWithin(token, `${name} after the role was deleted`);
  });

  // ---- 3. signing keys -------------------------------------------------------------------------------

  async function jwksOf(node) {
    const res = await node.request('GET', '/.well-known/jwks.json');
    assert.equal(res.status, 200, res.text);
    return res.body;
  }
  const verifyWith = (jwt, jwks) => jose.jwtVerify(jwt, jose.createLocalJWKSet(jwks), { issuer: 'tessera', audience: 'tessera', algorithms: ['ES256'] });

  // `token` (an API key's, with users:read) is accepted by `node`: reading a missing user is 404, not 401.
  async function assertAccepted(node, token) {
    assertProblem(await node.request('GET', `/v1/users/${NO_SUCH_USER}`, { token }), 404, 'user_not_found');
  }

  test('signing keys are shared: one JWKS, and tokens of either node verify on the other and with jose', async () => {
    const p = await newProject();
    const [jwksA, jwksB] = [await jwksOf(A), await jwksOf(B)];
    assert.ok(jwksA.keys.length >= 1, JSON.stringify(jwksA));
    assert.deepEqual(sortedKeys(jwksB), sortedKeys(jwksA), 'both nodes publish the same keys');

    const fromA = await accessToken(A, p.key);
    await assertAccepted(B, fromA);
    await verifyWith(fromA, jwksB);
    const fromB = await accessToken(B, p.key);
    await assertAccepted(A, fromB);
    await verifyWith(fromB, jwksA);
    assert.equal(kidOf(fromA), kidOf(fromB), 'both nodes sign with the same current key');

    // A user's access token (token exchange) made on B is accepted on A.
    const u = await signUp(A, {}, { headers: p.headers });
    const exchanged = await B.request('POST', '/v1/token', { json: { grant_type: TOKEN_EXCHANGE, subject_token: u.token } });
    assert.equal(exchanged.status, 200, exchanged.text);
    await expectMe(A, exchanged.body.access_token, u.user.id);
  });

  test('`tessera keys rotate` on the shared database: both nodes sign with the new key within 1 s and accept each other’s tokens', async () => {
    const p = await newProject();
    const before = await accessToken(A, p.key);
    const oldKid = kidOf(before);

    const rotated = await runCli(['keys', 'rotate', '--data-dir', A.dataDir], { env: cliEnv });
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = /new signing key: (\S+)/.exec(rotated.stdout)?.[1];
    assert.ok(newKid, rotated.stdout);
    assert.notEqual(newKid, oldKid);

    const issued = {};
    for (const [name, node] of [['A', A], ['B', B]]) {
      const res = await expectWithin(
        () => node.request('POST', '/v1/token', { json: { grant_type: 'client_credentials', client_id: p.key.id, client_secret: p.key.secret } }),
        (r) => r.status === 200 && kidOf(r.body.access_token) === newKid,
        { what: `node ${name} signs with the rotated key ${newKid} (was ${oldKid})` },
      );
      issued[name] = res.body.access_token;
    }
    const [jwksA, jwksB] = [await jwksOf(A), await jwksOf(B)];
    assert.deepEqual(sortedKeys(jwksB), sortedKeys(jwksA), 'both nodes publish the same keys after the rotation');
    const kids = jwksA.keys.map((k) => k.kid);
    assert.ok(kids.includes(newKid) && kids.includes(oldKid), `old and new key published: ${kids}`);

    await assertAccepted(B, issued.A);
    await assertAccepted(A, issued.B);
    await verifyWith(issued.A, jwksB);
    await verifyWith(issued.B, jwksA);
    for (const node of [A, B]) await assertAccepted(node, before); // the old key's tokens still live
  });

  // ---- 4. refresh tokens -------------------------------------------------------------------------------

  async function refresh(node, refreshToken) {
    return node.request('POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: refreshToken } });
  }
  function rotatedPair(res, where) {
    assert.equal(res.status, 200, `refresh on ${where}: ${res.text}`);
    return res.body;
  }

  test('a refresh token family rotates across nodes: A, then B, then A', async () => {
    const p = await newProject();
    const first = await clientCredentials(A, p.key, 'users:read');
    const second = rotatedPair(await refresh(A, first.refresh_token), 'A');
    const third = rotatedPair(await refresh(B, second.refresh_token), 'B');
    const fourth = rotatedPair(await refresh(A, third.refresh_token), 'A');
    assert.equal(fourth.scope, 'users:read');
    await assertAccepted(B, fourth.access_token);
  });

  test('a refresh token rotated on A is spent on B: reused past the grace it is refused and its family revoked', async () => {
    const p = await newProject();
    const first = await clientCredentials(A, p.key);
    const second = rotatedPair(await refresh(A, first.refresh_token), 'A');
    await sleep(1500); // past the 1 s reuse grace of the first token's rotation (behaviour.md)
    assertProblem(await refresh(B, first.refresh_token), 400, 'invalid_grant');
    // The reuse revoked the whole family, the newest token too, on both nodes.
    assertProblem(await refresh(B, second.refresh_token), 400, 'invalid_grant');
    assertProblem(await refresh(A, second.refresh_token), 400, 'invalid_grant');
    // Another family of the same key is untouched.
    rotatedPair(await refresh(B, (await clientCredentials(A, p.key)).refresh_token), 'B');
  });

  // ---- 5. rate limits ----------------------------------------------------------------------------------

  test(`password-reset requests for one email: ${PER_EMAIL} across A and B, then 429 on either; each sends one mail`, async () => {
    const p = await newProject();
    const { email } = await signUp(A, {}, { headers: p.headers });
    const ghost = uniqueEmail('ghost');
    const nodes = [A, B, A];
    for (const address of [email, ghost]) {
      for (let i = 0; i < PER_EMAIL; i++) {
        const res = await requestReset(nodes[i], address, { headers: p.headers });
        assert.equal(res.status, 202, `request ${i + 1} for ${address} on ${nodes[i] === A ? 'A' : 'B'}: ${res.text}`);
      }
      assertRateLimited(await requestReset(B, address, { headers: p.headers }));
      assertRateLimited(await requestReset(A, address, { headers: p.headers }));
    }
    // Exactly one mail per accepted request for the registered address, whichever node sent it.
    const mails = () => mailsTo(email);
    await eventually(() => mails().length >= PER_EMAIL, { timeoutMs: 15_000, what: `${PER_EMAIL} reset mails` });
    await grace(2000);
    const got = mails();
    assert.equal(got.length, PER_EMAIL, `mails: ${got.map((m) => m.file)}`);
    assert.equal(new Set(got.map((m) => m.id)).size, PER_EMAIL, 'distinct deliveries');
  });

  test(`verification mails for one email: ${PER_EMAIL} across A and B, then 429 on either`, async () => {
    const p = await newProject();
    const { token } = await signUp(A, {}, { headers: p.headers });
    const nodes = [B, A, B];
    for (let i = 0; i < PER_EMAIL; i++) {
      const res = await nodes[i].request('POST', '/v1/auth/verify-email', { token });
      assert.equal(res.status, 202, `request ${i + 1} on ${nodes[i] === A ? 'A' : 'B'}: ${res.text}`);
    }
    assertRateLimited(await A.request('POST', '/v1/auth/verify-email', { token }));
    assertRateLimited(await B.request('POST', '/v1/auth/verify-email', { token }));
  });

  // ---- 6. profiles and project settings ------------------------------------------------------------------

  test('a profile change on A (PATCH /v1/me, then by an administrator) is seen on B within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, { full_name: 'Before', data: { plan: 'free' } }, { headers: p.headers });
    const cached = await expectMe(B, u.token, u.user.id);
    assert.equal(cached.full_name, 'Before');

    const patch = await A.request('PATCH', '/v1/me', { token: u.token, json: { full_name: 'After', data: { plan: 'pro', seats: 3 } } });
    assert.equal(patch.status, 200, patch.text);
    const seen = await expectWithin(() => me(B, u.token), (r) => r.status === 200 && r.body.full_name === 'After', {
      what: 'the new full_name on B',
    });
    assert.deepEqual(seen.body.data, { plan: 'pro', seats: 3 });
    assert.equal(seen.body.updated_at, patch.body.updated_at);

    const admin = await accessToken(A, p.key);
    const tagged = await A.request('PATCH', `/v1/users/${u.user.id}`, { token: admin, json: { tags: ['vip'] } });
    assert.equal(tagged.status, 200, tagged.text);
    await expectWithin(() => me(B, u.token), (r) => r.status === 200 && r.body.tags.includes('vip'), {
      what: 'the tag set by an administrator on A, on B',
    });
  });

  test('a project setting changed on A takes effect on B within 1 s (redirect_allow_list)', async () => {
    const p = await newProject();
    const redirectTo = encodeURIComponent('https://app.example.test/callback');
    // The allow-list is checked before the provider is looked up: not allowed is 422, allowed reaches
    // the (missing) provider, 404.
    const start = () => B.request('GET', `/v1/auth/oauth/none/start?mode=json&redirect_to=${redirectTo}`, { headers: p.headers });
    const refused = await start();
    assertProblem(refused, 422, 'validation_failed');

    const admin = await accessToken(A, p.key);
    const patch = await A.request('PATCH', '/v1/project', {
      token: admin,
      json: { name: 'Renamed on A', redirect_allow_list: ['https://app.example.test/'] },
    });
    assert.equal(patch.status, 200, patch.text);
    assertProblem(await expectRefusedWithin(start, { what: 'the old allow-list on B', accepted: 422 }), 404, 'provider_not_found');
    const read = await B.request('GET', '/v1/project', { token: await accessToken(B, p.key) });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.name, 'Renamed on A');
    assert.deepEqual(read.body.redirect_allow_list, ['https://app.example.test/']);
  });

  test('an external identity unlinked on A is gone from the user on B within 1 s', async () => {
    const p = await newProject();
    const idp = await startCustomIdp();
    others.push(idp);
    const admin = await accessToken(A, p.key);
    const name = `vu-${unique()}`.toLowerCase();
    const provider = await A.request('POST', '/v1/providers', { token: admin, json: { name, kind: 'verify_url', url: idp.verifyUrl } });
    assert.equal(provider.status, 201, provider.text);
    const subject = `cust-${unique()}`;
    idp.respond('opaque-token', { body: { id: subject, email: uniqueEmail('ext') } });
    // Signed in on B with the provider made on A; a password, so the identity is not the only way in.
    const signedIn = await B.request('POST', '/v1/auth/external', { json: { provider: name, token: 'opaque-token', project: p.alias } });
    assert.equal(signedIn.status, 201, signedIn.text);
    const token = signedIn.body.session.token;
    const pw = await B.request('PATCH', '/v1/me', { token, json: { password: PASSWORD } });
    assert.equal(pw.status, 200, pw.text);
    const cached = await expectMe(B, token, signedIn.body.user.id);
    assert.deepEqual(cached.identities.map((i) => [i.provider, i.subject]), [[name, subject]]);

    const del = await A.request('DELETE', `/v1/me/identities/${name}`, { token });
    assert.equal(del.status, 204, del.text);
    await expectWithin(() => me(B, token), (r) => r.status === 200 && r.body.identities.length === 0, {
      what: 'the unlinked identity gone from GET /v1/me on B',
    });
  });

  // ---- 7. outbox delivery ------------------------------------------------------------------------------

  test('webhook deliveries: every event of either node is delivered exactly once although both nodes deliver', async () => {
    const p = await newProject();
    const rx = await startWebhookReceiver();
    others.push(rx);
    rx.respondWith(() => ({ status: 200, delayMs: 100 })); // a little slow, so both nodes' threads are busy at once
    const admin = await accessToken(A, p.key);
    const wh = await A.request('POST', '/v1/webhooks', { token: admin, json: { url: rx.url, events: ['user.created'] } });
    assert.equal(wh.status, 201, wh.text);
    rx.setSecret(wh.body.secret);

    const users = [];
    for (let i = 0; i < 12; i++) users.push((await signUp(i % 2 === 0 ? A : B, {}, { headers: p.headers })).user.id);
    const about = (r) => r.json?.type === 'user.created' && users.includes(r.json?.data?.user?.id);
    await rx.waitFor(about, { count: users.length, timeoutMs: 20_000 });
    await grace(3000); // a second delivery of any of them would come now

    const got = rx.matching(about);
    const ids = (r) => `${r.json.data.user.id} ${r.deliveryId} attempt ${r.attempt}`;
    assert.equal(got.length, users.length, `one request per event: ${got.map(ids).join('; ')}`);
    assert.deepEqual(got.map((r) => r.json.data.user.id).sort(), [...users].sort(), 'each user once');
    assert.equal(new Set(got.map((r) => r.deliveryId)).size, users.length, 'distinct delivery ids');
    assert.equal(new Set(got.map((r) => r.eventId)).size, users.length, 'distinct event ids');
    for (const r of got) {
      assert.ok(r.signature.valid, `signature: ${r.signature.reason}`);
      assert.equal(r.attempt, 1, `first attempt succeeded: ${ids(r)}`);
    }
    const log = await B.request('GET', `/v1/webhooks/${wh.body.id}/deliveries?limit=100`, { token: await accessToken(B, p.key) });
    assert.equal(log.status, 200, log.text);
    assert.equal(log.body.items.length, users.length, log.text);
    for (const d of log.body.items) {
      assert.equal(d.status, 'delivered', JSON.stringify(d));
      assert.equal(d.attempts, 1, JSON.stringify(d));
    }
  });

  // ---- 8. a lost notification connection --------------------------------------------------------------

  test('after its notification connection is cut, B still refuses a session revoked on A within 1 s', async () => {
    const p = await newProject();
    const u = await signUp(A, {}, { headers: p.headers });
    const onB = await newSession(B, p, u.email);
    await expectMe(B, onB.token, u.user.id);

    // Every LISTENing connection of the database (both nodes'): what is announced before they are back is
    // lost to them, so a node must not trust what it cached before.
    const cut = await sql(
      cliEnv.TESSERA_STORE_URL,
      "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
    );
    assert.ok(cut.length >= 2 && cut.every((r) => r.cut === true), `both nodes' LISTEN connections cut: ${JSON.stringify(cut)}`);
    const del = await A.request('DELETE', `/v1/sessions/${onB.id}`, { token: u.token });
    assert.equal(del.status, 204, del.text);
    assertInvalidToken(await expectRefusedWithin(() => me(B, onB.token), { what: 'the session revoked while B was reconnecting, on B' }));
  });
});
