// The HTTP layer: routing errors, size limits, keep-alive, idle connections, and the operational
// endpoints (/healthz, /readyz, /metrics, /openapi.json).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import { metricValue, parseHttpResponse, rawExchange, startServer } from '../support/server.mjs';
import { PASSWORD, assertProblem, assertRequestId, signUp, uniqueEmail } from '../support/api.mjs';

// A whole request in one write: headers and body.
function rawPost(path, body, extraHeaders = '') {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`
  );
}

// Streams an oversized body the way an ordinary client does: the headers, then the body in chunks,
// each written once the previous one is accepted. Returns { data (all received), error, written }.
function streamOversized(port, total, { chunkSize = 64 * 1024, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received = [];
    let error = null;
    let written = 0;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(received).toString('latin1');
      resolve({ data, error, written, response: parseHttpResponse(data) });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d) => received.push(d));
    socket.on('error', (e) => {
      error = error ?? e.code;
    });
    socket.on('close', done);
    socket.on('connect', () => {
      socket.write(
        'POST /v1/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${total}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(chunkSize, 'a');
      const pump = () => {
        if (error || finished) return;
        if (written >= total) {
          socket.end();
          return;
        }
        const n = Math.min(chunkSize, total - written);
        written += n;
        socket.write(n === chunkSize ? chunk : chunk.subarray(0, n), (err) => {
          if (!err) pump();
        });
      };
      pump();
    });
  });
}

// Problem checks on a raw response ({status, headers, json}).
function assertRawProblem(response, status, code) {
  assert.ok(response, 'an HTTP response came back');
  assert.equal(response.status, status, JSON.stringify(response));
  assert.match(response.headers['content-type'] || '', /^application\/problem\+json/);
  assert.ok(response.json, `a JSON body: ${response.body}`);
  assert.equal(response.json.code, code);
  assert.equal(response.json.status, status);
  for (const k of ['type', 'title', 'detail']) assert.equal(typeof response.json[k], 'string', k);
}

// GET over a given agent; resolves { status, body, reusedSocket, socket }.
function agentGet(agent, port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, reusedSocket: req.reusedSocket, socket: req.socket }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

describe('default limits', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  describe('routing', () => {
    test('unknown paths are 404 not_found', async () => {
      for (const path of ['/nope', '/v1', '/v1/unknown', '/v1/me/', '/v1/me/extra', '/v1/sessions/', '/v1//me']) {
        const res = await server.request('GET', path);
        assertProblem(res, 404, 'not_found');
      }
      assertProblem(await server.request('POST', '/v1/auth/nothing', { json: {} }), 404, 'not_found');
    });

    test('a known path with another method is 405 method_not_allowed with Allow', async () => {
      const cases = [
        ['GET', '/v1/auth/login', ['POST']],
        ['GET', '/v1/auth/signup', ['POST']],
        ['PUT', '/v1/me', ['GET', 'PATCH', 'DELETE']],
        ['POST', '/healthz', ['GET']],
        ['DELETE', '/metrics', ['GET']],
        ['GET', '/v1/sessions/01a21013-63d5-7317-bb17-332bdd4dcf05', ['DELETE']],
        ['POST', '/v1/sessions', ['GET']],
      ];
      for (const [method, path, allowed] of cases) {
        const res = await server.request(method, path);
        assertProblem(res, 405, 'method_not_allowed');
        const allow = (res.headers.get('allow') || '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const m of allowed) assert.ok(allow.includes(m), `${method} ${path}: Allow ${allow} has ${m}`);
        assert.ok(!allow.includes(method), `${method} ${path}: Allow does not list ${method}`);
      }
    });

    test('HEAD is answered like GET without a body', async () => {
      const res = await server.request('HEAD', '/healthz');
      assert.equal(res.status, 200);
      assert.equal(res.text, '');
      assertRequestId(res);
    });

    test('a query string does not change the route', async () => {
      const res = await server.request('GET', '/healthz?verbose=1');
      assert.equal(res.status, 200);
    });

    test('a request that is not HTTP is 400 malformed_request', async () => {
      const { response } = await rawExchange(server.port, 'NOT HTTP AT ALL\r\n\r\n');
      assertRawProblem(response, 400, 'malformed_request');
    });
  });

  describe('size limits', () => {
    test('a body over 1 MiB is 413 payload_too_large', async () => {
      // The headers and the start of the body; the server can judge by Content-Length. (Clients that
      // keep sending are covered below.)
      const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, data: { blob: 'x'.repeat(1100 * 1024) } });
      const head = rawPost('/v1/auth/signup', body).slice(0, -body.length);
      const { response } = await rawExchange(server.port, head + body.slice(0, 1024), { timeoutMs: 10_000 });
      assertRawProblem(response, 413, 'payload_too_large');
      assert.equal(response.headers.connection, 'close');
    });

    test('a declared Content-Length over 1 MiB is 413 before the body is sent', async () => {
      // The client sends the headers and waits (as curl does with Expect: 100-continue).
      for (const expect of ['', 'Expect: 100-continue\r\n']) {
        const head =
          'POST /v1/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${2 * 1024 * 1024}\r\n${expect}\r\n`;
        const { response } = await rawExchange(server.port, head, { timeoutMs: 5000 });
        assertRawProblem(response, 413, 'payload_too_large');
      }
    });

    test('a client still streaming an oversized body receives the 413 (the connection is not reset under it)', async () => {
      // RFC 9112 section 9.6: closing at once while the client sends makes it lose the response;
      // fetch, curl and this raw client all see EPIPE/ECONNRESET instead of the 413.
      const r = await streamOversized(server.port, 2 * 1024 * 1024);
      assert.ok(r.response, `no response received (socket error ${r.error}, ${r.written} body bytes written)`);
      assert.equal(r.response.status, 413);
      assert.equal(r.response.json?.code, 'payload_too_large');
    });

    test('a chunked body over 1 MiB is 413', async () => {
      const chunk = 'a'.repeat(64 * 1024);
      let payload =
        'POST /v1/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n';
      for (let i = 0; i < 20; i++) payload += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
      payload += '0\r\n\r\n';
      const { response } = await rawExchange(server.port, payload, { timeoutMs: 10_000 });
      assertRawProblem(response, 413, 'payload_too_large');
    });

    test('a body just under the limit is read (and judged on its content)', async () => {
      const res = await server.request('POST', '/v1/auth/signup', {
        json: { email: uniqueEmail(), password: PASSWORD, data: { blob: 'x'.repeat(1000 * 1024) } },
      });
      assertProblem(res, 422, 'validation_failed');
    });

    test('oversized headers are 431 headers_too_large', async () => {
      const res = await server.request('GET', '/healthz', { headers: { 'x-padding': 'p'.repeat(20 * 1024) } });
      assert.equal(res.status, 431, res.text);
      assert.equal(res.body.code, 'headers_too_large');
      assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
      // The server still serves normal requests afterwards.
      assert.equal((await server.request('GET', '/healthz')).status, 200);
    });

    test('responses refused while reading the request carry X-Request-Id too', async () => {
      const refusals = {
        413: await rawExchange(
          server.port,
          'POST /v1/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${2 * 1024 * 1024}\r\n\r\n`,
          { timeoutMs: 10_000 },
        ),
        431: await rawExchange(
          server.port,
          `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(20 * 1024)}\r\n\r\n`,
        ),
        400: await rawExchange(server.port, 'NOT HTTP AT ALL\r\n\r\n'),
      };
      const missing = [];
      for (const [status, { response }] of Object.entries(refusals)) {
        assert.equal(response?.status, Number(status), `a ${status} answer`);
        if (!response.headers['x-request-id']) missing.push(status);
      }
      assert.deepEqual(missing, [], `answers without X-Request-Id: ${missing.join(', ')}`);
    });
  });

  describe('connections', () => {
    test('keep-alive: several requests on one connection', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const sockets = new Set();
        const results = [];
        for (let i = 0; i < 5; i++) {
          const r = await agentGet(agent, server.port, i % 2 ? '/readyz' : '/healthz');
          assert.equal(r.status, 200);
          sockets.add(r.socket);
          results.push(r);
        }
        assert.equal(sockets.size, 1, 'one TCP connection served every request');
        assert.deepEqual(
          results.map((r) => r.reusedSocket),
          [false, true, true, true, true],
        );
        assert.notEqual(results[0].headers.connection, 'close');
      } finally {
        agent.destroy();
      }
    });

    test('keep-alive carries errors and successes alike', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const a = await agentGet(agent, server.port, '/nope');
        const b = await agentGet(agent, server.port, '/v1/me');
        const c = await agentGet(agent, server.port, '/healthz');
        assert.deepEqual([a.status, b.status, c.status], [404, 401, 200]);
        assert.equal(c.reusedSocket, true);
        assert.equal(a.socket, c.socket);
      } finally {
        agent.destroy();
      }
    });

    test('Connection: close is honoured', async () => {
      const { response, closed } = await rawExchange(
        server.port,
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
        { timeoutMs: 5000 },
      );
      assert.equal(response?.status, 200);
      assert.equal(response.headers.connection, 'close');
      assert.equal(closed, true, 'the server closed the connection');
    });

    test('pipelined requests are answered in order', async () => {
      const one = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
      const two = 'GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
      const { data } = await rawExchange(server.port, one + two, { timeoutMs: 5000 });
      const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      assert.deepEqual(statuses, [200, 404]);
    });
  });

  describe('operational endpoints', () => {
    test('/healthz and /readyz are 200', async () => {
      const health = await server.request('GET', '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok' });
      assertRequestId(health);
      const ready = await server.request('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
    });

    test('/metrics is Prometheus text with requests, latencies, hash queue and sessions', async () => {
      await signUp(server);
      await server.request('GET', '/healthz');
      const res = await server.request('GET', '/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/plain/);
      for (const name of [
        'tessera_http_requests_total',
        'tessera_http_request_duration_seconds_bucket',
        'tessera_hash_queue_depth',
        'tessera_sessions_active',
        'tessera_logins_total',
        'tessera_login_failures_total',
      ]) {
        assert.match(res.text, new RegExp(`^${name}[{ ]`, 'm'), `${name} is exported`);
        assert.match(res.text, new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'), `${name} has a TYPE line`);
      }
      const healthz = metricValue(res.text, 'tessera_http_requests_total', { route: 'GET /healthz', status: '200' });
      assert.ok(healthz >= 1, `GET /healthz 200 counted: ${healthz}`);
      const signups = metricValue(res.text, 'tessera_http_requests_total', { route: 'POST /v1/auth/signup', status: '201' });
      assert.ok(signups >= 1);
      const inf = metricValue(res.text, 'tessera_http_request_duration_seconds_bucket', { route: 'GET /healthz', le: '+Inf' });
      assert.ok(inf >= 1, 'the +Inf bucket counts every request');
      assert.equal(metricValue(res.text, 'tessera_hash_queue_depth'), 0, 'nothing is hashing now');
      assert.ok(metricValue(res.text, 'tessera_sessions_active') >= 1);
      // Every sample line parses.
      for (const line of res.text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|\+Inf|NaN)$/, line);
      }
    });

    test('the request counter moves with each request', async () => {
      const count = async () =>
        metricValue((await server.request('GET', '/metrics')).text, 'tessera_http_requests_total', {
          route: 'GET /readyz',
          status: '200',
        }) ?? 0;
      const before0 = await count();
      await server.request('GET', '/readyz');
      await server.request('GET', '/readyz');
      assert.equal(await count(), before0 + 2);
    });

    test('/openapi.json is an OpenAPI 3.1 JSON document', async () => {
      const res = await server.request('GET', '/openapi.json');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      assert.equal(typeof res.body, 'object');
      assert.match(res.body.openapi, /^3\.1\.\d+$/);
      assert.equal(typeof res.body.info?.title, 'string');
    });

    test('/openapi.json describes the endpoints that are built', async () => {
      const res = await server.request('GET', '/openapi.json');
      const paths = res.body.paths || {};
      const built = {
        '/v1/auth/signup': ['post'],
        '/v1/auth/login': ['post'],
        '/v1/auth/guest': ['post'],
        '/v1/auth/logout': ['post'],
        '/v1/me': ['get', 'patch', 'delete'],
        '/v1/me/password': ['post'],
        '/v1/sessions': ['get'],
        '/v1/sessions/{id}': ['delete'],
        '/v1/auth/password-reset': ['post'],
        '/v1/auth/password-reset/confirm': ['post'],
        '/v1/auth/verify-email': ['post'],
        '/v1/auth/verify-email/confirm': ['post'],
        '/v1/me/avatar': ['put', 'delete'],
        '/v1/users/{id}/avatar': ['get', 'head'],
        '/v1/webhooks': ['post', 'get'],
        '/v1/webhooks/{id}': ['get', 'patch', 'delete'],
        '/v1/webhooks/{id}/rotate-secret': ['post'],
        '/v1/webhooks/{id}/deliveries': ['get'],
        '/v1/project': ['get', 'patch'],
        '/healthz': ['get'],
        '/readyz': ['get'],
        '/metrics': ['get'],
      };
      for (const [path, methods] of Object.entries(built)) {
        assert.ok(paths[path], `${path} is described`);
        for (const m of methods) assert.ok(paths[path][m], `${m.toUpperCase()} ${path} is described`);
      }
    });
  });
});

