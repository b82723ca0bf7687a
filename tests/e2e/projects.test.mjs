// Projects (tenants): the default project, naming a project by header or body once there are several,
// project-scoped identifiers, and sessions that stay inside their project.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createProject, runCli, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  assertProblem,
  assertValidation,
  eventually,
  uniqueEmail,
  uniqueLogin,
} from '../support/api.mjs';

let server;
let defaultProject; // { id, alias }
let second; // { id, alias }

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const signup = (json, headers) => server.request('POST', '/v1/auth/signup', { json, headers });
const login = (json, headers) => server.request('POST', '/v1/auth/login', { json, headers });

describe('a server with one project', () => {
  test('the first start creates the project "default"', async () => {
    const list = await runCli(['project', 'list', '--data-dir', server.dataDir]);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trim().split('\n').filter(Boolean);
    assert.equal(rows.length, 1, list.stdout);
    const [id, alias] = rows[0].split(/\s+/);
    assert.equal(alias, 'default');
    defaultProject = { id, alias };
  });

  test('requests without a project use it', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.user.project_id, defaultProject.id);
    const guest = await server.request('POST', '/v1/auth/guest');
    assert.equal(guest.status, 201);
    assert.equal(guest.body.user.project_id, defaultProject.id);
  });

  test('it can be named by alias or id, in the header or the body', async () => {
    for (const headers of [{ 'x-tessera-project': 'default' }, { 'x-tessera-project': defaultProject.id }]) {
      const res = await signup({ email: uniqueEmail(), password: PASSWORD }, headers);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.project_id, defaultProject.id);
    }
    for (const project of ['default', defaultProject.id]) {
      const res = await signup({ email: uniqueEmail(), password: PASSWORD, project });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.project_id, defaultProject.id);
    }
  });

  test('an unknown project is 404 project_not_found, even when only one exists', async () => {
    const byHeader = await signup({ email: uniqueEmail(), password: PASSWORD }, { 'x-tessera-project': 'nope' });
    const body = assertProblem(byHeader, 404, 'project_not_found');
    assert.match(body.detail, /nope/);
    assertProblem(await signup({ email: uniqueEmail(), password: PASSWORD, project: 'nope' }), 404, 'project_not_found');
    assertProblem(
      await login({ email: uniqueEmail(), password: PASSWORD }, { 'x-tessera-project': '01a21013-61e8-7f59-8678-0c3416255b0e' }),
      404,
      'project_not_found',
    );
    assertProblem(await server.request('POST', '/v1/auth/guest', { json: { project: 'nope' } }), 404, 'project_not_found');
  });

  test('a project field that is not a string is 422', async () => {
    assertValidation(await signup({ email: uniqueEmail(), password: PASSWORD, project: 42 }), 'project:type');
  });
});

