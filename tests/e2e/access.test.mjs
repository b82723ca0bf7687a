// Access control: API keys, roles and their assignment, what a plain user reaches, each permission on
// each administration route (through API-key access tokens, sessions and personal access tokens),
// personal access tokens, suspension, and project isolation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createProject, runCli, startServer } from '../support/server.mjs';
import {
  RFC3339_MICROS,
  UUID_V7,
  assertProblem,
  assertValidation,
  eventually,
  logIn,
  signUp,
  unique,
  uniqueEmail,
} from '../support/api.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';
// The catalogue (src/access/permission.cpp), without wildcards.
const PERMISSIONS = [
  'users:read',
  'users:write',
  'users:delete',
  'apikeys:manage',
  'roles:manage',
  'contexts:read',
  'contexts:write',
  'licenses:read',
  'licenses:write',
  'webhooks:manage',
  'projects:manage',
];
const NO_SUCH_ID = '01a21044-0000-7000-8000-000000000000';

// ---- helpers ---------------------------------------------------------------------------------------

async function cliKey(server, permissions, project = 'default') {
  const r = await runCli(['apikey', 'create', '--data-dir', server.dataDir, '--project', project, '--permissions', permissions, '--name', 'e2e']);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

async function accessToken(server, key, scope) {
  const json = { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret };
  if (scope !== undefined) json.scope = scope;
  const res = await server.request('POST', '/v1/token', { json });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

function assertForbidden(res, permission) {
  const body = assertProblem(res, 403, 'forbidden');
  assert.equal(body.missing_permission, permission, res.text);
  return body;
}

function assertInvalidToken(res, code = 'invalid_token') {
  assertProblem(res, 401, code);
  assert.equal(res.headers.get('www-authenticate'), INVALID_TOKEN_CHALLENGE);
}

const roleName = (prefix = 'role') => `${prefix}-${unique()}`;

// One server for most of this file, with a CLI key that holds everything.
let server;
let admin;
let adminToken;
before(async () => {
  server = await startServer();
  admin = await cliKey(server, '*');
  adminToken = await accessToken(server, admin);
});
after(async () => {
  await server?.close();
});

const asAdmin = (method, path, json) => server.request(method, path, { token: adminToken, json });

async function createRole(permissions, name = roleName()) {
  const res = await asAdmin('POST', '/v1/roles', { name, permissions });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function setRoles(userId, roles) {
  const res = await asAdmin('PUT', `/v1/users/${userId}/roles`, { roles });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

// A new user holding `permissions` through a role of its own; returns signUp's result plus the role.
async function userWith(permissions) {
  const signed = await signUp(server);
  let role = null;
  if (permissions.length > 0) {
    role = await createRole(permissions);
    await setRoles(signed.user.id, [role.name]);
  }
  return { ...signed, role };
}

async function createPat(sessionToken, json) {
  return server.request('POST', '/v1/me/tokens', { token: sessionToken, json: { name: 'pat', ...json } });
}

// ---- API keys --------------------------------------------------------------------------------------

describe('API keys: /v1/api-keys', () => {
  test('create: 201 with the secret, shown once', async () => {
    const res = await asAdmin('POST', '/v1/api-keys', { name: 'backend', permissions: ['users:write', 'users:read'] });
    assert.equal(res.status, 201, res.text);
    const key = res.body;
    assert.deepEqual(Object.keys(key).sort(), ['created_at', 'expires_at', 'id', 'name', 'permissions', 'project_id', 'secret']);
    assert.match(key.id, UUID_V7);
    assert.match(key.project_id, UUID_V7);
    assert.equal(key.name, 'backend');
    assert.deepEqual(key.permissions.slice().sort(), ['users:read', 'users:write']);
    assert.equal(key.expires_at, null);
    assert.match(key.created_at, RFC3339_MICROS);
    assert.match(key.secret, /^tsk_[A-Za-z0-9_-]{20,}$/);

    // The secret works...
    const token = await accessToken(server, { id: key.id, secret: key.secret });
    assert.equal((await server.request('GET', `/v1/users/${NO_SUCH_ID}`, { token })).status, 404);
    // ... and is never shown again.
    const one = await asAdmin('GET', `/v1/api-keys/${key.id}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.secret, undefined);
    assert.ok(!one.text.includes(key.secret), 'GET does not show the secret');
    const { secret, ...rest } = key;
    assert.deepEqual(one.body, rest);
    const list = await asAdmin('GET', '/v1/api-keys?limit=1000');
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.items.some((k) => k.id === key.id));
    assert.ok(list.body.items.every((k) => k.secret === undefined));
    assert.ok(!list.text.includes(key.secret), 'the list does not show the secret');
    assert.ok(!list.text.includes('tsk_'), 'no secret at all in the list');
  });

  test('create with an expiry', async () => {
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const res = await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read'], expires_at: expires });
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.expires_at, RFC3339_MICROS);
    assert.equal(Date.parse(res.body.expires_at), Date.parse(expires));
    assert.equal(res.body.name, '');
  });

  test('the list pages with limit and cursor', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) {
      const res = await asAdmin('POST', '/v1/api-keys', { name: `page-${i}`, permissions: ['users:read'] });
      assert.equal(res.status, 201, res.text);
      created.push(res.body.id);
    }
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await asAdmin('GET', `/v1/api-keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((k) => k.id));
      cursor = res.body.next_cursor;
      pages += 1;
      assert.ok(pages < 200, 'the pages end');
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no key twice');
    for (const id of created) assert.ok(seen.includes(id), `key ${id} is listed`);
    const all = await asAdmin('GET', '/v1/api-keys?limit=1000');
    assert.equal(all.body.items.length, seen.length);
    assert.equal(all.body.next_cursor, null);
  });

  test('bad paging parameters', async () => {
    assertValidation(await asAdmin('GET', '/v1/api-keys?limit=0'), 'limit');
    assertValidation(await asAdmin('GET', '/v1/api-keys?limit=1001'), 'limit');
    assertProblem(await asAdmin('GET', '/v1/api-keys?cursor=***'), 400, 'invalid_cursor');
  });

  test('validation: permissions required and known, expiry in the future, no unknown fields', async () => {
    assertValidation(await asAdmin('POST', '/v1/api-keys', { name: 'x' }), 'permissions');
    assertValidation(await asAdmin('POST', '/v1/api-keys', { permissions: [] }), 'permissions:required');
    assertValidation(await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read', 'users:fly'] }), 'permissions[1]:unknown_permission');
    assertValidation(await asAdmin('POST', '/v1/api-keys', { permissions: ['bogus'] }), 'permissions[0]:unknown_permission');
    assertValidation(
      await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read'], expires_at: '2020-01-01T00:00:00Z' }),
      'expires_at:past',
    );
    assertValidation(await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read'], expires_at: 'tomorrow' }), 'expires_at:format');
    assertProblem(await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read'], secret: 'mine' }), 400, 'unknown_field');
  });

  test('get and delete: 404 api_key_not_found for unknown keys; a deleted key is gone', async () => {
    assertProblem(await asAdmin('GET', `/v1/api-keys/${NO_SUCH_ID}`), 404, 'api_key_not_found');
    assertProblem(await asAdmin('DELETE', `/v1/api-keys/${NO_SUCH_ID}`), 404, 'api_key_not_found');
    const res = await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read'] });
    assert.equal((await asAdmin('DELETE', `/v1/api-keys/${res.body.id}`)).status, 204);
    assertProblem(await asAdmin('GET', `/v1/api-keys/${res.body.id}`), 404, 'api_key_not_found');
    assertProblem(await asAdmin('DELETE', `/v1/api-keys/${res.body.id}`), 404, 'api_key_not_found');
    const list = await asAdmin('GET', '/v1/api-keys?limit=1000');
    assert.ok(!list.body.items.some((k) => k.id === res.body.id));
  });

  test('a key cannot create a key with more permissions than its own', async () => {
    const manager = await cliKey(server, 'apikeys:manage,users:read');
    const token = await accessToken(server, manager);
    assertForbidden(await server.request('POST', '/v1/api-keys', { token, json: { permissions: ['users:write'] } }), 'users:write');
    assertForbidden(await server.request('POST', '/v1/api-keys', { token, json: { permissions: ['users:*'] } }), 'users:*');
    assertForbidden(await server.request('POST', '/v1/api-keys', { token, json: { permissions: ['*'] } }), '*');
    const ok = await server.request('POST', '/v1/api-keys', { token, json: { permissions: ['users:read', 'apikeys:manage'] } });
    assert.equal(ok.status, 201, ok.text);
    // A narrowed token of an all-powerful key grants only within its scope.
    const narrowed = await accessToken(server, admin, 'apikeys:manage');
    assertForbidden(await server.request('POST', '/v1/api-keys', { token: narrowed, json: { permissions: ['users:read'] } }), 'users:read');
  });

  test('a user whose role holds apikeys:manage manages the keys within their own permissions', async () => {
    const { token } = await userWith(['apikeys:manage', 'users:read']);
    const created = await server.request('POST', '/v1/api-keys', { token, json: { permissions: ['users:read'] } });
    assert.equal(created.status, 201, created.text);
    assertForbidden(await server.request('POST', '/v1/api-keys', { token, json: { permissions: ['users:delete'] } }), 'users:delete');
    assert.equal((await server.request('GET', `/v1/api-keys/${created.body.id}`, { token })).status, 200);
    assert.equal((await server.request('DELETE', `/v1/api-keys/${created.body.id}`, { token })).status, 204);
  });
});

// ---- roles -----------------------------------------------------------------------------------------

describe('roles: /v1/roles and /v1/users/{id}/roles', () => {
  test('a project starts with admin (everything) and user (nothing)', async () => {
    const res = await asAdmin('GET', '/v1/roles');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.next_cursor, null);
    const byName = Object.fromEntries(res.body.items.map((r) => [r.name, r]));
    assert.deepEqual(byName.admin.permissions, ['*']);
    assert.deepEqual(byName.user.permissions, []);
    for (const r of res.body.items) {
      assert.deepEqual(Object.keys(r).sort(), ['created_at', 'description', 'id', 'name', 'permissions', 'updated_at']);
      assert.match(r.id, UUID_V7);
    }
  });

  test('create, read by id and by name, update, delete', async () => {
    const name = roleName('support');
    const created = await asAdmin('POST', '/v1/roles', { name, description: 'Support desk', permissions: ['users:read'] });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.name, name);
    assert.equal(created.body.description, 'Support desk');
    assert.deepEqual(created.body.permissions, ['users:read']);
    assert.match(created.body.created_at, RFC3339_MICROS);

    for (const key of [created.body.id, name]) {
      const got = await asAdmin('GET', `/v1/roles/${key}`);
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.body, created.body);
    }
    assert.ok((await asAdmin('GET', '/v1/roles')).body.items.some((r) => r.id === created.body.id));

    const renamed = `${name}-2`;
    const patched = await asAdmin('PATCH', `/v1/roles/${created.body.id}`, {
      name: renamed,
      description: 'Support, level 2',
      permissions: ['users:read', 'users:write'],
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.name, renamed);
    assert.equal(patched.body.description, 'Support, level 2');
    assert.deepEqual(patched.body.permissions, ['users:read', 'users:write']);
    assert.equal(patched.body.created_at, created.body.created_at);

    assert.equal((await asAdmin('DELETE', `/v1/roles/${renamed}`)).status, 204);
    assertProblem(await asAdmin('GET', `/v1/roles/${created.body.id}`), 404, 'role_not_found');
    assertProblem(await asAdmin('DELETE', `/v1/roles/${created.body.id}`), 404, 'role_not_found');
    assertProblem(await asAdmin('PATCH', `/v1/roles/${created.body.id}`, { description: 'x' }), 404, 'role_not_found');
  });

  test('validation and name conflicts', async () => {
    assertValidation(await asAdmin('POST', '/v1/roles', { permissions: [] }), 'name:required');
    assertValidation(await asAdmin('POST', '/v1/roles', { name: 'Has Spaces' }), 'name:format');
    assertValidation(await asAdmin('POST', '/v1/roles', { name: roleName(), permissions: ['users:fly'] }), 'permissions[0]:unknown_permission');
    assertProblem(await asAdmin('POST', '/v1/roles', { name: roleName(), colour: 'red' }), 400, 'unknown_field');
    const name = roleName();
    await createRole([], name);
    assertProblem(await asAdmin('POST', '/v1/roles', { name }), 409, 'role_name_taken');
    assertProblem(await asAdmin('POST', '/v1/roles', { name: 'admin' }), 409, 'role_name_taken');
    const other = await createRole([]);
    assertProblem(await asAdmin('PATCH', `/v1/roles/${other.id}`, { name }), 409, 'role_name_taken');
  });

  test('built-in roles cannot be deleted (409 role_builtin) or renamed; admin keeps every permission', async () => {
    const roles = (await asAdmin('GET', '/v1/roles')).body.items;
    for (const builtin of ['admin', 'user']) {
      const id = roles.find((r) => r.name === builtin).id;
      assertProblem(await asAdmin('DELETE', `/v1/roles/${builtin}`), 409, 'role_builtin');
      assertProblem(await asAdmin('DELETE', `/v1/roles/${id}`), 409, 'role_builtin');
      assertValidation(await asAdmin('PATCH', `/v1/roles/${id}`, { name: roleName() }), 'name:builtin');
    }
    assertValidation(await asAdmin('PATCH', '/v1/roles/admin', { permissions: ['users:read'] }), 'permissions:builtin');
    const adminRole = await asAdmin('GET', '/v1/roles/admin');
    assert.deepEqual(adminRole.body.permissions, ['*']);
    // Its description may change.
    const described = await asAdmin('PATCH', '/v1/roles/admin', { description: 'Administrators' });
    assert.equal(described.status, 200, described.text);
    assert.deepEqual(described.body.permissions, ['*']);
  });

  test('PUT /v1/users/{id}/roles assigns roles; GET lists them with the implicit "user"', async () => {
    const { user } = await signUp(server);
    const initial = await asAdmin('GET', `/v1/users/${user.id}/roles`);
    assert.equal(initial.status, 200, initial.text);
    assert.deepEqual(initial.body.items.map((r) => r.name), ['user']);

    const a = await createRole(['users:read']);
    const b = await createRole(['roles:manage']);
    const set = await asAdmin('PUT', `/v1/users/${user.id}/roles`, { roles: [a.name, b.id] });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body.items.map((r) => r.name).sort(), [a.name, b.name, 'user'].sort());
    const got = await asAdmin('GET', `/v1/users/${user.id}/roles`);
    assert.deepEqual(got.body.items.map((r) => r.name).sort(), [a.name, b.name, 'user'].sort());

    // PUT replaces the set; "user" stays whatever is sent.
    const replaced = await asAdmin('PUT', `/v1/users/${user.id}/roles`, { roles: [b.name, 'user'] });
    assert.deepEqual(replaced.body.items.map((r) => r.name).sort(), [b.name, 'user'].sort());
    const cleared = await asAdmin('PUT', `/v1/users/${user.id}/roles`, { roles: [] });
    assert.deepEqual(cleared.body.items.map((r) => r.name), ['user']);
  });

  test('PUT /v1/users/{id}/roles refuses unknown roles and users', async () => {
    const { user } = await signUp(server);
    assertValidation(await asAdmin('PUT', `/v1/users/${user.id}/roles`, { roles: ['user', 'no-such-role'] }), 'roles[1]:unknown_role');
    assertValidation(await asAdmin('PUT', `/v1/users/${user.id}/roles`, {}), 'roles');
    assertProblem(await asAdmin('PUT', `/v1/users/${NO_SUCH_ID}/roles`, { roles: [] }), 404, 'user_not_found');
    assertProblem(await asAdmin('GET', `/v1/users/${NO_SUCH_ID}/roles`), 404, 'user_not_found');
  });

  test('PATCH /v1/users/{id} with roles assigns them too (needs roles:manage as well as users:write)', async () => {
    const { user, token } = await signUp(server);
    const role = await createRole(['users:read']);
    const res = await asAdmin('PATCH', `/v1/users/${user.id}`, { roles: [role.name] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, user.id);
    const roles = await asAdmin('GET', `/v1/users/${user.id}/roles`);
    assert.deepEqual(roles.body.items.map((r) => r.name).sort(), [role.name, 'user'].sort());
    assert.equal((await server.request('GET', `/v1/users/${user.id}`, { token })).status, 200, 'the role applies at once');

    const writer = await accessToken(server, admin, 'users:write');
    assertForbidden(await server.request('PATCH', `/v1/users/${user.id}`, { token: writer, json: { roles: [] } }), 'roles:manage');
    assertValidation(await asAdmin('PATCH', `/v1/users/${user.id}`, { roles: ['no-such-role'] }), 'roles[0]:unknown_role');
  });

  test('a refused role change in PATCH /v1/users/{id} changes nothing else', async () => {
    // users:write and roles:manage, but not "*": giving the admin role is an escalation.
    const token = await accessToken(server, admin, 'users:write roles:manage');
    const { user } = await signUp(server, { full_name: 'Before' });
    const res = await server.request('PATCH', `/v1/users/${user.id}`, { token, json: { full_name: 'After', roles: ['admin'] } });
    assertForbidden(res, '*');
    const now = await asAdmin('GET', `/v1/users/${user.id}`);
    assert.equal(now.body.full_name, 'Before', 'a request answered 403 must not have applied part of its change');
    assert.deepEqual((await asAdmin('GET', `/v1/users/${user.id}/roles`)).body.items.map((r) => r.name), ['user']);
  });

  test('changing or deleting a role changes what its members hold at once', async () => {
    const target = (await signUp(server)).user;
    const { token, role } = await userWith(['users:read']);
    const read = () => server.request('GET', `/v1/users/${target.id}`, { token });
    assert.equal((await read()).status, 200);
    assert.equal((await asAdmin('PATCH', `/v1/roles/${role.id}`, { permissions: ['users:write'] })).status, 200);
    assertForbidden(await read(), 'users:read');
    assert.equal((await asAdmin('PATCH', `/v1/roles/${role.id}`, { permissions: ['users:read'] })).status, 200);
    assert.equal((await read()).status, 200);
    assert.equal((await asAdmin('DELETE', `/v1/roles/${role.id}`)).status, 204);
    assertForbidden(await read(), 'users:read');
  });

  test('giving the "user" role users:read lets every user read users', async () => {
    const { token, user } = await signUp(server);
    const other = (await signUp(server)).user;
    assertForbidden(await server.request('GET', `/v1/users/${other.id}`, { token }), 'users:read');
    const patched = await asAdmin('PATCH', '/v1/roles/user', { permissions: ['users:read'] });
    assert.equal(patched.status, 200, patched.text);
    try {
      const res = await server.request('GET', `/v1/users/${other.id}`, { token });
      assert.equal(res.status, 200, res.text);
      assert.equal((await server.request('GET', `/v1/users/lookup?email=${encodeURIComponent(other.email)}`, { token })).status, 200);
      // A brand-new user too.
      const fresh = await signUp(server);
      assert.equal((await server.request('GET', `/v1/users/${user.id}`, { token: fresh.token })).status, 200);
      // But nothing more.
      assertForbidden(await server.request('PATCH', `/v1/users/${other.id}`, { token, json: { full_name: 'x' } }), 'users:write');
    } finally {
      const reverted = await asAdmin('PATCH', '/v1/roles/user', { permissions: [] });
      assert.equal(reverted.status, 200, reverted.text);
    }
    assertForbidden(await server.request('GET', `/v1/users/${other.id}`, { token }), 'users:read');
  });

  describe('no escalation: one grants only what one holds', () => {
    let manager; // roles:manage and users:read
    before(async () => {
      manager = await userWith(['roles:manage', 'users:read']);
    });
    const as = (method, path, json) => server.request(method, path, { token: manager.token, json });

    test('creating or changing a role with a permission one lacks is 403', async () => {
      assertForbidden(await as('POST', '/v1/roles', { name: roleName(), permissions: ['users:write'] }), 'users:write');
      assertForbidden(await as('POST', '/v1/roles', { name: roleName(), permissions: ['users:*'] }), 'users:*');
      assertForbidden(await as('PATCH', '/v1/roles/user', { permissions: ['users:delete'] }), 'users:delete');
      const mine = await as('POST', '/v1/roles', { name: roleName(), permissions: ['users:read'] });
      assert.equal(mine.status, 201, mine.text);
      assertForbidden(await as('PATCH', `/v1/roles/${mine.body.id}`, { permissions: ['users:read', 'apikeys:manage'] }), 'apikeys:manage');
      // A role holding more than the caller cannot be changed by it, even to hold less.
      const strong = await createRole(['users:delete']);
      assertForbidden(await as('PATCH', `/v1/roles/${strong.id}`, { permissions: [] }), 'users:delete');
    });

    test('assigning a role with more than one holds is 403; so is taking one away', async () => {
      const { user } = await signUp(server);
      assertForbidden(await as('PUT', `/v1/users/${manager.user.id}/roles`, { roles: [manager.role.name, 'admin'] }), '*');
      assertForbidden(await as('PUT', `/v1/users/${user.id}/roles`, { roles: ['admin'] }), '*');
      const writer = await createRole(['users:write']);
      assertForbidden(await as('PUT', `/v1/users/${user.id}/roles`, { roles: [writer.name] }), 'users:write');
      // An administrator's role cannot be taken away by a lesser manager.
      const boss = (await signUp(server)).user;
      await setRoles(boss.id, ['admin']);
      assertForbidden(await as('PUT', `/v1/users/${boss.id}/roles`, { roles: [] }), '*');
      assert.deepEqual((await asAdmin('GET', `/v1/users/${boss.id}/roles`)).body.items.map((r) => r.name).sort(), ['admin', 'user']);
      // Within one's own permissions it works.
      const reader = await createRole(['users:read']);
      const ok = await as('PUT', `/v1/users/${user.id}/roles`, { roles: [reader.name] });
      assert.equal(ok.status, 200, ok.text);
    });

    test('a user cannot raise their own permissions', async () => {
      const { user, token } = await userWith(['users:write']);
      // users:write alone cannot touch roles at all.
      assertForbidden(await server.request('PATCH', `/v1/users/${user.id}`, { token, json: { roles: ['admin'] } }), 'roles:manage');
      assertForbidden(await server.request('PUT', `/v1/users/${user.id}/roles`, { token, json: { roles: ['admin'] } }), 'roles:manage');
      assertForbidden(await server.request('PATCH', '/v1/roles/user', { token, json: { permissions: ['*'] } }), 'roles:manage');
    });
  });
});

// ---- what a plain user reaches ----------------------------------------------------------------------

describe("a plain user's session", () => {
  let plain;
  let other;
  before(async () => {
    plain = await signUp(server);
    other = (await signUp(server)).user;
  });

  test('reaches /v1/me, /v1/me/tokens and /v1/sessions', async () => {
    for (const path of ['/v1/me', '/v1/me/tokens', '/v1/sessions']) {
      const res = await server.request('GET', path, { token: plain.token });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
    }
    const patched = await server.request('PATCH', '/v1/me', { token: plain.token, json: { full_name: 'Plain' } });
    assert.equal(patched.status, 200, patched.text);
  });

  test('is refused every administration route with 403 forbidden naming the permission', async () => {
    const cases = [
      ['GET', '/v1/users?limit=10', undefined, 'users:read'],
      ['GET', `/v1/users/${other.id}`, undefined, 'users:read'],
      ['GET', `/v1/users/${plain.user.id}`, undefined, 'users:read'],
      ['GET', `/v1/users/lookup?email=${encodeURIComponent(plain.email)}`, undefined, 'users:read'],
      ['GET', `/v1/users/${other.id}/roles`, undefined, 'users:read'],
      ['POST', '/v1/users', { email: uniqueEmail() }, 'users:write'],
      ['PATCH', `/v1/users/${other.id}`, { full_name: 'x' }, 'users:write'],
      ['PATCH', `/v1/users/${plain.user.id}`, { full_name: 'x' }, 'users:write'],
      ['POST', '/v1/users/bulk-update', { where: { active: { eq: true } }, set: { full_name: 'x' } }, 'users:write'],
      ['DELETE', `/v1/users/${other.id}`, undefined, 'users:delete'],
      ['POST', '/v1/users/bulk-delete', { where: { active: { eq: true } } }, 'users:delete'],
      ['GET', '/v1/api-keys', undefined, 'apikeys:manage'],
      ['POST', '/v1/api-keys', { permissions: ['users:read'] }, 'apikeys:manage'],
      ['GET', `/v1/api-keys/${admin.id}`, undefined, 'apikeys:manage'],
      ['DELETE', `/v1/api-keys/${admin.id}`, undefined, 'apikeys:manage'],
      ['GET', '/v1/roles', undefined, 'roles:manage'],
      ['POST', '/v1/roles', { name: roleName() }, 'roles:manage'],
      ['GET', '/v1/roles/admin', undefined, 'roles:manage'],
      ['PATCH', '/v1/roles/user', { permissions: ['*'] }, 'roles:manage'],
      ['DELETE', '/v1/roles/user', undefined, 'roles:manage'],
      ['PUT', `/v1/users/${plain.user.id}/roles`, { roles: ['admin'] }, 'roles:manage'],
    ];
    for (const [method, path, json, permission] of cases) {
      const res = await server.request(method, path, { token: plain.token, json });
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assertForbidden(res, permission);
    }
    // Nothing happened.
    assert.equal((await asAdmin('GET', `/v1/users/${other.id}`)).status, 200);
    assert.equal((await asAdmin('GET', `/v1/api-keys/${admin.id}`)).status, 200);
    assert.deepEqual((await asAdmin('GET', `/v1/users/${plain.user.id}/roles`)).body.items.map((r) => r.name), ['user']);
  });

  test('an API key access token is no user: /v1/me is 403 user_required, /v1/sessions 403 session_required', async () => {
    assertProblem(await server.request('GET', '/v1/me', { token: adminToken }), 403, 'user_required');
    assertProblem(await server.request('GET', '/v1/sessions', { token: adminToken }), 403, 'session_required');
    assertProblem(await server.request('POST', '/v1/me/tokens', { token: adminToken, json: { name: 'x' } }), 403, 'session_required');
  });
});

// ---- each permission on each administration route ------------------------------------------------------

describe('each permission guards its administration routes', () => {
  // Each route: the permission it needs, the request, and the status once allowed. `setup` makes what
  // the allowed request consumes (a user to delete, a key to delete, ...), fresh for each call.
  let subject; // a user the read and write routes act on
  before(async () => {
    subject = await signUp(server);
  });

  const routes = [
    { permission: 'users:read', method: 'GET', path: () => `/v1/users/${subject.user.id}`, ok: 200 },
    { permission: 'users:read', method: 'GET', path: () => `/v1/users/lookup?email=${encodeURIComponent(subject.email)}`, ok: 200 },
    { permission: 'users:read', method: 'GET', path: () => `/v1/users/${subject.user.id}/roles`, ok: 200 },
    // The list: only the refusal here; its allowed path has its own tests below.
    { permission: 'users:read', method: 'GET', path: () => '/v1/users?limit=10', ok: null },
    // Allowed, a user without a valid email is a 422: past the permission check, nothing created.
    { permission: 'users:write', method: 'POST', path: () => '/v1/users', json: () => ({ email: 'not-an-email' }), ok: 422 },
    { permission: 'users:write', method: 'PATCH', path: () => `/v1/users/${subject.user.id}`, json: () => ({ full_name: `n ${unique()}` }), ok: 200 },
    {
      permission: 'users:write',
      method: 'POST',
      path: () => '/v1/users/bulk-update',
      json: () => ({ where: { email: { eq: 'nobody@example.com' } }, set: { full_name: 'x' } }),
      ok: 200,
    },
    {
      permission: 'users:delete',
      method: 'DELETE',
      setup: async () => (await signUp(server)).user.id,
      path: (id) => `/v1/users/${id}`,
      ok: 204,
    },
    { permission: 'users:delete', method: 'POST', path: () => '/v1/users/bulk-delete', json: () => ({ where: { email: { eq: 'nobody@example.com' } } }), ok: 200 },
    { permission: 'apikeys:manage', method: 'GET', path: () => '/v1/api-keys', ok: 200 },
    { permission: 'apikeys:manage', method: 'POST', path: () => '/v1/api-keys', json: () => ({ permissions: ['apikeys:manage'] }), ok: 201 },
    { permission: 'apikeys:manage', method: 'GET', path: () => `/v1/api-keys/${admin.id}`, ok: 200 },
    {
      permission: 'apikeys:manage',
      method: 'DELETE',
      setup: async () => (await asAdmin('POST', '/v1/api-keys', { permissions: ['users:read'] })).body.id,
      path: (id) => `/v1/api-keys/${id}`,
      ok: 204,
    },
    { permission: 'roles:manage', method: 'GET', path: () => '/v1/roles', ok: 200 },
    { permission: 'roles:manage', method: 'POST', path: () => '/v1/roles', json: () => ({ name: roleName(), permissions: [] }), ok: 201 },
    { permission: 'roles:manage', method: 'GET', path: () => '/v1/roles/user', ok: 200 },
    { permission: 'roles:manage', method: 'PATCH', setup: async () => (await createRole([])).id, path: (id) => `/v1/roles/${id}`, json: () => ({ description: 'd' }), ok: 200 },
    { permission: 'roles:manage', method: 'DELETE', setup: async () => (await createRole([])).id, path: (id) => `/v1/roles/${id}`, ok: 204 },
    {
      permission: 'roles:manage',
      method: 'PUT',
      setup: async () => (await signUp(server)).user.id,
      path: (id) => `/v1/users/${id}/roles`,
      json: () => ({ roles: [] }),
      ok: 200,
    },
  ];

  // Credentials holding exactly a set of permissions, of three kinds.
  const kinds = {
    'an API key access token': async (permissions) => accessToken(server, admin, permissions.join(' ')),
    'a user session': async (permissions) => (await userWith(permissions)).token,
    'a personal access token': async (permissions) => {
      const { token } = await userWith(permissions);
      const pat = await createPat(token, { permissions });
      assert.equal(pat.status, 201, pat.text);
      return pat.body.token;
    },
  };

  for (const [kind, make] of Object.entries(kinds)) {
    test(`${kind}: every route is refused without its permission and allowed with it alone`, async () => {
      const cache = new Map();
      const credential = async (permissions) => {
        const k = permissions.join(' ');
        if (!cache.has(k)) cache.set(k, await make(permissions));
        return cache.get(k);
      };
      for (const route of routes) {
        const label = `${route.method} ${route.path('{id}')} (${route.permission})`;
        const allBut = await credential(PERMISSIONS.filter((p) => p !== route.permission));
        const refusedArg = route.setup ? await route.setup() : undefined;
        const refused = await server.request(route.method, route.path(refusedArg), { token: allBut, json: route.json?.() });
        assert.equal(refused.status, 403, `${label} without the permission: ${refused.text}`);
        assertForbidden(refused, route.permission);
        if (route.ok === null) continue;
        const only = await credential([route.permission]);
        const arg = route.setup ? await route.setup() : undefined;
        const allowed = await server.request(route.method, route.path(arg), { token: only, json: route.json?.() });
        assert.equal(allowed.status, route.ok, `${label} with only the permission: ${allowed.text}`);
      }
    });
  }

  test('PATCH /v1/users/{id} with roles needs both users:write and roles:manage', async () => {
    const path = `/v1/users/${subject.user.id}`;
    const json = { full_name: 'Both', roles: [] };
    assertForbidden(await server.request('PATCH', path, { token: await accessToken(server, admin, 'users:write'), json }), 'roles:manage');
    assertForbidden(await server.request('PATCH', path, { token: await accessToken(server, admin, 'roles:manage'), json }), 'users:write');
    const both = await server.request('PATCH', path, { token: await accessToken(server, admin, 'users:write roles:manage'), json });
    assert.equal(both.status, 200, both.text);
    assert.equal(both.body.full_name, 'Both');
  });

  test('a wildcard permission covers its resource', async () => {
    const token = await accessToken(server, admin, 'users:*');
    assert.equal((await server.request('GET', `/v1/users/${subject.user.id}`, { token })).status, 200);
    const doomed = (await signUp(server)).user;
    assert.equal((await server.request('DELETE', `/v1/users/${doomed.id}`, { token })).status, 204);
    assertForbidden(await server.request('GET', '/v1/roles', { token }), 'roles:manage');
  });
});

// ---- the user list and creation (each on a server of its own: they have crashed the server) -------

describe('GET /v1/users and POST /v1/users with the right permission', () => {
  async function withServer(fn) {
    const own = await startServer();
    try {
      const key = await cliKey(own, 'users:read,users:write');
      await fn(own, await accessToken(own, key));
    } finally {
      await own.close();
    }
  }

  test('GET /v1/users with a query lists the project\'s users, every time', async () => {
    await withServer(async (own, token) => {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await signUp(own)).user.id);
      // The same request repeatedly: the answer must not depend on what else is in memory.
      for (let i = 0; i < 25; i++) {
        const res = await own.request('GET', '/v1/users?limit=50', { token });
        assert.equal(res.status, 200, `attempt ${i + 1}: ${res.text}`);
        assert.deepEqual(res.body.items.map((u) => u.id).sort(), ids.slice().sort());
        assert.equal(res.body.next_cursor, null);
      }
    });
  });

  test('GET /v1/users without a query string lists the users', async () => {
    await withServer(async (own, token) => {
      const { user } = await signUp(own);
      const res = await own.request('GET', '/v1/users', { token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.items.map((u) => u.id), [user.id]);
    });
  });

  test('POST /v1/users creates a user (with and without a password)', async () => {
    await withServer(async (own, token) => {
      const withPassword = await own.request('POST', '/v1/users', {
        token,
        json: { email: uniqueEmail(), password: 'correct horse battery staple' },
      });
      assert.equal(withPassword.status, 201, withPassword.text);
      const withoutPassword = await own.request('POST', '/v1/users', { token, json: { email: uniqueEmail() } });
      assert.equal(withoutPassword.status, 201, withoutPassword.text);
    });
  });
});

// ---- personal access tokens -------------------------------------------------------------------------

describe('personal access tokens: /v1/me/tokens', () => {
  let owner; // holds users:read and users:write through a role
  let target;
  before(async () => {
    owner = await userWith(['users:read', 'users:write']);
    target = (await signUp(server)).user;
  });

  test('created from a session with a subset of the owner\'s permissions; the token is shown once', async () => {
    const res = await createPat(owner.token, { name: 'ci', permissions: ['users:read'] });
    assert.equal(res.status, 201, res.text);
    const pat = res.body;
    assert.deepEqual(Object.keys(pat).sort(), ['created_at', 'expires_at', 'id', 'name', 'permissions', 'token']);
    assert.match(pat.id, UUID_V7);
    assert.equal(pat.name, 'ci');
    assert.deepEqual(pat.permissions, ['users:read']);
    assert.match(pat.token, /^tsp_[A-Za-z0-9_-]{20,}$/);
    assert.match(pat.expires_at, RFC3339_MICROS);
    assert.ok(Date.parse(pat.expires_at) > Date.now(), 'an expiry by default');

    const list = await server.request('GET', '/v1/me/tokens', { token: owner.token });
    assert.equal(list.status, 200, list.text);
    const listed = list.body.items.find((t) => t.id === pat.id);
    assert.ok(listed, 'the token is listed');
    const { token, ...rest } = pat;
    assert.deepEqual(listed, rest);
    assert.ok(!list.text.includes(pat.token), 'the list does not show the token');
    assert.ok(!list.text.includes('tsp_'));
    // Other users do not see it.
    const stranger = await signUp(server);
    const theirs = await server.request('GET', '/v1/me/tokens', { token: stranger.token });
    assert.deepEqual(theirs.body.items, []);
  });

  test('a permission the owner lacks is 403 forbidden naming it', async () => {
    assertForbidden(await createPat(owner.token, { permissions: ['users:read', 'users:delete'] }), 'users:delete');
    assertForbidden(await createPat(owner.token, { permissions: ['*'] }), '*');
    const plain = await signUp(server);
    assertForbidden(await createPat(plain.token, { permissions: ['users:read'] }), 'users:read');
    const empty = await createPat(plain.token, {});
    assert.equal(empty.status, 201, 'a PAT with no permission acts as the user on /v1/me');
    assert.equal((await server.request('GET', '/v1/me', { token: empty.body.token })).body.id, plain.user.id);
  });

  test('validation: name, permissions, expiry', async () => {
    assertValidation(await server.request('POST', '/v1/me/tokens', { token: owner.token, json: { permissions: [] } }), 'name');
    assertValidation(await createPat(owner.token, { permissions: ['users:fly'] }), 'permissions[0]:unknown_permission');
    assertValidation(await createPat(owner.token, { expires_at: '2020-01-01T00:00:00Z' }), 'expires_at:past');
    assertValidation(await createPat(owner.token, { expires_at: '2999-01-01T00:00:00Z' }), 'expires_at:too_far');
    assertProblem(await createPat(owner.token, { scope: 'x' }), 400, 'unknown_field');
  });

  test('a PAT acts within its permissions, as its owner', async () => {
    const pat = (await createPat(owner.token, { permissions: ['users:read'] })).body.token;
    const me = await server.request('GET', '/v1/me', { token: pat });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.id, owner.user.id);
    assert.equal((await server.request('GET', `/v1/users/${target.id}`, { token: pat })).status, 200);
    assertForbidden(await server.request('PATCH', `/v1/users/${target.id}`, { token: pat, json: { full_name: 'x' } }), 'users:write');
    assertForbidden(await server.request('GET', '/v1/roles', { token: pat }), 'roles:manage');
  });

  test('when the owner loses a role, the PAT loses its permissions at once', async () => {
    const someone = await userWith(['users:read']);
    const pat = (await createPat(someone.token, { permissions: ['users:read'] })).body.token;
    assert.equal((await server.request('GET', `/v1/users/${target.id}`, { token: pat })).status, 200);
    await setRoles(someone.user.id, []);
    assertForbidden(await server.request('GET', `/v1/users/${target.id}`, { token: pat }), 'users:read');
    // Given back, it works again (the PAT's own permissions never changed).
    await setRoles(someone.user.id, [someone.role.name]);
    assert.equal((await server.request('GET', `/v1/users/${target.id}`, { token: pat })).status, 200);
  });

  test('revoked: 204, then refused (401 invalid_token) and no longer listed', async () => {
    const created = (await createPat(owner.token, { permissions: ['users:read'] })).body;
    assert.equal((await server.request('GET', '/v1/me', { token: created.token })).status, 200);
    // Another user cannot revoke it.
    const stranger = await signUp(server);
    assertProblem(await server.request('DELETE', `/v1/me/tokens/${created.id}`, { token: stranger.token }), 404, 'token_not_found');
    assert.equal((await server.request('GET', '/v1/me', { token: created.token })).status, 200);

    assert.equal((await server.request('DELETE', `/v1/me/tokens/${created.id}`, { token: owner.token })).status, 204);
    assertInvalidToken(await server.request('GET', '/v1/me', { token: created.token }));
    assertInvalidToken(await server.request('GET', `/v1/users/${target.id}`, { token: created.token }));
    const list = await server.request('GET', '/v1/me/tokens', { token: owner.token });
    assert.ok(!list.body.items.some((t) => t.id === created.id));
    assertProblem(await server.request('DELETE', `/v1/me/tokens/${created.id}`, { token: owner.token }), 404, 'token_not_found');
  });

  test('an expired PAT is refused', async () => {
    const created = await createPat(owner.token, { permissions: ['users:read'], expires_at: new Date(Date.now() + 1500).toISOString() });
    assert.equal(created.status, 201, created.text);
    await eventually(async () => (await server.request('GET', '/v1/me', { token: created.body.token })).status === 401, {
      timeoutMs: 15_000,
      what: 'the PAT expires',
    });
    assertInvalidToken(await server.request('GET', '/v1/me', { token: created.body.token }), 'token_expired');
  });

  test('a PAT cannot manage PATs or sessions, nor change the profile: 403 session_required', async () => {
    const created = (await createPat(owner.token, { permissions: ['users:read', 'users:write'] })).body;
    const pat = created.token;
    const session = (await server.request('GET', '/v1/sessions', { token: owner.token })).body.items[0];
    const cases = [
      ['POST', '/v1/me/tokens', { name: 'child' }],
      ['GET', '/v1/me/tokens', undefined],
      ['DELETE', `/v1/me/tokens/${created.id}`, undefined],
      ['GET', '/v1/sessions', undefined],
      ['DELETE', `/v1/sessions/${session.id}`, undefined],
      ['PATCH', '/v1/me', { full_name: 'x' }],
      ['POST', '/v1/me/password', { old_password: owner.password, new_password: 'another long password' }],
      ['DELETE', '/v1/me', { password: owner.password }],
    ];
    for (const [method, path, json] of cases) {
      const res = await server.request(method, path, { token: pat, json });
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assertProblem(res, 403, 'session_required');
    }
    // Nothing changed: the PAT and the session still work.
    assert.equal((await server.request('GET', '/v1/me', { token: pat })).status, 200);
    assert.equal((await server.request('GET', '/v1/sessions', { token: owner.token })).status, 200);
  });

  test('neither can a JWT from token exchange', async () => {
    const res = await server.request('POST', '/v1/token', { json: { grant_type: TOKEN_EXCHANGE, subject_token: owner.token } });
    assert.equal(res.status, 200, res.text);
    const jwt = res.body.access_token;
    assert.equal((await server.request('GET', '/v1/me', { token: jwt })).status, 200);
    assert.equal((await server.request('GET', `/v1/users/${target.id}`, { token: jwt })).status, 200, 'the roles apply');
    for (const [method, path, json] of [
      ['POST', '/v1/me/tokens', { name: 'x' }],
      ['GET', '/v1/me/tokens', undefined],
      ['GET', '/v1/sessions', undefined],
      ['PATCH', '/v1/me', { full_name: 'x' }],
    ]) {
      assertProblem(await server.request(method, path, { token: jwt, json }), 403, 'session_required');
    }
  });
});

// ---- suspension -------------------------------------------------------------------------------------

describe('suspension: PATCH /v1/users/{id} {active: false}', () => {
  let boss; // a user with the admin role, acting through the session
  before(async () => {
    boss = await signUp(server);
    await setRoles(boss.user.id, ['admin']);
  });

  async function victimWithEverything() {
    const victim = await userWith(['users:read']);
    const pat = await createPat(victim.token, { permissions: ['users:read'] });
    assert.equal(pat.status, 201, pat.text);
    const exchanged = await server.request('POST', '/v1/token', { json: { grant_type: TOKEN_EXCHANGE, subject_token: victim.token } });
    assert.equal(exchanged.status, 200, exchanged.text);
    for (const token of [victim.token, pat.body.token, exchanged.body.access_token])
      assert.equal((await server.request('GET', '/v1/me', { token })).status, 200);
    return { ...victim, pat: pat.body.token, jwt: exchanged.body.access_token, refresh: exchanged.body.refresh_token };
  }

  async function suspend(id, active = false) {
    const res = await server.request('PATCH', `/v1/users/${id}`, { token: boss.token, json: { active } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active, active);
  }

  test("the user's session, PAT and exchanged JWT are refused at once; login is 403 user_inactive", async () => {
    const v = await victimWithEverything();
    await suspend(v.user.id);

    const session = await server.request('GET', '/v1/me', { token: v.token });
    assert.ok(
      (session.status === 401 && ['invalid_token', 'session_expired'].includes(session.body.code)) ||
        (session.status === 403 && session.body.code === 'user_inactive'),
      `the session is refused: ${session.text}`,
    );
    for (const token of [v.pat, v.jwt]) {
      assertProblem(await server.request('GET', '/v1/me', { token }), 403, 'user_inactive');
      assertProblem(await server.request('GET', `/v1/users/${boss.user.id}`, { token }), 403, 'user_inactive');
    }
    const refreshed = await server.request('POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: v.refresh } });
    assertProblem(refreshed, 400, 'invalid_grant');
    const exchanged = await server.request('POST', '/v1/token', { json: { grant_type: TOKEN_EXCHANGE, subject_token: v.token } });
    assertProblem(exchanged, 400, 'invalid_grant');
    assertProblem(await logIn(server, { email: v.email }), 403, 'user_inactive');
    // A wrong password still says nothing about the account.
    assertProblem(await logIn(server, { email: v.email, password: 'wrong password!' }), 401, 'invalid_credentials');
  });

  test('introspection says the tokens of a suspended user are not active', async () => {
    const v = await victimWithEverything();
    await suspend(v.user.id);
    for (const token of [v.jwt, v.token]) {
      const res = await server.request('POST', '/v1/token/introspect', { token: adminToken, json: { token } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { active: false }, 'a token the API refuses is not active');
    }
  });

  test('reactivated, the user logs in again', async () => {
    const v = await victimWithEverything();
    await suspend(v.user.id);
    assertProblem(await logIn(server, { email: v.email }), 403, 'user_inactive');
    await suspend(v.user.id, true);
    const login = await logIn(server, { email: v.email });
    assert.equal(login.status, 200, login.text);
    assert.equal((await server.request('GET', '/v1/me', { token: login.body.session.token })).status, 200);
  });

  test('suspension needs users:write', async () => {
    const v = await userWith(['users:read']);
    const other = (await signUp(server)).user;
    assertForbidden(await server.request('PATCH', `/v1/users/${other.id}`, { token: v.token, json: { active: false } }), 'users:write');
    assert.equal((await asAdmin('GET', `/v1/users/${other.id}`)).body.active, true);
  });
});

// ---- project isolation ------------------------------------------------------------------------------

describe('project isolation', () => {
  let iso; // a server of its own: the default project A and a project "b"
  let keyA;
  let tokenA;
  let userA;
  let userA2;
  let roleA;
  let tokenB;
  before(async () => {
    iso = await startServer();
    keyA = await cliKey(iso, '*');
    tokenA = await accessToken(iso, keyA);
    userA = await signUp(iso);
    userA2 = await signUp(iso);
    const role = await iso.request('POST', '/v1/roles', { token: tokenA, json: { name: roleName('a-only'), permissions: ['users:read'] } });
    assert.equal(role.status, 201, role.text);
    roleA = role.body;
    await createProject(iso.dataDir, 'b');
    const keyB = await cliKey(iso, '*', 'b');
    tokenB = await accessToken(iso, keyB);
    // A running server learns of a project made by the CLI within seconds (docs/behaviour.md).
    await eventually(async () => (await iso.request('GET', '/v1/roles', { token: tokenB })).status === 200, {
      what: 'the server knows project b',
    });
  });
  after(async () => {
    await iso?.close();
  });
  const asB = (method, path, json) => iso.request(method, path, { token: tokenB, json });

  test("B's key never reads A's users: 404 user_not_found", async () => {
    assertProblem(await asB('GET', `/v1/users/${userA.user.id}`), 404, 'user_not_found');
    assertProblem(await asB('GET', `/v1/users/lookup?email=${encodeURIComponent(userA.email)}`), 404, 'user_not_found');
    assertProblem(await asB('GET', `/v1/users/${userA.user.id}/roles`), 404, 'user_not_found');
  });

  test("B's key never changes A's users", async () => {
    assertProblem(await asB('PATCH', `/v1/users/${userA.user.id}`, { full_name: 'from B' }), 404, 'user_not_found');
    assertProblem(await asB('PATCH', `/v1/users/${userA.user.id}`, { active: false }), 404, 'user_not_found');
    assertProblem(await asB('PUT', `/v1/users/${userA.user.id}/roles`, { roles: ['admin'] }), 404, 'user_not_found');
    assertProblem(await asB('DELETE', `/v1/users/${userA2.user.id}`), 404, 'user_not_found');
    const updated = await asB('POST', '/v1/users/bulk-update', { where: { active: { eq: true } }, set: { full_name: 'from B' } });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(updated.body, { matched: 0 });
    const deleted = await asB('POST', '/v1/users/bulk-delete', { where: { active: { eq: true } } });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { matched: 0 });
    // A's users are as they were.
    for (const u of [userA, userA2]) {
      const res = await iso.request('GET', `/v1/users/${u.user.id}`, { token: tokenA });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.full_name, null);
      assert.equal(res.body.active, true);
    }
    assert.deepEqual((await iso.request('GET', `/v1/users/${userA.user.id}/roles`, { token: tokenA })).body.items.map((r) => r.name), ['user']);
    assert.equal((await iso.request('GET', '/v1/me', { token: userA.token })).status, 200);
  });

  test("B's list of users is empty", async () => {
    // (Also exercises the list's query parser; see "GET /v1/users with a query ..." above.)
    const res = await asB('GET', '/v1/users?limit=100');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.items, []);
    assert.equal(res.body.next_cursor, null);
  });

  test("B's key sees and changes neither A's API keys nor A's roles", async () => {
    const keys = await asB('GET', '/v1/api-keys?limit=1000');
    assert.equal(keys.status, 200, keys.text);
    assert.ok(!keys.body.items.some((k) => k.id === keyA.id));
    assertProblem(await asB('GET', `/v1/api-keys/${keyA.id}`), 404, 'api_key_not_found');
    assertProblem(await asB('DELETE', `/v1/api-keys/${keyA.id}`), 404, 'api_key_not_found');
    assert.equal((await iso.request('GET', `/v1/api-keys/${keyA.id}`, { token: tokenA })).status, 200, "A's key lives on");

    const roles = await asB('GET', '/v1/roles');
    assert.ok(!roles.body.items.some((r) => r.id === roleA.id));
    assert.deepEqual(roles.body.items.map((r) => r.name).sort(), ['admin', 'user'], 'B has its own built-in roles');
    assertProblem(await asB('GET', `/v1/roles/${roleA.id}`), 404, 'role_not_found');
    assertProblem(await asB('PATCH', `/v1/roles/${roleA.id}`, { permissions: [] }), 404, 'role_not_found');
    assertProblem(await asB('DELETE', `/v1/roles/${roleA.id}`), 404, 'role_not_found');
    const adminA = (await iso.request('GET', '/v1/roles/admin', { token: tokenA })).body;
    assertProblem(await asB('DELETE', `/v1/roles/${adminA.id}`), 404, 'role_not_found');
    assert.deepEqual((await iso.request('GET', `/v1/roles/${roleA.id}`, { token: tokenA })).body.permissions, ['users:read']);
  });

  test("B's key introspects A's tokens as not active and cannot revoke them", async () => {
    const a = await iso.request('POST', '/v1/token', {
      json: { grant_type: 'client_credentials', client_id: keyA.id, client_secret: keyA.secret, scope: 'users:read' },
    });
    for (const token of [a.body.access_token, a.body.refresh_token, userA.token]) {
      const seen = await asB('POST', '/v1/token/introspect', { token });
      assert.equal(seen.status, 200, seen.text);
      assert.deepEqual(seen.body, { active: false });
      assert.equal((await asB('POST', '/v1/token/revoke', { token })).status, 200);
    }
    assert.equal((await iso.request('GET', `/v1/users/${userA.user.id}`, { token: a.body.access_token })).status, 200);
    assert.equal((await iso.request('GET', '/v1/me', { token: userA.token })).status, 200);
  });

  test('a credential with X-Tessera-Project naming another project is 400 project_mismatch', async () => {
    assertProblem(
      await iso.request('GET', `/v1/users/${userA.user.id}`, { token: tokenB, headers: { 'x-tessera-project': 'default' } }),
      400,
      'project_mismatch',
    );
    assertProblem(await iso.request('GET', '/v1/me', { token: userA.token, headers: { 'x-tessera-project': 'b' } }), 400, 'project_mismatch');
  });

  test("a user of B is B's only: B's key reads it, A's key does not", async () => {
    const userB = await signUp(iso, { email: userA.email }, { headers: { 'x-tessera-project': 'b' } });
    assert.notEqual(userB.user.id, userA.user.id, 'the same email is another user in another project');
    assert.equal((await asB('GET', `/v1/users/${userB.user.id}`)).status, 200);
    assertProblem(await iso.request('GET', `/v1/users/${userB.user.id}`, { token: tokenA }), 404, 'user_not_found');
    const looked = await asB('GET', `/v1/users/lookup?email=${encodeURIComponent(userA.email)}`);
    assert.equal(looked.body.id, userB.user.id);
    // Roles of A cannot be given to B's users, not even by name.
    assertValidation(await asB('PUT', `/v1/users/${userB.user.id}/roles`, { roles: [roleA.id] }), 'roles[0]:unknown_role');
  });
});
