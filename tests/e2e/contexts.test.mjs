// Contexts and public keys (docs/contexts.md): context CRUD under contexts:write / contexts:read with
// validation (name and description lengths, unknown fields) and pagination (contexts newest first,
// members oldest first); members registered with PUT and ed25519 or p256 public keys made by Node's
// crypto, in every accepted encoding (ed25519: standard or URL base64, padded or not; p256: PEM or
// base64 DER), stored normalized (standard base64, PEM), 201 then 200 on replace, and every kind of bad
// key refused naming public_key or key_type; DELETE of members and contexts; what a user sees through
// their session (only the contexts they are a member of, and the members with keys of those, nothing of
// others); memberships that go with a deleted user; project isolation; and the PrivMX-named JSON-RPC
// methods (context/create, list, addUserToContext, removeUserFromContext, listUsers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

import { createProject, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  RFC3339_MICROS,
  UUID_V7,
  assertProblem,
  assertValidation,
  eventually,
  fieldErrors,
  signUp,
  unique,
  uniqueEmail,
} from '../support/api.mjs';
import { apiKeyToken } from '../support/events.mjs';

const NO_SUCH_ID = '01a21044-0000-7000-8000-000000000000';
const CONTEXT_FIELDS = ['id', 'project_id', 'name', 'description', 'members', 'created_at', 'updated_at'].sort();
const MEMBER_FIELDS = ['user_id', 'public_key', 'key_type', 'added_at', 'updated_at'].sort();
const PEM_FORMAT = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=]+\r?\n)+-----END PUBLIC KEY-----\r?\n?$/;
const STD_BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

let server;
let admin; // contexts:read + contexts:write
let reader; // contexts:read only
let writer; // contexts:write only
let unrelated; // users:read only
let superuser; // * (deletes users, manages roles)
let projectId; // of the default project

before(async () => {
  server = await startServer();
  [admin, reader, writer, unrelated, superuser] = await Promise.all([
    apiKeyToken(server, 'contexts:read,contexts:write'),
    apiKeyToken(server, 'contexts:read'),
    apiKeyToken(server, 'contexts:write'),
    apiKeyToken(server, 'users:read'),
    apiKeyToken(server, '*'),
  ]);
  projectId = JSON.parse(Buffer.from(admin.token.split('.')[1], 'base64url').toString()).project;
  assert.match(projectId, UUID_V7);
});
after(async () => {
  await server?.close();
});

// ---- helpers -----------------------------------------------------------------------------------------

const api = (method, urlPath, json, token = admin.token, srv = server) => srv.request(method, urlPath, { json, token });

function ctxName(prefix = 'ctx') {
  return `${prefix}-${unique()}`;
}

function assertContextShape(c) {
  assert.deepEqual(Object.keys(c).sort(), CONTEXT_FIELDS, `context fields: ${JSON.stringify(c)}`);
  assert.match(c.id, UUID_V7);
  assert.match(c.project_id, UUID_V7);
  assert.equal(typeof c.name, 'string');
  assert.equal(typeof c.description, 'string');
  assert.ok(Number.isInteger(c.members) && c.members >= 0, `members: ${c.members}`);
  assert.match(c.created_at, RFC3339_MICROS);
  assert.match(c.updated_at, RFC3339_MICROS);
}

function assertMemberShape(m) {
  assert.deepEqual(Object.keys(m).sort(), MEMBER_FIELDS, `member fields: ${JSON.stringify(m)}`);
  assert.match(m.user_id, UUID_V7);
  assert.ok(['ed25519', 'p256'].includes(m.key_type), `key_type: ${m.key_type}`);
  if (m.key_type === 'ed25519') assert.match(m.public_key, STD_BASE64_32, 'ed25519 keys in standard base64');
  else assert.match(m.public_key, PEM_FORMAT, 'p256 keys in PEM');
  assert.match(m.added_at, RFC3339_MICROS);
  assert.match(m.updated_at, RFC3339_MICROS);
  assert.ok(m.updated_at >= m.added_at, 'updated_at never before added_at');
}

async function createContext(json = {}, { token = admin.token, srv = server } = {}) {
  const body = { name: ctxName(), ...json };
  const res = await api('POST', '/v1/contexts', body, token, srv);
  assert.equal(res.status, 201, `create context: ${res.status} ${res.text}`);
  assertContextShape(res.body);
  return res.body;
}

async function getContext(id, token = admin.token, srv = server) {
  const res = await api('GET', `/v1/contexts/${id}`, undefined, token, srv);
  assert.equal(res.status, 200, `get context: ${res.status} ${res.text}`);
  assertContextShape(res.body);
  return res.body;
}

const putMember = (contextId, userId, json, token = admin.token, srv = server) =>
  api('PUT', `/v1/contexts/${contextId}/users/${userId}`, json, token, srv);

// PUT a member and expect `status` (201 new, 200 replaced); returns the member.
async function addMember(contextId, userId, key, { status = 201, token = admin.token, srv = server } = {}) {
  const res = await putMember(contextId, userId, key, token, srv);
  assert.equal(res.status, status, `PUT member: ${res.status} ${res.text}`);
  assertMemberShape(res.body);
  assert.equal(res.body.user_id, userId);
  return res.body;
}

// Every member of a context (walking the pages); asserts the pages.
async function allMembers(contextId, { token = admin.token, limit = 1000, srv = server } = {}) {
  const out = [];
  let cursor = null;
  for (let pages = 0; ; pages += 1) {
    assert.ok(pages < 50, 'member pagination ends');
    const q = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await api('GET', `/v1/contexts/${contextId}/users?${q}`, undefined, token, srv);
    assert.equal(res.status, 200, `list members: ${res.status} ${res.text}`);
    assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
    assert.ok(res.body.items.length <= limit);
    res.body.items.forEach(assertMemberShape);
    out.push(...res.body.items);
    cursor = res.body.next_cursor;
    if (cursor === null) return out;
    assert.equal(typeof cursor, 'string');
  }
}

// Every context the credential sees (walking the pages).
async function allContexts(token = admin.token, { limit = 1000, srv = server } = {}) {
  const out = [];
  let cursor = null;
  for (let pages = 0; ; pages += 1) {
    assert.ok(pages < 100, 'context pagination ends');
    const q = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await api('GET', `/v1/contexts?${q}`, undefined, token, srv);
    assert.equal(res.status, 200, `list contexts: ${res.status} ${res.text}`);
    assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
    assert.ok(res.body.items.length <= limit);
    res.body.items.forEach(assertContextShape);
    out.push(...res.body.items);
    cursor = res.body.next_cursor;
    if (cursor === null) return out;
  }
}

function assertForbidden(res, permission) {
  const body = assertProblem(res, 403, 'forbidden');
  assert.equal(body.missing_permission, permission, res.text);
}

// ---- keys --------------------------------------------------------------------------------------------

