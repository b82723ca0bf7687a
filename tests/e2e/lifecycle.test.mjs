// The process: data survives a clean restart and a crash (kill -9) once acknowledged, and SIGTERM
// drains in-flight requests, stops accepting and exits 0.
// The graceful-shutdown test keeps the default Argon2id cost, so that logins are really in flight.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

import { metricValue, runCli, startServer } from '../support/server.mjs';
import { PASSWORD, assertProblem, eventually, logIn, signUp } from '../support/api.mjs';

const servers = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function start(options) {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

// Resolves 'refused' when a TCP connection to the port is refused, 'accepted' when it is accepted.
function tryConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(2000);
    socket.on('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : e.code));
  });
}

describe('restart', () => {
  test('data and sessions survive SIGTERM (exit 0) and a new start on the same data dir', async () => {
    const server = await start();
    const { user, token, email } = await signUp(server, { full_name: 'Persistent', tags: ['kept'], data: { a: { b: 1 } } });
    const second = await logIn(server, { email });
    assert.equal(second.status, 200);

    const code = await server.stop();
    assert.equal(code, 0, `exit code after SIGTERM (signal ${server.exitSignal})`);
    const lines = server.logs().map((l) => l.msg);
    assert.ok(lines.includes('stopped'), 'the server logged that it stopped');

    await server.restart();
    assert.ok(server.url, 'listening again');
    const login = await logIn(server, { email });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.user.id, user.id);
    const me = await server.request('GET', '/v1/me', { token });
    assert.equal(me.status, 200, `the old session token still works: ${me.text}`);
    assert.equal(me.body.id, user.id);
    assert.equal(me.body.full_name, 'Persistent');
    assert.deepEqual(me.body.tags, ['kept']);
    assert.deepEqual(me.body.data, { a: { b: 1 } });
    assert.equal((await server.request('GET', '/v1/me', { token: second.body.session.token })).status, 200);
    const sessions = await server.request('GET', '/v1/sessions', { token });
    assert.equal(sessions.body.items.length, 3);

    // Still one project: the restart did not create another "default".
    const list = await runCli(['project', 'list', '--data-dir', server.dataDir]);
    assert.equal(list.stdout.trim().split('\n').length, 1, list.stdout);
  });

  test('a revoked session stays revoked across a restart', async () => {
    const server = await start();
    const { token, email } = await signUp(server);
    const other = (await logIn(server, { email })).body.session;
    assert.equal((await server.request('POST', '/v1/auth/logout', { token: other.token })).status, 204);
    assert.equal(await server.stop(), 0);
    await server.restart();
    assertProblem(await server.request('GET', '/v1/me', { token: other.token }), 401, 'invalid_token');
    assert.equal((await server.request('GET', '/v1/me', { token })).status, 200);
  });
});