describe('a server with two projects', () => {
  before(async () => {
    second = await createProject(server.dataDir, 'second');
    assert.equal(second.alias, 'second');
  });

  test('the CLI refuses a duplicate or malformed alias', async () => {
    const dup = await runCli(['project', 'create', '--alias', 'second', '--data-dir', server.dataDir]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /alias/i);
    const bad = await runCli(['project', 'create', '--alias', 'Not Valid!', '--data-dir', server.dataDir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /alias/i);
    const list = await runCli(['project', 'list', '--data-dir', server.dataDir]);
    assert.equal(list.stdout.trim().split('\n').length, 2, list.stdout);
  });

  test('requests naming no project get 400 project_required saying how to pass one', async () => {
    // The server picks the new project up within a few seconds.
    const res = await eventually(
      async () => {
        const r = await signup({ email: uniqueEmail(), password: PASSWORD });
        return r.status === 201 ? null : r;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'project_required once a second project exists' },
    );
    const body = assertProblem(res, 400, 'project_required');
    assert.match(body.detail, /X-Tessera-Project/);
    assert.match(body.detail, /"project"|project.*field|body/i);
    assertProblem(await login({ email: uniqueEmail(), password: PASSWORD }), 400, 'project_required');
    assertProblem(await server.request('POST', '/v1/auth/guest'), 400, 'project_required');
  });

  test('X-Tessera-Project by alias or id, or the "project" body field, selects the project', async () => {
    const byAlias = await signup({ email: uniqueEmail(), password: PASSWORD }, { 'x-tessera-project': 'second' });
    assert.equal(byAlias.status, 201, byAlias.text);
    assert.equal(byAlias.body.user.project_id, second.id);
    const byId = await signup({ email: uniqueEmail(), password: PASSWORD }, { 'x-tessera-project': second.id });
    assert.equal(byId.status, 201, byId.text);
    assert.equal(byId.body.user.project_id, second.id);
    const byBody = await signup({ email: uniqueEmail(), password: PASSWORD, project: 'second' });
    assert.equal(byBody.status, 201, byBody.text);
    assert.equal(byBody.body.user.project_id, second.id);
    const defaultByBody = await signup({ email: uniqueEmail(), password: PASSWORD, project: defaultProject.id });
    assert.equal(defaultByBody.status, 201, defaultByBody.text);
    assert.equal(defaultByBody.body.user.project_id, defaultProject.id);
    const guest = await server.request('POST', '/v1/auth/guest', { headers: { 'x-tessera-project': 'second' } });
    assert.equal(guest.status, 201, guest.text);
    assert.equal(guest.body.user.project_id, second.id);
  });

  test('a header and a body field naming different projects are refused', async () => {
    const res = await signup(
      { email: uniqueEmail(), password: PASSWORD, project: 'default' },
      { 'x-tessera-project': 'second' },
    );
    assertProblem(res, 400, 'project_mismatch');
    const same = await signup(
      { email: uniqueEmail(), password: PASSWORD, project: second.id },
      { 'x-tessera-project': 'second' },
    );
    assert.equal(same.status, 201, same.text);
  });

  test('unknown projects are 404 project_not_found', async () => {
    assertProblem(
      await signup({ email: uniqueEmail(), password: PASSWORD }, { 'x-tessera-project': 'third' }),
      404,
      'project_not_found',
    );
    assertProblem(await signup({ email: uniqueEmail(), password: PASSWORD, project: 'third' }), 404, 'project_not_found');
  });

  test('the same email signs up in both projects as two users', async () => {
    const email = uniqueEmail('twice');
    const a = await signup({ email, password: PASSWORD }, { 'x-tessera-project': 'default' });
    const b = await signup({ email, password: 'the other password' }, { 'x-tessera-project': 'second' });
    assert.equal(a.status, 201, a.text);
    assert.equal(b.status, 201, b.text);
    assert.notEqual(a.body.user.id, b.body.user.id);
    assert.equal(a.body.user.project_id, defaultProject.id);
    assert.equal(b.body.user.project_id, second.id);
    // Each password opens its own project only.
    const la = await login({ email, password: PASSWORD }, { 'x-tessera-project': 'default' });
    assert.equal(la.status, 200, la.text);
    assert.equal(la.body.user.id, a.body.user.id);
    const lb = await login({ email, password: 'the other password' }, { 'x-tessera-project': 'second' });
    assert.equal(lb.status, 200, lb.text);
    assert.equal(lb.body.user.id, b.body.user.id);
    assertProblem(await login({ email, password: PASSWORD }, { 'x-tessera-project': 'second' }), 401, 'invalid_credentials');
    // Within one project the email is still unique.
    assertProblem(
      await signup({ email: email.toUpperCase(), password: PASSWORD }, { 'x-tessera-project': 'second' }),
      409,
      'identifier_taken',
    );
  });

  test("a user of one project is unknown in the other", async () => {
    const name = uniqueLogin('only_a');
    assert.equal((await signup({ login: name, password: PASSWORD }, { 'x-tessera-project': 'default' })).status, 201);
    assertProblem(await login({ login: name, password: PASSWORD }, { 'x-tessera-project': 'second' }), 401, 'invalid_credentials');
  });

  test("a session of project A sees only A's data; naming project B with it is 400 project_mismatch", async () => {
    const email = uniqueEmail('scoped');
    const a = await signup({ email, password: PASSWORD }, { 'x-tessera-project': 'default' });
    const b = await signup({ email, password: PASSWORD }, { 'x-tessera-project': 'second' });
    const tokenA = a.body.session.token;
    const tokenB = b.body.session.token;

    // The credential carries its project: no header needed although two projects exist.
    const meA = await server.request('GET', '/v1/me', { token: tokenA });
    assert.equal(meA.status, 200, meA.text);
    assert.equal(meA.body.id, a.body.user.id);
    assert.equal(meA.body.project_id, defaultProject.id);
    const meB = await server.request('GET', '/v1/me', { token: tokenB });
    assert.equal(meB.body.id, b.body.user.id);
    assert.equal(meB.body.project_id, second.id);

    // Naming its own project is fine, by alias or id.
    for (const p of ['default', defaultProject.id]) {
      const ok = await server.request('GET', '/v1/me', { token: tokenA, headers: { 'x-tessera-project': p } });
      assert.equal(ok.status, 200, ok.text);
    }
    // Naming the other one is refused.
    for (const p of ['second', second.id]) {
      const res = await server.request('GET', '/v1/me', { token: tokenA, headers: { 'x-tessera-project': p } });
      assertProblem(res, 400, 'project_mismatch');
      const patch = await server.request('PATCH', '/v1/me', {
        token: tokenA,
        headers: { 'x-tessera-project': p },
        json: { full_name: 'Crossing Over' },
      });
      assertProblem(patch, 400, 'project_mismatch');
    }
    assert.equal((await server.request('GET', '/v1/me', { token: tokenB })).body.full_name, null);

    // Sessions stay in their project: A cannot list or revoke B's.
    const list = await server.request('GET', '/v1/sessions', { token: tokenA });
    assert.deepEqual(
      list.body.items.map((s) => s.id),
      [a.body.session.id],
    );
    assertProblem(
      await server.request('DELETE', `/v1/sessions/${b.body.session.id}`, { token: tokenA }),
      404,
      'session_not_found',
    );
    assert.equal((await server.request('GET', '/v1/me', { token: tokenB })).status, 200);
  });

  test('deleting a user of one project leaves the namesake in the other', async () => {
    const email = uniqueEmail('namesake');
    const a = await signup({ email, password: PASSWORD }, { 'x-tessera-project': 'default' });
    const b = await signup({ email, password: PASSWORD }, { 'x-tessera-project': 'second' });
    const del = await server.request('DELETE', '/v1/me', { token: a.body.session.token, json: { password: PASSWORD } });
    assert.equal(del.status, 204, del.text);
    assert.equal((await server.request('GET', '/v1/me', { token: b.body.session.token })).status, 200);
    const lb = await login({ email, password: PASSWORD }, { 'x-tessera-project': 'second' });
    assert.equal(lb.status, 200, lb.text);
    assert.equal(lb.body.user.id, b.body.user.id);
  });
});
