// Back-pressure: with one hashing thread and a queue of one, a burst of logins at the default Argon2id
// cost gets some 200s and fast 503 overloaded answers (with Retry-After), never a hang or a 500, and
// requests that need no hashing keep being served.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { metricValue, startServer } from '../support/server.mjs';
import { PASSWORD, assertProblem, eventually, logIn, signUp } from '../support/api.mjs';

let server;
let account;
before(async () => {
  server = await startServer({
    fast: false, // the default hash cost
    env: { TESSERA_PASSWORD_WORKERS: '1', TESSERA_PASSWORD_QUEUE_LIMIT: '1' },
  });
  account = await signUp(server);
});
after(async () => {
  await server?.close();
});

const BURST = 20;

function burstOfLogins(n = BURST) {
  return Array.from({ length: n }, () =>
    server.request('POST', '/v1/auth/login', { json: { email: account.email, password: PASSWORD } }).then(
      (res) => ({ res }),
      (error) => ({ error }),
    ),
  );
}

describe('a burst of logins against a full hashing pool', () => {
  test('some succeed, the rest get 503 overloaded with Retry-After; none fails otherwise', async () => {
    const results = await Promise.all(burstOfLogins());
    const statuses = [];
    for (const { res, error } of results) {
      assert.ok(!error, `a login did not get an answer: ${error?.cause?.code ?? error?.message}`);
      statuses.push(res.status);
      if (res.status === 200) {
        assert.equal(res.body.user.id, account.user.id);
        assert.match(res.body.session.token, /^tss_/);
      } else {
        const body = assertProblem(res, 503, 'overloaded');
        assert.ok(body.detail.length > 0);
        const retryAfter = res.headers.get('retry-after');
        assert.match(retryAfter || '', /^\d+$/, 'Retry-After is a number of seconds');
        assert.ok(Number(retryAfter) >= 1);
      }
    }
    const ok = statuses.filter((s) => s === 200).length;
    const overloaded = statuses.filter((s) => s === 503).length;
    assert.equal(ok + overloaded, BURST, `only 200 and 503: ${statuses}`);
    assert.ok(ok >= 1, `some logins succeed: ${statuses}`);
    assert.ok(overloaded >= 1, `the rest are refused at once: ${statuses}`);
  });

  test('GET /v1/me keeps answering while the hashing pool is saturated', async () => {
    const logins = burstOfLogins();
    const reads = Array.from({ length: 10 }, () => server.request('GET', '/v1/me', { token: account.token }));
    const health = server.request('GET', '/healthz');
    for (const res of await Promise.all(reads)) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, account.user.id);
    }
    assert.equal((await health).status, 200);
    for (const { res, error } of await Promise.all(logins)) {
      assert.ok(!error, `a login did not get an answer: ${error?.cause?.code ?? error?.message}`);
      assert.ok([200, 503].includes(res.status), `${res.status} ${res.text}`);
    }
  });

  test('sign-ups and password changes under the same burst are 201/204 or 503, never 500', async () => {
    const mixed = [
      ...burstOfLogins(10),
      ...Array.from({ length: 5 }, (_, i) =>
        server
          .request('POST', '/v1/auth/signup', { json: { email: `burst-${Date.now()}-${i}@example.com`, password: PASSWORD } })
          .then(
            (res) => ({ res }),
            (error) => ({ error }),
          ),
      ),
    ];
    for (const { res, error } of await Promise.all(mixed)) {
      assert.ok(!error, `no answer: ${error?.cause?.code ?? error?.message}`);
      assert.ok([200, 201, 503].includes(res.status), `${res.status} ${res.text}`);
      if (res.status === 503) assertProblem(res, 503, 'overloaded');
    }
  });

  test('afterwards the server answers normally and the queue drains', async () => {
    const depth = await eventually(
      async () => {
        const m = await server.request('GET', '/metrics');
        return metricValue(m.text, 'tessera_hash_queue_depth') === 0 ? m : null;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'hash queue empty' },
    );
    assert.ok(depth);
    const res = await logIn(server, { email: account.email });
    assert.equal(res.status, 200, res.text);
    assert.equal((await server.request('GET', '/readyz')).status, 200);
    // Refusals for overload are not counted as failed credentials.
    const m = await server.request('GET', '/metrics');
    assert.equal(metricValue(m.text, 'tessera_login_failures_total'), 0);
    assert.ok(metricValue(m.text, 'tessera_http_requests_total', { route: 'POST /v1/auth/login', status: '503' }) >= 1);
    assert.equal(metricValue(m.text, 'tessera_http_requests_total', { route: 'POST /v1/auth/login', status: '500' }), undefined);
  });
});