describe('TESSERA_SERVER_BODY_LIMIT=2KiB', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { TESSERA_SERVER_BODY_LIMIT: '2KiB' } });
  });
  after(async () => {
    await server?.close();
  });

  test('a 3 KiB body is 413, a 1 KiB body is read', async () => {
    const big = await server.request('POST', '/v1/auth/signup', {
      json: { email: uniqueEmail(), password: PASSWORD, data: { blob: 'x'.repeat(3 * 1024) } },
    });
    assert.equal(big.status, 413, big.text);
    assert.equal(big.body.code, 'payload_too_large');
    const small = await server.request('POST', '/v1/auth/signup', {
      json: { email: uniqueEmail(), password: PASSWORD, data: { blob: 'x'.repeat(1024) } },
    });
    assert.equal(small.status, 201, small.text);
  });
});

describe('TESSERA_SERVER_IDLE_TIMEOUT=1s', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { TESSERA_SERVER_IDLE_TIMEOUT: '1s' } });
  });
  after(async () => {
    await server?.close();
  });

  test('a client that connects and sends nothing is disconnected', async () => {
    const { closed, data } = await rawExchange(server.port, '', { timeoutMs: 8000 });
    assert.equal(closed, true, 'the server closed the silent connection');
    assert.equal(data, '', 'without an answer');
  });

  test('a client that stops in the middle of its headers is disconnected', async () => {
    const { closed } = await rawExchange(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0', { timeoutMs: 8000 });
    assert.equal(closed, true);
  });

  test('an idle keep-alive connection is closed after its last response', async () => {
    const { closed, response } = await rawExchange(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', {
      timeoutMs: 8000,
    });
    assert.equal(response?.status, 200);
    assert.equal(closed, true);
  });

  test('the server keeps serving new connections', async () => {
    assert.equal((await server.request('GET', '/healthz')).status, 200);
  });
});
