// Sessions: bearer and cookie authentication (with CSRF), the 401s, logout, listing and revoking
// sessions, and the idle timeout / absolute lifetime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { metricValue, sleep, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  RFC3339_MICROS,
  UUID_V7,
  assertProblem,
  assertValidation,
  cookieFrom,
  logIn,
  signUp,
} from '../support/api.mjs';

const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

function assertInvalidToken(res, code = 'invalid_token') {
  assertProblem(res, 401, code);
  assert.equal(res.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE);
}

describe('authentication and sessions (default timeouts)', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  const me = (options) => server.request('GET', '/v1/me', options);

  async function newLogin(email) {
    const res = await logIn(server, { email });
    assert.equal(res.status, 200, res.text);
    return res.body.session;
  }

  describe('bearer tokens', () => {
    test('GET /v1/me with a bearer token', async () => {
      const { token, user } = await signUp(server);
      const res = await me({ token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, user.id);
      assert.match(res.body.last_request_at, RFC3339_MICROS, 'signing in counts as a request');
    });

    test('the scheme name is case-insensitive', async () => {
      const { token } = await signUp(server);
      const res = await me({ headers: { authorization: `bearer ${token}` } });
      assert.equal(res.status, 200, res.text);
    });

    test('bearer requests need no CSRF token for unsafe methods', async () => {
      const { token } = await signUp(server);
      const res = await server.request('PATCH', '/v1/me', { token, json: { full_name: 'Bearer Only' } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.full_name, 'Bearer Only');
    });

    test('no credential: 401 unauthenticated with WWW-Authenticate: Bearer', async () => {
      for (const [method, path] of [
        ['GET', '/v1/me'],
        ['PATCH', '/v1/me'],
        ['DELETE', '/v1/me'],
        ['POST', '/v1/me/password'],
        ['GET', '/v1/sessions'],
        ['DELETE', '/v1/sessions/01a21013-63d5-7317-bb17-332bdd4dcf05'],
        ['POST', '/v1/auth/logout'],
      ]) {
        const res = await server.request(method, path);
        assertProblem(res, 401, 'unauthenticated');
        assert.match(res.headers.get('www-authenticate') || '', /^Bearer\b/, `${method} ${path}`);
      }
    });

    test('garbage tokens: 401 invalid_token with WWW-Authenticate: Bearer error="invalid_token"', async () => {
      const garbage = [
        'garbage',
        'tss_short',
        `tss_${'!'.repeat(43)}`,
        `tss_${randomBytes(32).toString('base64url')}x`,
        `tsx_${randomBytes(32).toString('base64url')}`,
      ];
      for (const token of garbage) assertInvalidToken(await me({ token }));
      // Well formed but never issued.
      assertInvalidToken(await me({ token: `tss_${randomBytes(32).toString('base64url')}` }));
      // Not a bearer scheme at all.
      assertInvalidToken(await me({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }));
      assertInvalidToken(await me({ headers: { authorization: 'Bearer' } }));
    });

    test('a token of a deleted session is invalid_token', async () => {
      const { email, token } = await signUp(server);
      const other = await newLogin(email);
      const del = await server.request('DELETE', `/v1/sessions/${other.id}`, { token });
      assert.equal(del.status, 204, del.text);
      assertInvalidToken(await me({ token: other.token }));
    });
  });

  describe('logout', () => {
    test('POST /v1/auth/logout: 204, then the token is invalid', async () => {
      const { email, token } = await signUp(server);
      const keep = await newLogin(email);
      const res = await server.request('POST', '/v1/auth/logout', { token });
      assert.equal(res.status, 204, res.text);
      assert.equal(res.text, '');
      assertInvalidToken(await me({ token }));
      assertInvalidToken(await server.request('POST', '/v1/auth/logout', { token }));
      // Only the current session ends.
      assert.equal((await me({ token: keep.token })).status, 200);
    });

    test('logout lowers tessera_sessions_active', async () => {
      const { token } = await signUp(server);
      const active = async () => metricValue((await server.request('GET', '/metrics')).text, 'tessera_sessions_active');
      const before0 = await active();
      assert.ok(before0 >= 1);
      assert.equal((await server.request('POST', '/v1/auth/logout', { token })).status, 204);
      assert.equal(await active(), before0 - 1);
    });

    test('logout clears both cookies', async () => {
      const { token } = await signUp(server);
      const res = await server.request('POST', '/v1/auth/logout', { token });
      assert.equal(res.status, 204);
      for (const name of ['tessera_session', 'tessera_csrf']) {
        const c = cookieFrom(res.setCookies, name);
        assert.ok(c, `${name} is cleared: ${JSON.stringify(res.setCookies)}`);
        assert.equal(c.value, '');
        assert.match(c.attributes, /Max-Age=0/i);
      }
    });
  });

  describe('session cookie and CSRF', () => {
    test('GET with the cookie works without a CSRF token', async () => {
      const { token, user } = await signUp(server);
      const res = await me({ cookie: `tessera_session=${token}` });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, user.id);
      const other = await me({ cookie: `theme=dark; tessera_session=${token}; lang=en` });
      assert.equal(other.status, 200, 'found among other cookies');
      const list = await server.request('GET', '/v1/sessions', { cookie: `tessera_session=${token}` });
      assert.equal(list.status, 200, list.text);
    });

    test('PATCH /v1/me with the cookie needs X-CSRF-Token = csrf_token', async () => {
      const { token, session } = await signUp(server);
      const cookie = `tessera_session=${token}`;
      const json = { full_name: 'Via Cookie' };
      assertProblem(await server.request('PATCH', '/v1/me', { cookie, json }), 403, 'csrf_failed');
      assertProblem(
        await server.request('PATCH', '/v1/me', { cookie, json, headers: { 'x-csrf-token': 'wrong' } }),
        403,
        'csrf_failed',
      );
      // The token of another session does not fit.
      const other = await signUp(server);
      assertProblem(
        await server.request('PATCH', '/v1/me', { cookie, json, headers: { 'x-csrf-token': other.session.csrf_token } }),
        403,
        'csrf_failed',
      );
      assert.equal((await me({ token })).body.full_name, null, 'nothing changed');
      const ok = await server.request('PATCH', '/v1/me', { cookie, json, headers: { 'x-csrf-token': session.csrf_token } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.full_name, 'Via Cookie');
    });

    test('POST and DELETE with the cookie need the CSRF token too', async () => {
      const { token, session, email } = await signUp(server);
      const cookie = `tessera_session=${token}`;
      const csrf = { 'x-csrf-token': session.csrf_token };
      const other = await newLogin(email);

      assertProblem(await server.request('DELETE', `/v1/sessions/${other.id}`, { cookie }), 403, 'csrf_failed');
      assert.equal((await me({ token: other.token })).status, 200, 'not revoked');
      const del = await server.request('DELETE', `/v1/sessions/${other.id}`, { cookie, headers: csrf });
      assert.equal(del.status, 204, del.text);

      const pw = { old_password: PASSWORD, new_password: 'a brand new password' };
      assertProblem(await server.request('POST', '/v1/me/password', { cookie, json: pw }), 403, 'csrf_failed');

      assertProblem(await server.request('DELETE', '/v1/me', { cookie, json: { password: PASSWORD } }), 403, 'csrf_failed');
      assert.equal((await me({ token })).status, 200, 'not deleted');

      assertProblem(await server.request('POST', '/v1/auth/logout', { cookie }), 403, 'csrf_failed');
      assert.equal((await me({ token })).status, 200, 'not logged out');
      const out = await server.request('POST', '/v1/auth/logout', { cookie, headers: csrf });
      assert.equal(out.status, 204, out.text);
      assertInvalidToken(await me({ cookie }));
    });

    test('the tessera_csrf cookie value is the CSRF token', async () => {
      const { res, token } = await signUp(server);
      const csrf = cookieFrom(res.setCookies, 'tessera_csrf').value;
      const ok = await server.request('PATCH', '/v1/me', {
        cookie: `tessera_session=${token}; tessera_csrf=${csrf}`,
        headers: { 'x-csrf-token': csrf },
        json: { full_name: 'Double Submit' },
      });
      assert.equal(ok.status, 200, ok.text);
    });

    test('a garbage session cookie is 401 invalid_token', async () => {
      assertInvalidToken(await me({ cookie: 'tessera_session=nonsense' }));
    });
  });

  describe('GET /v1/sessions', () => {
    test('lists my sessions, newest first, with exactly one current', async () => {
      const { email, token, session } = await signUp(server);
      const second = await newLogin(email);
      const third = await newLogin(email);
      const stranger = await signUp(server);
      const res = await server.request('GET', '/v1/sessions', { token: second.token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
      assert.equal(res.body.next_cursor, null);
      const ids = res.body.items.map((s) => s.id);
      assert.deepEqual(new Set(ids), new Set([session.id, second.id, third.id]));
      assert.ok(!ids.includes(stranger.session.id), "another user's session is not listed");
      assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
      for (const s of res.body.items) {
        assert.deepEqual(
          Object.keys(s).sort(),
          ['created_at', 'current', 'expires_at', 'id', 'idle_expires_at', 'ip', 'last_used_at', 'user_agent'].sort(),
        );
        assert.match(s.id, UUID_V7);
        for (const k of ['created_at', 'expires_at', 'idle_expires_at', 'last_used_at']) assert.match(s[k], RFC3339_MICROS);
        assert.ok(s.idle_expires_at <= s.expires_at);
        assert.equal(s.ip, '127.0.0.1');
        assert.equal(typeof s.user_agent, 'string');
        assert.ok(!('token' in s), 'tokens are never listed');
        assert.ok(!JSON.stringify(s).includes(token));
      }
      assert.deepEqual(
        res.body.items.filter((s) => s.current).map((s) => s.id),
        [second.id],
      );
    });

    test('pagination with limit and cursor', async () => {
      const { email, token, session } = await signUp(server);
      const all = [session.id];
      for (let i = 0; i < 4; i++) all.push((await newLogin(email)).id);
      const seen = [];
      let cursor = null;
      let pages = 0;
      do {
        const q = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const res = await server.request('GET', `/v1/sessions${q}`, { token });
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.items.length <= 2);
        seen.push(...res.body.items.map((s) => s.id));
        cursor = res.body.next_cursor;
        assert.ok(cursor === null || (typeof cursor === 'string' && cursor.length > 0));
        pages += 1;
        assert.ok(pages <= 5, 'pagination ends');
      } while (cursor);
      assert.equal(pages, 3);
      assert.equal(seen.length, 5, 'no session twice');
      assert.deepEqual(new Set(seen), new Set(all));
      assert.deepEqual(seen, [...all].sort().reverse());

      const one = await server.request('GET', '/v1/sessions?limit=5', { token });
      assert.equal(one.body.items.length, 5);
      assert.equal(one.body.next_cursor, null, 'no next page when everything fits');
    });

    test('a bad limit is 422 naming limit, a bad cursor 400 invalid_cursor', async () => {
      const { token } = await signUp(server);
      for (const limit of ['0', '1001', 'abc', '-1', '2.5']) {
        const res = await server.request('GET', `/v1/sessions?limit=${limit}`, { token });
        assertValidation(res, 'limit:range');
      }
      assert.equal((await server.request('GET', '/v1/sessions?limit=1000', { token })).status, 200);
      assertProblem(await server.request('GET', '/v1/sessions?cursor=%21%21%21', { token }), 400, 'invalid_cursor');
    });
  });

  describe('DELETE /v1/sessions/{id}', () => {
    test('revokes one of my sessions: 204, its token dies, the others live', async () => {
      const { email, token } = await signUp(server);
      const other = await newLogin(email);
      const res = await server.request('DELETE', `/v1/sessions/${other.id}`, { token });
      assert.equal(res.status, 204, res.text);
      assertInvalidToken(await me({ token: other.token }));
      assert.equal((await me({ token })).status, 200);
      const list = await server.request('GET', '/v1/sessions', { token });
      assert.ok(!list.body.items.some((s) => s.id === other.id));
      assertProblem(await server.request('DELETE', `/v1/sessions/${other.id}`, { token }), 404, 'session_not_found');
    });

    test("another user's session id is 404 session_not_found and stays alive", async () => {
      const mine = await signUp(server);
      const theirs = await signUp(server);
      const res = await server.request('DELETE', `/v1/sessions/${theirs.session.id}`, { token: mine.token });
      assertProblem(res, 404, 'session_not_found');
      assert.equal((await me({ token: theirs.token })).status, 200);
    });

    test('an unknown id is 404 session_not_found', async () => {
      const { token } = await signUp(server);
      for (const id of ['01a21013-63d5-7317-bb17-332bdd4dcf05', 'not-a-uuid']) {
        assertProblem(await server.request('DELETE', `/v1/sessions/${id}`, { token }), 404, 'session_not_found');
      }
    });

    test('revoking the current session ends it', async () => {
      const { token, session } = await signUp(server);
      const res = await server.request('DELETE', `/v1/sessions/${session.id}`, { token });
      assert.equal(res.status, 204, res.text);
      assertInvalidToken(await me({ token }));
    });
  });
});

describe('idle timeout (TESSERA_SESSION_IDLE_TIMEOUT=2s)', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { TESSERA_SESSION_IDLE_TIMEOUT: '2s' } });
  });
  after(async () => {
    await server?.close();
  });

  test('the issued session carries the configured idle expiry', async () => {
    const { session } = await signUp(server);
    const gap = Date.parse(session.expires_at) - Date.parse(session.idle_expires_at);
    assert.equal(gap, 30 * 86400 * 1000 - 2000, 'idle expiry = issue time + 2 s; lifetime 30 d');
  });

  test('use every ~0.7 s keeps the session alive past 2 s; 2.5 s idle expires it', async () => {
    const { token } = await signUp(server);
    const started = Date.now();
    let uses = 0;
    // Well past the 2 s idle timeout, always used within it.
    while (Date.now() - started < 4200) {
      await sleep(700);
      const res = await server.request('GET', '/v1/me', { token });
      assert.equal(res.status, 200, `use ${uses + 1} after ${Date.now() - started} ms: ${res.text}`);
      uses += 1;
    }
    assert.ok(uses >= 3, `used ${uses} times over more than 4 s`);
    const list = await server.request('GET', '/v1/sessions', { token });
    const current = list.body.items.find((s) => s.current);
    assert.ok(Date.parse(current.idle_expires_at) > started + 2000, 'the idle expiry slid forward');

    await sleep(2500);
    const res = await server.request('GET', '/v1/me', { token });
    assertInvalidToken(res, 'session_expired');
    // It stays expired.
    assertInvalidToken(await server.request('GET', '/v1/me', { token }), 'session_expired');
  });

  test('GET /v1/sessions leaves out a session that expired while another is in use', async () => {
    const { token: idle, email } = await signUp(server);
    const active = await logIn(server, { email });
    assert.equal(active.status, 200);
    const started = Date.now();
    while (Date.now() - started < 2800) {
      await sleep(700);
      assert.equal((await server.request('GET', '/v1/me', { token: active.body.session.token })).status, 200);
    }
    const list = await server.request('GET', '/v1/sessions', { token: active.body.session.token });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.body.items.map((s) => s.id),
      [active.body.session.id],
    );
    assertInvalidToken(await server.request('GET', '/v1/me', { token: idle }), 'session_expired');
  });

  test('an expired session cannot log out or list sessions', async () => {
    const { token } = await signUp(server);
    await sleep(2500);
    assertInvalidToken(await server.request('GET', '/v1/sessions', { token }), 'session_expired');
    assertInvalidToken(await server.request('POST', '/v1/auth/logout', { token }), 'session_expired');
  });
});