describe('crash (kill -9)', () => {
  test('acknowledged sign-ups, profile changes and password changes are there after a restart', async () => {
    const server = await start();
    const a = await signUp(server);
    const otherOfA = (await logIn(server, { email: a.email })).body.session;
    const patch = await server.request('PATCH', '/v1/me', { token: a.token, json: { data: { saved: true } } });
    assert.equal(patch.status, 200, patch.text);
    const change = await server.request('POST', '/v1/me/password', {
      token: a.token,
      json: { old_password: PASSWORD, new_password: 'the new password' },
    });
    assert.equal(change.status, 204, change.text);
    const b = await signUp(server, { full_name: 'Last Write' });
    // No pause: the process dies right after the acknowledgements.
    await server.kill();
    assert.equal(server.exitSignal, 'SIGKILL');

    await server.restart();
    const newLogin = await logIn(server, { email: a.email, password: 'the new password' });
    assert.equal(newLogin.status, 200, newLogin.text);
    assert.equal(newLogin.body.user.id, a.user.id);
    assert.deepEqual(newLogin.body.user.data, { saved: true });
    assertProblem(await logIn(server, { email: a.email, password: PASSWORD }), 401, 'invalid_credentials');
    assertProblem(await server.request('GET', '/v1/me', { token: otherOfA.token }), 401, 'invalid_token');
    assert.equal((await server.request('GET', '/v1/me', { token: a.token })).status, 200);

    const lb = await logIn(server, { email: b.email });
    assert.equal(lb.status, 200, lb.text);
    assert.equal(lb.body.user.id, b.user.id);
    assert.equal(lb.body.user.full_name, 'Last Write');
    assert.equal((await server.request('GET', '/v1/me', { token: b.token })).status, 200);
  });

  test('a user deleted just before the crash stays deleted', async () => {
    const server = await start();
    const a = await signUp(server);
    const del = await server.request('DELETE', '/v1/me', { token: a.token, json: { password: PASSWORD } });
    assert.equal(del.status, 204);
    await server.kill();
    await server.restart();
    assertProblem(await logIn(server, { email: a.email }), 401, 'invalid_credentials');
    assertProblem(await server.request('GET', '/v1/me', { token: a.token }), 401, 'invalid_token');
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM lets in-flight logins finish with full responses, stops accepting, exits 0', async (t) => {
    // Default Argon2id cost and one hashing thread: the logins queue up and take a while.
    const server = await start({ fast: false, env: { TESSERA_PASSWORD_WORKERS: '1' } });
    const { email, user } = await signUp(server);
    const port = server.port;

    const N = 10;
    let finished = 0;
    const logins = Array.from({ length: N }, () =>
      server
        .request('POST', '/v1/auth/login', { json: { email, password: PASSWORD } })
        .then(
          (res) => ({ res }),
          (error) => ({ error }),
        )
        .finally(() => {
          finished += 1;
        }),
    );

    // Wait until the server holds every login (hashing, queued or answered) before signalling.
    await eventually(
      async () => {
        const m = await server.request('GET', '/metrics');
        const depth = metricValue(m.text, 'tessera_hash_queue_depth') ?? 0;
        return depth + finished >= N;
      },
      { timeoutMs: 10_000, intervalMs: 5, what: 'all logins received' },
    );
    const pendingAtSignal = N - finished;
    server.child.kill('SIGTERM');

    // New connections are refused from now on (bounded wait for the acceptor to close).
    const refused = await eventually(async () => (await tryConnect(port)) === 'refused', {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'connections refused after SIGTERM',
    });
    assert.ok(refused);

    const results = await Promise.all(logins);
    for (const { res, error } of results) {
      assert.ok(!error, `an in-flight login failed: ${error?.cause?.code ?? error?.message}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.id, user.id);
      assert.match(res.body.session.token, /^tss_[A-Za-z0-9_-]{43}$/);
    }
    const code = await server.waitForExit(20_000);
    assert.equal(code, 0, `exit code (signal ${server.exitSignal})`);
    const msgs = server.logs().map((l) => l.msg);
    assert.ok(msgs.some((m) => /shutting down/.test(m)), 'logged the shutdown');
    assert.ok(msgs.includes('stopped'));
    // Diagnostic only (never asserted: it depends on timing).
    t.diagnostic(`logins still in flight at SIGTERM: ${pendingAtSignal}`);

    // The sessions issued during the drain are valid after a restart.
    await server.restart();
    const me = await server.request('GET', '/v1/me', { token: results[N - 1].res.body.session.token });
    assert.equal(me.status, 200, me.text);
  });

  test('SIGTERM closes idle keep-alive connections and exits 0', async () => {
    const server = await start();
    const socket = net.connect(server.port, '127.0.0.1');
    let closed = false;
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    const code = await server.stop();
    assert.equal(code, 0, `exit code after SIGTERM (signal ${server.exitSignal}); log tail: ${server.logs().slice(-3).map((l) => l.msg)}`);
    await eventually(() => closed, { timeoutMs: 5000, intervalMs: 20, what: 'idle connection closed' });
    socket.destroy();
  });

  test('SIGINT stops the server too', async () => {
    const server = await start();
    server.child.kill('SIGINT');
    assert.equal(await server.waitForExit(15_000), 0);
  });
});

// Password hashing runs in one helper process per hashing thread (crypto/hash_worker.hpp).
describe('hash workers', () => {
  function childrenOf(pid) {
    const kids = [];
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) kids.push(...text.split(/\s+/).map(Number));
    }
    return kids;
  }
  const niceOf = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  test('one niced worker per hashing thread; a killed worker is replaced and logins keep working; all exit with the server', async () => {
    const server = await start({ env: { TESSERA_PASSWORD_WORKERS: '2' } });
    const { email } = await signUp(server);
    const workers = childrenOf(server.pid);
    assert.equal(workers.length, 2, `hash workers: ${workers}`);
    for (const pid of workers) assert.equal(niceOf(pid), 10, 'workers run below the I/O threads');

    for (const pid of workers) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 4; i++) {
      const login = await logIn(server, { email });
      assert.equal(login.status, 200, login.text);
    }
    const replaced = childrenOf(server.pid);
    assert.equal(replaced.length, 2);
    for (const pid of replaced) assert.ok(!workers.includes(pid), 'killed workers were replaced');

    assert.equal(await server.stop(), 0);
    await eventually(() => replaced.every((pid) => !alive(pid)), { what: 'workers exited with the server' });
  });
});