// An Ed25519 public key: its 32 raw bytes (the end of the SPKI DER) in every accepted spelling. With
// `urlSafe`, one whose base64 has a + or / (so that the URL alphabet differs from the standard one).
function ed25519Key({ urlSafe = false } = {}) {
  for (let i = 0; i < 200; i += 1) {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
    assert.equal(raw.length, 32);
    const std = raw.toString('base64');
    if (urlSafe && !/[+/]/.test(std)) continue;
    return { raw, std, stdBare: std.replace(/=+$/, ''), url: raw.toString('base64url'), urlPadded: `${raw.toString('base64url')}=` };
  }
  throw new Error('no Ed25519 key with + or / in 200 tries');
}

function spki(publicKey) {
  return {
    der: publicKey.export({ type: 'spki', format: 'der' }),
    pem: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

// A P-256 public key: its SPKI as PEM and as base64 DER.
function p256Key() {
  const { der, pem } = spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  return { der, pem, b64: der.toString('base64') };
}

const derOfPem = (pem) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
const toPem = (der) => `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END PUBLIC KEY-----\n`;

const edJson = (key = ed25519Key()) => ({ public_key: key.std, key_type: 'ed25519' });
const p256Json = (key = p256Key()) => ({ public_key: key.pem, key_type: 'p256' });

// ---- contexts ----------------------------------------------------------------------------------------

describe('contexts: create, read, delete', () => {
  test('POST is 201 with the context (description defaults to ""), GET returns the same', async () => {
    const name = ctxName('first');
    const res = await api('POST', '/v1/contexts', { name });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const c = res.body;
    assertContextShape(c);
    assert.equal(c.name, name);
    assert.equal(c.description, '');
    assert.equal(c.members, 0);
    assert.equal(c.project_id, projectId);
    assert.deepEqual(await getContext(c.id), c);

    const described = await createContext({ name: ctxName('described'), description: 'Team chat, with ünïcödé' });
    assert.equal(described.description, 'Team chat, with ünïcödé');
    assert.notEqual(described.id, c.id);
    assert.deepEqual(await getContext(described.id, reader.token), described);
  });

  test('name is 1 to 128 characters, description at most 1024 (characters, not bytes)', async () => {
    for (const name of ['x', 'x'.repeat(128), 'é'.repeat(128)]) {
      const c = await createContext({ name });
      assert.equal(c.name, name);
    }
    for (const description of ['', 'd'.repeat(1024), 'é'.repeat(1024)]) {
      const c = await createContext({ description });
      assert.equal(c.description, description);
    }
    assertValidation(await api('POST', '/v1/contexts', {}), 'name:required');
    assertValidation(await api('POST', '/v1/contexts', { description: 'no name' }), 'name:required');
    assertValidation(await api('POST', '/v1/contexts', { name: '' }), 'name');
    assertValidation(await api('POST', '/v1/contexts', { name: 'x'.repeat(129) }), 'name');
    assertValidation(await api('POST', '/v1/contexts', { name: 'é'.repeat(129) }), 'name');
    assertValidation(await api('POST', '/v1/contexts', { name: 42 }), 'name:type');
    assertValidation(await api('POST', '/v1/contexts', { name: null }), 'name');
    assertValidation(await api('POST', '/v1/contexts', { name: ctxName(), description: 'd'.repeat(1025) }), 'description');
    assertValidation(await api('POST', '/v1/contexts', { name: ctxName(), description: 'é'.repeat(1025) }), 'description');
    assertValidation(await api('POST', '/v1/contexts', { name: ctxName(), description: 7 }), 'description:type');
    // every broken field in one answer
    const both = assertValidation(await api('POST', '/v1/contexts', { name: 'x'.repeat(129), description: 'd'.repeat(1025) }), [
      'name',
      'description',
    ]);
    assert.equal(both.length, 2, JSON.stringify(both));
  });

  test('unknown fields are 400 unknown_field naming each, before any rule', async () => {
    const res = await api('POST', '/v1/contexts', { name: ctxName(), color: 'red', owner: 'me' });
    assertProblem(res, 400, 'unknown_field');
    assert.deepEqual(fieldErrors(res).sort(), ['color:unknown_field', 'owner:unknown_field']);
    const first = await api('POST', '/v1/contexts', { name: '', members: 3 });
    assertProblem(first, 400, 'unknown_field');
    assert.deepEqual(fieldErrors(first), ['members:unknown_field']);

    const c = await createContext();
    const { user } = await signUp(server);
    const put = await putMember(c.id, user.id, { ...edJson(), label: 'phone' });
    assertProblem(put, 400, 'unknown_field');
    assert.deepEqual(fieldErrors(put), ['label:unknown_field']);
    assert.equal((await getContext(c.id)).members, 0, 'nothing added');
    const notJson = await server.request('POST', '/v1/contexts', { token: admin.token, body: '{"name": ', contentType: 'application/json' });
    assertProblem(notJson, 400, 'malformed_json');
  });

  test('unknown contexts are 404 context_not_found on every route', async () => {
    const { user } = await signUp(server);
    for (const id of [NO_SUCH_ID, 'not-a-uuid']) {
      assertProblem(await api('GET', `/v1/contexts/${id}`), 404, 'context_not_found');
      assertProblem(await api('DELETE', `/v1/contexts/${id}`), 404, 'context_not_found');
      assertProblem(await api('GET', `/v1/contexts/${id}/users`), 404, 'context_not_found');
      assertProblem(await putMember(id, user.id, edJson()), 404, 'context_not_found');
      assertProblem(await api('DELETE', `/v1/contexts/${id}/users/${user.id}`), 404, 'context_not_found');
    }
  });

  test('DELETE is 204, then 404; its members go with it', async () => {
    const c = await createContext();
    const alice = await signUp(server);
    const bob = await signUp(server);
    await addMember(c.id, alice.user.id, edJson());
    await addMember(c.id, bob.user.id, p256Json());
    assert.equal((await getContext(c.id)).members, 2);
    assert.deepEqual((await allContexts(alice.token)).map((x) => x.id), [c.id]);

    const del = await api('DELETE', `/v1/contexts/${c.id}`);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertProblem(await api('GET', `/v1/contexts/${c.id}`), 404, 'context_not_found');
    assertProblem(await api('GET', `/v1/contexts/${c.id}/users`), 404, 'context_not_found');
    assertProblem(await api('DELETE', `/v1/contexts/${c.id}`), 404, 'context_not_found');
    assertProblem(await api('DELETE', `/v1/contexts/${c.id}/users/${alice.user.id}`), 404, 'context_not_found');
    assertProblem(await putMember(c.id, alice.user.id, edJson()), 404, 'context_not_found');
    assert.ok(!(await allContexts()).some((x) => x.id === c.id), 'not listed any more');
    // the former members see nothing of it
    assert.deepEqual(await allContexts(alice.token), []);
    assertProblem(await api('GET', `/v1/contexts/${c.id}/users`, undefined, bob.token), 404, 'context_not_found');
  });

  test('permissions: writes need contexts:write, reads contexts:read (403 naming the one missing)', async () => {
    const c = await createContext();
    const { user, token: session } = await signUp(server);
    const key = edJson();

    // contexts:read only
    assertForbidden(await api('POST', '/v1/contexts', { name: ctxName() }, reader.token), 'contexts:write');
    assertForbidden(await api('DELETE', `/v1/contexts/${c.id}`, undefined, reader.token), 'contexts:write');
    assertForbidden(await putMember(c.id, user.id, key, reader.token), 'contexts:write');
    assertForbidden(await api('DELETE', `/v1/contexts/${c.id}/users/${user.id}`, undefined, reader.token), 'contexts:write');
    assert.equal((await api('GET', `/v1/contexts/${c.id}/users`, undefined, reader.token)).status, 200);
    assert.ok((await allContexts(reader.token)).some((x) => x.id === c.id));

    // contexts:write only
    assertForbidden(await api('GET', '/v1/contexts', undefined, writer.token), 'contexts:read');
    assertForbidden(await api('GET', `/v1/contexts/${c.id}`, undefined, writer.token), 'contexts:read');
    assertForbidden(await api('GET', `/v1/contexts/${c.id}/users`, undefined, writer.token), 'contexts:read');
    const made = await createContext({}, { token: writer.token });
    await addMember(made.id, user.id, key, { token: writer.token });
    assert.equal((await getContext(made.id)).members, 1);

    // neither
    assertForbidden(await api('POST', '/v1/contexts', { name: ctxName() }, unrelated.token), 'contexts:write');
    assertForbidden(await api('GET', '/v1/contexts', undefined, unrelated.token), 'contexts:read');
    assertForbidden(await putMember(c.id, user.id, key, unrelated.token), 'contexts:write');

    // a plain user's session: no contexts:write
    assertForbidden(await api('POST', '/v1/contexts', { name: ctxName() }, session), 'contexts:write');
    assertForbidden(await api('DELETE', `/v1/contexts/${c.id}`, undefined, session), 'contexts:write');

    // no credential at all
    assertProblem(await server.request('GET', '/v1/contexts'), 401, 'unauthenticated');
    assertProblem(await server.request('POST', '/v1/contexts', { json: { name: ctxName() } }), 401, 'unauthenticated');
    assertProblem(await server.request('GET', `/v1/contexts/${c.id}`), 401, 'unauthenticated');
    assertProblem(await server.request('GET', `/v1/contexts/${c.id}/users`), 401, 'unauthenticated');
    assertProblem(await server.request('PUT', `/v1/contexts/${c.id}/users/${user.id}`, { json: key }), 401, 'unauthenticated');

    assert.equal((await getContext(c.id)).members, 0, 'nothing changed by the refused requests');
  });
});

// ---- pagination --------------------------------------------------------------------------------------

describe('pagination', () => {
  test('GET /v1/contexts pages newest first with limit and next_cursor', async () => {
    const made = [];
    for (let i = 0; i < 5; i += 1) made.push(await createContext({ name: ctxName(`page${i}`) }));
    const newestFirst = made.map((c) => c.id).reverse();

    const seen = [];
    let cursor = null;
    for (let page = 0; page < 3; page += 1) {
      const q = `limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await api('GET', `/v1/contexts?${q}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.items.length, 2, `page ${page}`);
      res.body.items.forEach(assertContextShape);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
      assert.equal(typeof cursor, 'string', 'more contexts follow');
    }
    assert.deepEqual(seen.slice(0, 5).map((c) => c.id), newestFirst, 'the newest five first, newest first');
    assert.deepEqual(seen[0], await getContext(made[4].id), 'list items are the context objects');

    // the whole list: no duplicates, sorted newest first, ends with next_cursor null
    const all = await allContexts(admin.token, { limit: 3 });
    assert.equal(new Set(all.map((c) => c.id)).size, all.length, 'no context twice');
    for (let i = 1; i < all.length; i += 1) assert.ok(all[i - 1].created_at >= all[i].created_at, 'newest first');
    assert.deepEqual(all.slice(0, 5).map((c) => c.id), newestFirst);
    assert.deepEqual((await allContexts(admin.token)).map((c) => c.id), all.map((c) => c.id), 'the same with one page');

    assertValidation(await api('GET', '/v1/contexts?limit=0'), 'limit:range');
    assertValidation(await api('GET', '/v1/contexts?limit=1001'), 'limit:range');
    for (const bad of ['!!!', 'xyz', '']) assertProblem(await api('GET', `/v1/contexts?cursor=${bad}`), 400, 'invalid_cursor');
    const full = await api('GET', '/v1/contexts?limit=1000');
    assert.equal(full.body.next_cursor, null);
  });

  test('members page oldest first; replacing a key keeps the place', async () => {
    const c = await createContext();
    // Users signed up in one order and added in another: the listing follows the adding.
    const signedUp = [];
    for (let i = 0; i < 5; i += 1) signedUp.push((await signUp(server)).user.id);
    const users = [3, 0, 4, 1, 2].map((i) => signedUp[i]);
    for (const [i, id] of users.entries()) await addMember(c.id, id, i % 2 ? p256Json() : edJson());
    assert.equal((await getContext(c.id)).members, 5);

    const first = await api('GET', `/v1/contexts/${c.id}/users?limit=2`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.items.length, 2);
    assert.equal(typeof first.body.next_cursor, 'string');
    const paged = await allMembers(c.id, { limit: 2 });
    assert.deepEqual(paged.map((m) => m.user_id).sort(), [...users].sort(), 'every member once');
    assert.deepEqual(await allMembers(c.id), paged, 'the same in one page');
    assertValidation(await api('GET', `/v1/contexts/${c.id}/users?limit=0`), 'limit:range');
    assertValidation(await api('GET', `/v1/contexts/${c.id}/users?limit=1001`), 'limit:range');
    assertProblem(await api('GET', `/v1/contexts/${c.id}/users?cursor=!!!`), 400, 'invalid_cursor');

    // the order: oldest first, as added (not as signed up); a replaced key keeps its place
    assert.deepEqual(paged.map((m) => m.user_id), users, 'oldest first');
    for (let i = 1; i < paged.length; i += 1) assert.ok(paged[i - 1].added_at <= paged[i].added_at);
    await addMember(c.id, users[0], p256Json(), { status: 200 });
    assert.deepEqual((await allMembers(c.id, { limit: 3 })).map((m) => m.user_id), users, 'order unchanged by a replace');
  });
});

// ---- members and keys --------------------------------------------------------------------------------

describe('members and their keys', () => {
  test('ed25519: standard and URL alphabets, padded or not; stored as standard base64', async () => {
    const c = await createContext();
    const key = ed25519Key({ urlSafe: true });
    assert.notEqual(key.std.replace(/=+$/, ''), key.url, 'the two alphabets differ for this key');
    const spellings = [key.std, key.stdBare, key.url, key.urlPadded];
    const added = [];
    for (const spelling of spellings) {
      const { user } = await signUp(server);
      const m = await addMember(c.id, user.id, { public_key: spelling, key_type: 'ed25519' });
      assert.equal(m.key_type, 'ed25519');
      assert.equal(m.public_key, key.std, `${spelling} normalized to standard padded base64`);
      assert.deepEqual(Buffer.from(m.public_key, 'base64'), key.raw);
      added.push(m);
    }
    const listed = await allMembers(c.id);
    assert.deepEqual(listed, added, 'the listing holds the members as PUT returned them');
    assert.equal((await getContext(c.id)).members, 4);
  });

  test('p256: PEM and base64 DER SubjectPublicKeyInfo; stored as PEM', async () => {
    const c = await createContext();
    const key = p256Key();
    const spellings = [key.pem, key.pem.trim(), key.b64];
    const stored = [];
    for (const spelling of spellings) {
      const { user } = await signUp(server);
      const m = await addMember(c.id, user.id, { public_key: spelling, key_type: 'p256' });
      assert.equal(m.key_type, 'p256');
      assert.match(m.public_key, PEM_FORMAT);
      assert.deepEqual(derOfPem(m.public_key), key.der, 'the same key');
      stored.push(m.public_key);
    }
    assert.equal(new Set(stored).size, 1, `one normalized form: ${JSON.stringify(stored)}`);
    const listed = await allMembers(c.id);
    assert.deepEqual(
      listed.map((m) => m.public_key),
      stored,
    );
  });

  test('201 for a new member, 200 when the key is replaced (added_at kept)', async () => {
    const c = await createContext();
    const { user } = await signUp(server);
    const ed = ed25519Key();
    const created = await addMember(c.id, user.id, { public_key: ed.std, key_type: 'ed25519' }, { status: 201 });
    assert.equal(created.public_key, ed.std);
    assert.equal((await getContext(c.id)).members, 1);

    const again = await addMember(c.id, user.id, { public_key: ed.url, key_type: 'ed25519' }, { status: 200 });
    assert.equal(again.public_key, ed.std);
    assert.equal(again.added_at, created.added_at);

    const p = p256Key();
    const replaced = await addMember(c.id, user.id, { public_key: p.b64, key_type: 'p256' }, { status: 200 });
    assert.equal(replaced.key_type, 'p256');
    assert.deepEqual(derOfPem(replaced.public_key), p.der);
    assert.equal(replaced.added_at, created.added_at, 'added_at kept');
    assert.ok(replaced.updated_at >= created.updated_at, 'updated_at moves forward');
    assert.equal((await getContext(c.id)).members, 1, 'still one member');
    assert.deepEqual(await allMembers(c.id), [replaced]);

    // the same user in another context is another membership
    const other = await createContext();
    const elsewhere = await addMember(other.id, user.id, edJson(), { status: 201 });
    assert.equal(elsewhere.key_type, 'ed25519');
    assert.deepEqual(await allMembers(c.id), [replaced], 'the first context untouched');
  });

  test('a key that is not a valid key of its type is 422 naming public_key (invalid_key)', async () => {
    const c = await createContext();
    const { user } = await signUp(server);
    const ed = ed25519Key();
    const p = p256Key();
    const p384 = spki(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    const secp256k1 = spki(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey);
    const rsa = spki(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    const edSpki = spki(generateKeyPairSync('ed25519').publicKey);
    // A P-256 SPKI whose point is off the curve: the last byte of y changed.
    const offCurve = Buffer.from(p.der);
    offCurve[offCurve.length - 1] ^= 0x01;
    const point = p.der.subarray(-65); // the bare uncompressed point, without the SPKI around it
    assert.equal(point[0], 0x04);

    const cases = [
      ['ed25519', randomBytes(31).toString('base64'), '31 bytes'],
      ['ed25519', randomBytes(33).toString('base64'), '33 bytes'],
      ['ed25519', randomBytes(64).toString('base64'), '64 bytes'],
      ['ed25519', '!!!!not*base64 at all!!!!##########%%%%%%%%', 'garbage'],
      ['ed25519', `${ed.std.slice(0, 20)}$${ed.std.slice(21)}`, 'one character outside base64'],
      ['ed25519', edSpki.pem, 'an Ed25519 SPKI PEM is not 32 raw bytes'],
      ['ed25519', p.pem, 'a P-256 key given as ed25519'],
      ['ed25519', p.b64, 'a P-256 DER given as ed25519'],
      ['p256', p384.pem, 'a P-384 key (PEM)'],
      ['p256', p384.der.toString('base64'), 'a P-384 key (DER)'],
      ['p256', secp256k1.pem, 'a secp256k1 key'],
      ['p256', rsa.pem, 'an RSA key (PEM)'],
      ['p256', rsa.der.toString('base64'), 'an RSA key (DER)'],
      ['p256', edSpki.pem, 'an Ed25519 SPKI'],
      ['p256', ed.std, 'raw Ed25519 bytes given as p256'],
      ['p256', '-----BEGIN PUBLIC KEY-----\nthis is not a key at all\n-----END PUBLIC KEY-----\n', 'PEM garbage'],
      ['p256', `-----BEGIN PUBLIC KEY-----\n${randomBytes(91).toString('base64')}\n-----END PUBLIC KEY-----\n`, 'PEM of random bytes'],
      ['p256', toPem(p.der.subarray(0, p.der.length - 10)), 'a truncated SPKI'],
      ['p256', p.pem.replace('BEGIN PUBLIC KEY', 'BEGIN CERTIFICATE').replace('END PUBLIC KEY', 'END CERTIFICATE'), 'another PEM label'],
      ['p256', toPem(offCurve), 'a point off the curve (PEM)'],
      ['p256', offCurve.toString('base64'), 'a point off the curve (DER)'],
      ['p256', point.toString('base64'), 'a bare point without SubjectPublicKeyInfo'],
      ['p256', 'bm90IGEga2V5', 'base64 of text'],
    ];
    for (const [keyType, publicKey, what] of cases) {
      const res = await putMember(c.id, user.id, { public_key: publicKey, key_type: keyType });
      assert.equal(res.status, 422, `${what}: ${res.status} ${res.text}`);
      const errors = assertValidation(res, 'public_key:invalid_key');
      assert.ok(!errors.some((e) => e.startsWith('key_type:')), `${what}: key_type is fine: ${JSON.stringify(errors)}`);
    }
    assertValidation(await putMember(c.id, user.id, { public_key: '', key_type: 'ed25519' }), 'public_key');
    assertValidation(await putMember(c.id, user.id, { public_key: '', key_type: 'p256' }), 'public_key');
    assert.equal((await getContext(c.id)).members, 0, 'no member was added');
    assert.deepEqual(await allMembers(c.id), []);

    // A refused replacement leaves the registered key as it was.
    const m = await addMember(c.id, user.id, { public_key: ed.url, key_type: 'ed25519' });
    assertValidation(await putMember(c.id, user.id, { public_key: p384.pem, key_type: 'p256' }), 'public_key:invalid_key');
    assertValidation(await putMember(c.id, user.id, { public_key: randomBytes(31).toString('base64'), key_type: 'ed25519' }), 'public_key:invalid_key');
    assert.deepEqual(await allMembers(c.id), [m]);
  });

  test('key_type must be ed25519 or p256; both fields are required', async () => {
    const c = await createContext();
    const { user } = await signUp(server);
    const ed = ed25519Key();
    for (const keyType of ['rsa', 'secp256k1', 'x25519', 'p384', '']) {
      const res = await putMember(c.id, user.id, { public_key: ed.std, key_type: keyType });
      assertValidation(res, 'key_type:invalid');
    }
    assertValidation(await putMember(c.id, user.id, { public_key: ed.std }), 'key_type');
    assertValidation(await putMember(c.id, user.id, { public_key: ed.std, key_type: 1 }), 'key_type:type');
    assertValidation(await putMember(c.id, user.id, { key_type: 'ed25519' }), 'public_key:required');
    assertValidation(await putMember(c.id, user.id, { public_key: 12, key_type: 'ed25519' }), 'public_key:type');
    const both = assertValidation(await putMember(c.id, user.id, {}), ['public_key:required', 'key_type']);
    assert.equal(both.length, 2, JSON.stringify(both));
    assert.equal((await getContext(c.id)).members, 0);
  });

  test('no such user: 404 user_not_found', async () => {
    const c = await createContext();
    for (const id of [NO_SUCH_ID, 'not-a-uuid']) {
      assertProblem(await putMember(c.id, id, edJson()), 404, 'user_not_found');
    }
    assert.equal((await getContext(c.id)).members, 0);
  });

  test('DELETE of a member is 204, then 404 member_not_found', async () => {
    const c = await createContext();
    const alice = await signUp(server);
    const bob = await signUp(server);
    const outsider = await signUp(server);
    await addMember(c.id, alice.user.id, edJson());
    const bobMember = await addMember(c.id, bob.user.id, p256Json());
    assert.equal((await getContext(c.id)).members, 2);

    const del = await api('DELETE', `/v1/contexts/${c.id}/users/${alice.user.id}`);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assert.equal((await getContext(c.id)).members, 1);
    assert.deepEqual(await allMembers(c.id), [bobMember]);
    assertProblem(await api('DELETE', `/v1/contexts/${c.id}/users/${alice.user.id}`), 404, 'member_not_found');
    assertProblem(await api('DELETE', `/v1/contexts/${c.id}/users/${outsider.user.id}`), 404, 'member_not_found');
    // the former member lost access
    assertProblem(await api('GET', `/v1/contexts/${c.id}/users`, undefined, alice.token), 404, 'context_not_found');
    assertProblem(await api('GET', `/v1/contexts/${c.id}`, undefined, alice.token), 404, 'context_not_found');

    // and can be added again, as a new member
    const back = await addMember(c.id, alice.user.id, edJson(), { status: 201 });
    assert.equal((await getContext(c.id)).members, 2);
    assert.deepEqual((await allMembers(c.id)).map((m) => m.user_id), [bob.user.id, alice.user.id], 'back at the end');
    assert.equal(back.user_id, alice.user.id);
  });

  test("deleting a user removes the user's memberships", async () => {
    const c1 = await createContext();
    const c2 = await createContext();
    const doomed = await signUp(server);
    const selfDeleting = await signUp(server);
    const stays = await signUp(server);
    for (const c of [c1, c2]) {
      await addMember(c.id, doomed.user.id, edJson());
      await addMember(c.id, selfDeleting.user.id, p256Json());
      await addMember(c.id, stays.user.id, edJson());
    }
    assert.equal((await getContext(c1.id)).members, 3);

    const del = await api('DELETE', `/v1/users/${doomed.user.id}`, undefined, superuser.token);
    assert.equal(del.status, 204, del.text);
    for (const c of [c1, c2]) {
      assert.equal((await getContext(c.id)).members, 2, 'the count drops');
      assert.deepEqual((await allMembers(c.id)).map((m) => m.user_id), [selfDeleting.user.id, stays.user.id]);
    }
    assertProblem(await putMember(c1.id, doomed.user.id, edJson()), 404, 'user_not_found');

    const self = await server.request('DELETE', '/v1/me', { token: selfDeleting.token, json: { password: PASSWORD } });
    assert.equal(self.status, 204, self.text);
    for (const c of [c1, c2]) {
      assert.equal((await getContext(c.id)).members, 1);
      assert.deepEqual((await allMembers(c.id)).map((m) => m.user_id), [stays.user.id]);
    }
  });
});

// ---- what users see ----------------------------------------------------------------------------------

describe('what a user sees through their session', () => {
  let alice; // member of shared and mine
  let bob; // member of shared
  let carol; // member of nothing
  let shared;
  let mine;
  let theirs; // alice is not a member
  before(async () => {
    [alice, bob, carol] = [await signUp(server), await signUp(server), await signUp(server)];
    shared = await createContext({ name: ctxName('shared') });
    theirs = await createContext({ name: ctxName('theirs') });
    mine = await createContext({ name: ctxName('mine') });
    await addMember(shared.id, alice.user.id, edJson());
    await addMember(shared.id, bob.user.id, p256Json());
    await addMember(mine.id, alice.user.id, p256Json());
    await addMember(theirs.id, bob.user.id, edJson());
  });

  test('a member lists the members of their context, with their keys', async () => {
    const asAdmin = await allMembers(shared.id);
    assert.equal(asAdmin.length, 2);
    for (const who of [alice, bob]) {
      const res = await api('GET', `/v1/contexts/${shared.id}/users`, undefined, who.token);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { items: asAdmin, next_cursor: null });
      assert.deepEqual(await allMembers(shared.id, { token: who.token, limit: 1 }), asAdmin, 'pages too');
      assert.deepEqual(await getContext(shared.id, who.token), await getContext(shared.id));
    }
  });

  test('a member learns nothing of a context they are not in: 404 context_not_found', async () => {
    assertProblem(await api('GET', `/v1/contexts/${theirs.id}/users`, undefined, alice.token), 404, 'context_not_found');
    assertProblem(await api('GET', `/v1/contexts/${theirs.id}`, undefined, alice.token), 404, 'context_not_found');
    // as a context that does not exist
    assertProblem(await api('GET', `/v1/contexts/${NO_SUCH_ID}/users`, undefined, alice.token), 404, 'context_not_found');
  });

  test('a member cannot add, replace or remove members, nor delete the context (403)', async () => {
    assertForbidden(await putMember(shared.id, carol.user.id, edJson(), alice.token), 'contexts:write');
    assertForbidden(await putMember(shared.id, alice.user.id, edJson(), alice.token), 'contexts:write');
    assertForbidden(await api('DELETE', `/v1/contexts/${shared.id}/users/${bob.user.id}`, undefined, alice.token), 'contexts:write');
    assertForbidden(await api('DELETE', `/v1/contexts/${shared.id}/users/${alice.user.id}`, undefined, alice.token), 'contexts:write');
    assertForbidden(await api('DELETE', `/v1/contexts/${shared.id}`, undefined, alice.token), 'contexts:write');
    assertForbidden(await api('POST', '/v1/contexts', { name: ctxName() }, alice.token), 'contexts:write');
    assert.equal((await getContext(shared.id)).members, 2, 'unchanged');
  });

  test('GET /v1/contexts shows a user only the contexts they are a member of, newest first', async () => {
    const expected = [await getContext(mine.id), await getContext(shared.id)];
    const res = await api('GET', '/v1/contexts', undefined, alice.token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { items: expected, next_cursor: null });
    const one = await api('GET', '/v1/contexts?limit=1', undefined, alice.token);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body.items, [expected[0]]);
    assert.equal(typeof one.body.next_cursor, 'string');
    assert.deepEqual(await allContexts(alice.token, { limit: 1 }), expected);
    assert.deepEqual(
      (await allContexts(bob.token)).map((c) => c.id),
      [theirs.id, shared.id],
    );
  });

  test('a user who is a member of nothing sees nothing', async () => {
    const res = await api('GET', '/v1/contexts', undefined, carol.token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { items: [], next_cursor: null });
    for (const c of [shared, mine, theirs]) {
      assertProblem(await api('GET', `/v1/contexts/${c.id}`, undefined, carol.token), 404, 'context_not_found');
      assertProblem(await api('GET', `/v1/contexts/${c.id}/users`, undefined, carol.token), 404, 'context_not_found');
    }
  });

  test('a user whose roles grant contexts:read sees every context', async () => {
    const dave = await signUp(server);
    const role = await api('POST', '/v1/roles', { name: `ctx-readers-${unique()}`, permissions: ['contexts:read'] }, superuser.token);
    assert.equal(role.status, 201, role.text);
    const assigned = await api('PUT', `/v1/users/${dave.user.id}/roles`, { roles: [role.body.name] }, superuser.token);
    assert.equal(assigned.status, 200, assigned.text);
    assert.deepEqual(await allMembers(theirs.id, { token: dave.token }), await allMembers(theirs.id));
    assert.deepEqual(await getContext(theirs.id, dave.token), await getContext(theirs.id));
    const seen = new Set((await allContexts(dave.token)).map((c) => c.id));
    for (const c of [shared, mine, theirs]) assert.ok(seen.has(c.id), `sees ${c.name}`);
    assertForbidden(await putMember(theirs.id, dave.user.id, edJson(), dave.token), 'contexts:write');
  });
});

// ---- JSON-RPC ----------------------------------------------------------------------------------------

let nextId = 1;
async function call(method, params, token, srv = server) {
  const id = nextId++;
  const msg = { jsonrpc: '2.0', method, id };
  if (params !== undefined) msg.params = params;
  const res = await srv.request('POST', '/v1/rpc', { json: msg, token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.jsonrpc, '2.0');
  assert.equal(res.body.id, id);
  assert.ok(('result' in res.body) !== ('error' in res.body), `exactly one of result and error: ${res.text}`);
  return res.body;
}

function result(response) {
  assert.ok(!('error' in response), `expected a result, got ${JSON.stringify(response.error)}`);
  return response.result;
}

function rpcError(response, code, dataCode, status) {
  assert.ok(response.error, `expected an error, got ${JSON.stringify(response)}`);
  const e = response.error;
  assert.equal(e.code, code, JSON.stringify(e));
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  if (dataCode !== undefined) assert.equal(e.data?.code, dataCode, JSON.stringify(e));
  if (status !== undefined) assert.equal(e.data?.status, status, JSON.stringify(e));
  return e;
}

const fieldCodes = (e) => (e.data?.errors ?? []).map((x) => `${x.field}:${x.code}`);

describe('JSON-RPC', () => {
  test('context/create gives {contextId}; context/list gives {contexts, nextCursor} as REST, newest first', async () => {
    const name = ctxName('rpc');
    const created = result(await call('context/create', { name, description: 'from rpc' }, admin.token));
    assert.deepEqual(Object.keys(created), ['contextId']);
    assert.match(created.contextId, UUID_V7);
    const rest = await getContext(created.contextId);
    assert.equal(rest.name, name);
    assert.equal(rest.description, 'from rpc');
    assert.equal(rest.members, 0);
    const bare = result(await call('context/create', { name: ctxName('rpc-bare') }, admin.token));
    assert.equal((await getContext(bare.contextId)).description, '');

    const page = result(await call('context/list', { limit: 2 }, admin.token));
    assert.deepEqual(Object.keys(page).sort(), ['contexts', 'nextCursor']);
    assert.deepEqual(page.contexts, [await getContext(bare.contextId), rest]);
    assert.equal(typeof page.nextCursor, 'string');

    // every page, as REST lists them
    const seen = [];
    let cursor = null;
    for (let pages = 0; ; pages += 1) {
      assert.ok(pages < 100, 'pagination ends');
      const params = { limit: 7 };
      if (cursor) params.cursor = cursor;
      const r = result(await call('context/list', params, admin.token));
      seen.push(...r.contexts);
      cursor = r.nextCursor;
      if (cursor === null) break;
    }
    assert.deepEqual(seen, await allContexts());
    const all = result(await call('context/list', {}, admin.token));
    assert.ok(all.contexts.length >= 2);
    assert.deepEqual(all.contexts[0], await getContext(bare.contextId));
  });

  test('addUserToContext, listUsers, removeUserFromContext', async () => {
    const { contextId } = result(await call('context/create', { name: ctxName('rpc-members') }, admin.token));
    const early = await signUp(server); // signed up first, added last
    const alice = await signUp(server);
    const bob = await signUp(server);
    const carol = await signUp(server);
    const ed = ed25519Key({ urlSafe: true });
    const p = p256Key();
    const ed2 = ed25519Key();

    // keyType defaults to ed25519; keys are normalized as through REST
    assert.deepEqual(result(await call('context/addUserToContext', { contextId, userId: alice.user.id, userPubKey: ed.url }, admin.token)), {});
    assert.deepEqual(
      result(await call('context/addUserToContext', { contextId, userId: bob.user.id, userPubKey: p.b64, keyType: 'p256' }, admin.token)),
      {},
    );
    assert.deepEqual(
      result(await call('context/addUserToContext', { contextId, userId: carol.user.id, userPubKey: ed2.std, keyType: 'ed25519' }, admin.token)),
      {},
    );
    assert.equal((await getContext(contextId)).members, 3);

    const listed = result(await call('context/listUsers', { contextId }, admin.token));
    assert.deepEqual(Object.keys(listed).sort(), ['nextCursor', 'users']);
    assert.equal(listed.nextCursor, null);
    for (const u of listed.users) assert.deepEqual(Object.keys(u).sort(), ['keyType', 'pubKey', 'userId']);
    assert.deepEqual(
      listed.users.map((u) => [u.userId, u.keyType]),
      [
        [alice.user.id, 'ed25519'],
        [bob.user.id, 'p256'],
        [carol.user.id, 'ed25519'],
      ],
      'oldest first',
    );
    assert.equal(listed.users[0].pubKey, ed.std);
    assert.match(listed.users[1].pubKey, PEM_FORMAT);
    assert.deepEqual(derOfPem(listed.users[1].pubKey), p.der);
    const rest = await allMembers(contextId);
    assert.deepEqual(
      listed.users,
      rest.map((m) => ({ userId: m.user_id, pubKey: m.public_key, keyType: m.key_type })),
      'the same as REST',
    );

    // pages
    const seen = [];
    let cursor = null;
    for (let pages = 0; pages < 5; pages += 1) {
      const params = { contextId, limit: 1 };
      if (cursor) params.cursor = cursor;
      const r = result(await call('context/listUsers', params, admin.token));
      assert.ok(r.users.length <= 1);
      seen.push(...r.users);
      cursor = r.nextCursor;
      if (cursor === null) break;
    }
    assert.equal(cursor, null, 'three pages of one');
    assert.deepEqual(seen, listed.users);

    // adding again replaces the key
    const p2 = p256Key();
    assert.deepEqual(
      result(await call('context/addUserToContext', { contextId, userId: alice.user.id, userPubKey: p2.pem, keyType: 'p256' }, admin.token)),
      {},
    );
    const after = result(await call('context/listUsers', { contextId }, admin.token)).users;
    assert.equal(after.length, 3);
    assert.equal(after[0].userId, alice.user.id);
    assert.equal(after[0].keyType, 'p256');
    assert.deepEqual(derOfPem(after[0].pubKey), p2.der);

    // remove
    assert.deepEqual(result(await call('context/removeUserFromContext', { contextId, userId: bob.user.id }, admin.token)), {});
    assert.deepEqual(
      result(await call('context/listUsers', { contextId }, admin.token)).users.map((u) => u.userId),
      [alice.user.id, carol.user.id],
    );
    assert.equal((await getContext(contextId)).members, 2);
    rpcError(await call('context/removeUserFromContext', { contextId, userId: bob.user.id }, admin.token), -32000, 'member_not_found', 404);

    // oldest first is the order of adding, whoever signed up first
    result(await call('context/addUserToContext', { contextId, userId: early.user.id, userPubKey: ed25519Key().std }, admin.token));
    assert.deepEqual(
      result(await call('context/listUsers', { contextId }, admin.token)).users.map((u) => u.userId),
      [alice.user.id, carol.user.id, early.user.id],
      'the member added last comes last',
    );
  });

  test('application errors carry the REST code: context_not_found, user_not_found, validation_failed, forbidden', async () => {
    const { contextId } = result(await call('context/create', { name: ctxName('rpc-errors') }, admin.token));
    const { user } = await signUp(server);
    const ed = ed25519Key();

    for (const [method, params] of [
      ['context/listUsers', { contextId: NO_SUCH_ID }],
      ['context/addUserToContext', { contextId: NO_SUCH_ID, userId: user.id, userPubKey: ed.std }],
      ['context/removeUserFromContext', { contextId: NO_SUCH_ID, userId: user.id }],
    ]) {
      const e = rpcError(await call(method, params, admin.token), -32000, 'context_not_found', 404);
      if (method === 'context/listUsers') {
        const rest = await api('GET', `/v1/contexts/${NO_SUCH_ID}/users`);
        assert.equal(e.message, rest.body.detail, 'the REST detail');
      }
    }
    rpcError(
      await call('context/addUserToContext', { contextId, userId: NO_SUCH_ID, userPubKey: ed.std }, admin.token),
      -32000,
      'user_not_found',
      404,
    );

    // a bad key: the REST validation error
    for (const params of [
      { contextId, userId: user.id, userPubKey: randomBytes(31).toString('base64') },
      { contextId, userId: user.id, userPubKey: ed.std, keyType: 'p256' },
      { contextId, userId: user.id, userPubKey: p256Key().pem, keyType: 'ed25519' },
    ]) {
      const e = rpcError(await call('context/addUserToContext', params, admin.token), -32000, 'validation_failed', 422);
      const fields = fieldCodes(e);
      assert.ok(
        fields.some((f) => f.startsWith('userPubKey:') || f.startsWith('public_key:')),
        `names the key: ${JSON.stringify(fields)}`,
      );
    }
    // a key type outside the two: named, as an invalid parameter or a validation error
    const badTypeResponse = await call('context/addUserToContext', { contextId, userId: user.id, userPubKey: ed.std, keyType: 'rsa' }, admin.token);
    const badType = rpcError(badTypeResponse, badTypeResponse.error?.code === -32602 ? -32602 : -32000);
    assert.ok(
      badType.code === -32602 ? badType.data?.code === 'invalid_params' : badType.data?.code === 'validation_failed',
      JSON.stringify(badType),
    );
    assert.ok(
      fieldCodes(badType).some((f) => f.startsWith('keyType:') || f.startsWith('key_type:')),
      `names the key type: ${JSON.stringify(badType)}`,
    );
    assert.equal((await getContext(contextId)).members, 0, 'nothing added');

    // name rules
    const long = rpcError(await call('context/create', { name: 'x'.repeat(129) }, admin.token), -32000, 'validation_failed', 422);
    assert.deepEqual(fieldCodes(long).map((f) => f.split(':')[0]), ['name']);
    rpcError(await call('context/create', { name: ctxName(), description: 'd'.repeat(1025) }, admin.token), -32000, 'validation_failed', 422);

    // permissions as in REST
    let e = rpcError(await call('context/create', { name: ctxName() }, reader.token), -32000, 'forbidden', 403);
    assert.equal(e.data.missing_permission, 'contexts:write');
    e = rpcError(await call('context/addUserToContext', { contextId, userId: user.id, userPubKey: ed.std }, reader.token), -32000, 'forbidden', 403);
    assert.equal(e.data.missing_permission, 'contexts:write');
    e = rpcError(await call('context/removeUserFromContext', { contextId, userId: user.id }, reader.token), -32000, 'forbidden', 403);
    assert.equal(e.data.missing_permission, 'contexts:write');
    e = rpcError(await call('context/list', {}, writer.token), -32000, 'forbidden', 403);
    assert.equal(e.data.missing_permission, 'contexts:read');
    e = rpcError(await call('context/listUsers', { contextId }, writer.token), -32000, 'forbidden', 403);
    assert.equal(e.data.missing_permission, 'contexts:read');
    rpcError(await call('context/list', {}), -32000, 'unauthenticated', 401);

    // paging parameters: the REST errors (400 invalid_cursor, 422 validation_failed naming limit:range), as
    // user/list gives them; every case is checked before any failure is reported
    const wrong = [];
    for (const [method, params, dataCode, status, fields] of [
      ['context/list', { cursor: '!!!' }, 'invalid_cursor', 400],
      ['context/listUsers', { contextId, cursor: '!!!' }, 'invalid_cursor', 400],
      ['context/list', { limit: 0 }, 'validation_failed', 422, ['limit:range']],
      ['context/list', { limit: 1001 }, 'validation_failed', 422, ['limit:range']],
      ['context/listUsers', { contextId, limit: 0 }, 'validation_failed', 422, ['limit:range']],
    ]) {
      const { error } = await call(method, params, admin.token);
      const ok =
        error?.code === -32000 &&
        error.data?.code === dataCode &&
        error.data?.status === status &&
        (!fields || JSON.stringify(fieldCodes(error)) === JSON.stringify(fields));
      if (!ok) wrong.push(`${method} ${JSON.stringify(params)}: expected -32000 ${dataCode} ${status}, got ${JSON.stringify(error)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('missing, unknown and wrongly typed params are -32602 invalid_params', async () => {
    const { contextId } = result(await call('context/create', { name: ctxName('rpc-params') }, admin.token));
    const { user } = await signUp(server);
    const key = ed25519Key().std;
    const cases = [
      ['context/listUsers', {}, 'contextId:required'],
      ['context/listUsers', undefined, 'contextId:required'],
      ['context/addUserToContext', { userId: user.id, userPubKey: key }, 'contextId:required'],
      ['context/removeUserFromContext', { userId: user.id }, 'contextId:required'],
      ['context/addUserToContext', { contextId, userPubKey: key }, 'userId:required'],
      ['context/addUserToContext', { contextId, userId: user.id }, 'userPubKey:required'],
      ['context/removeUserFromContext', { contextId }, 'userId:required'],
      ['context/create', {}, 'name:required'],
      ['context/create', { name: 5 }, 'name:type'],
      ['context/listUsers', { contextId: 7 }, 'contextId:type'],
      ['context/list', { limit: '10' }, 'limit:type'],
      ['context/list', { color: 'red' }, 'color:unknown_field'],
      ['context/create', { name: ctxName(), color: 'red' }, 'color:unknown_field'],
      ['context/addUserToContext', { contextId, userId: user.id, userPubKey: key, label: 'x' }, 'label:unknown_field'],
    ];
    // every case is checked before any failure is reported
    const wrong = [];
    for (const [method, params, field] of cases) {
      const { error } = await call(method, params, admin.token);
      const got = error ? `${error.code} ${error.data?.code} ${JSON.stringify(fieldCodes(error))}` : 'a result';
      if (!error || error.code !== -32602 || error.data?.code !== 'invalid_params' || !fieldCodes(error).includes(field))
        wrong.push(`${method} ${JSON.stringify(params)}: expected -32602 invalid_params naming ${field}, got ${got}`);
    }
    assert.deepEqual(wrong, []);
    assert.equal((await getContext(contextId)).members, 0);
  });

  test("a member's session: context/list shows their contexts, listUsers works for theirs only, writes are forbidden", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const { contextId: mineId } = result(await call('context/create', { name: ctxName('rpc-mine') }, admin.token));
    const { contextId: otherId } = result(await call('context/create', { name: ctxName('rpc-other') }, admin.token));
    const aliceKey = ed25519Key();
    result(await call('context/addUserToContext', { contextId: mineId, userId: alice.user.id, userPubKey: aliceKey.std }, admin.token));
    result(await call('context/addUserToContext', { contextId: mineId, userId: bob.user.id, userPubKey: p256Key().pem, keyType: 'p256' }, admin.token));
    result(await call('context/addUserToContext', { contextId: otherId, userId: bob.user.id, userPubKey: ed25519Key().std }, admin.token));

    const listed = result(await call('context/list', {}, alice.token));
    assert.deepEqual(listed, { contexts: [await getContext(mineId)], nextCursor: null });
    const users = result(await call('context/listUsers', { contextId: mineId }, alice.token));
    assert.deepEqual(users, result(await call('context/listUsers', { contextId: mineId }, admin.token)));
    assert.deepEqual(users.users.map((u) => u.userId), [alice.user.id, bob.user.id]);
    assert.equal(users.users[0].pubKey, aliceKey.std);

    rpcError(await call('context/listUsers', { contextId: otherId }, alice.token), -32000, 'context_not_found', 404);
    const e = rpcError(
      await call('context/addUserToContext', { contextId: mineId, userId: alice.user.id, userPubKey: ed25519Key().std }, alice.token),
      -32000,
      'forbidden',
      403,
    );
    assert.equal(e.data.missing_permission, 'contexts:write');
    rpcError(await call('context/removeUserFromContext', { contextId: mineId, userId: bob.user.id }, alice.token), -32000, 'forbidden', 403);
    rpcError(await call('context/create', { name: ctxName() }, alice.token), -32000, 'forbidden', 403);

    const outsider = await signUp(server);
    assert.deepEqual(result(await call('context/list', {}, outsider.token)), { contexts: [], nextCursor: null });
    rpcError(await call('context/listUsers', { contextId: mineId }, outsider.token), -32000, 'context_not_found', 404);
  });
});

// ---- project isolation -------------------------------------------------------------------------------

describe('project isolation', () => {
  let srv;
  let keyA;
  let keyB;
  before(async () => {
    srv = await startServer();
    await createProject(srv.dataDir, 'second');
    [keyA, keyB] = await Promise.all([
      apiKeyToken(srv, 'contexts:read,contexts:write', 'default'),
      apiKeyToken(srv, 'contexts:read,contexts:write', 'second'),
    ]);
    // A running server learns of a project made by the CLI within seconds (docs/behaviour.md).
    await eventually(
      async () => (await srv.request('POST', '/v1/auth/signup', { json: { email: uniqueEmail(), password: PASSWORD } })).status === 400,
      { timeoutMs: 10_000, intervalMs: 250, what: 'the second project is known' },
    );
  });
  after(async () => {
    await srv?.close();
  });

  test("another project's key sees nothing of a context (404), and users stay in their project", async () => {
    const inA = await signUp(srv, {}, { headers: { 'x-tessera-project': 'default' } });
    const inB = await signUp(srv, {}, { headers: { 'x-tessera-project': 'second' } });
    const ca = await createContext({}, { token: keyA.token, srv });
    const cb = await createContext({}, { token: keyB.token, srv });
    assert.notEqual(ca.project_id, cb.project_id);
    const memberA = await addMember(ca.id, inA.user.id, edJson(), { token: keyA.token, srv });

    for (const [method, p, json] of [
      ['GET', `/v1/contexts/${ca.id}`],
      ['GET', `/v1/contexts/${ca.id}/users`],
      ['PUT', `/v1/contexts/${ca.id}/users/${inB.user.id}`, edJson()],
      ['PUT', `/v1/contexts/${ca.id}/users/${inA.user.id}`, edJson()],
      ['DELETE', `/v1/contexts/${ca.id}/users/${inA.user.id}`],
      ['DELETE', `/v1/contexts/${ca.id}`],
    ]) {
      assertProblem(await api(method, p, json, keyB.token, srv), 404, 'context_not_found');
    }
    assert.deepEqual((await allContexts(keyB.token, { srv })).map((c) => c.id), [cb.id]);
    assert.deepEqual((await allContexts(keyA.token, { srv })).map((c) => c.id), [ca.id]);
    rpcError(await call('context/listUsers', { contextId: ca.id }, keyB.token, srv), -32000, 'context_not_found', 404);

    // a user of project B cannot be a member of A's context, nor A's user of B's
    assertProblem(await putMember(ca.id, inB.user.id, edJson(), keyA.token, srv), 404, 'user_not_found');
    assertProblem(await putMember(cb.id, inA.user.id, edJson(), keyB.token, srv), 404, 'user_not_found');
    rpcError(
      await call('context/addUserToContext', { contextId: ca.id, userId: inB.user.id, userPubKey: ed25519Key().std }, keyA.token, srv),
      -32000,
      'user_not_found',
      404,
    );
    // B's user sees nothing of A's context through their session
    assertProblem(await api('GET', `/v1/contexts/${ca.id}/users`, undefined, inB.token, srv), 404, 'context_not_found');

    // A's context is untouched
    assert.deepEqual(await allMembers(ca.id, { token: keyA.token, srv }), [memberA]);
    assert.equal((await getContext(ca.id, keyA.token, srv)).members, 1);
    assert.deepEqual(await allMembers(ca.id, { token: inA.token, srv }), [memberA], 'its member sees it');
  });
});