describe('absolute lifetime (TESSERA_SESSION_LIFETIME=3s)', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { TESSERA_SESSION_LIFETIME: '3s' } });
  });
  after(async () => {
    await server?.close();
  });

  test('the lifetime caps the idle expiry and the cookie', async () => {
    const { session, res } = await signUp(server);
    assert.equal(session.idle_expires_at, session.expires_at, 'the idle expiry never passes the lifetime');
    assert.match(cookieFrom(res.setCookies, 'tessera_session').attributes, /Max-Age=3(;|$)/);
  });

  test('a session in constant use still ends at its lifetime with session_expired', async () => {
    const { token, session, email } = await signUp(server);
    const expiresAt = Date.parse(session.expires_at);
    let ok = 0;
    let last;
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      last = await server.request('GET', '/v1/me', { token });
      if (last.status !== 200) break;
      ok += 1;
      await sleep(400);
    }
    assert.ok(ok >= 2, `the session worked while in use (${ok} uses)`);
    assertInvalidToken(last, 'session_expired');
    assert.ok(Date.now() >= expiresAt - 1000, 'it ended around expires_at, not because of idleness');
    // Signing in again gives a fresh session.
    const again = await logIn(server, { email });
    assert.equal(again.status, 200, again.text);
    assert.equal((await server.request('GET', '/v1/me', { token: again.body.session.token })).status, 200);
  });
});
