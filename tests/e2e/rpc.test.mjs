// JSON-RPC 2.0 on POST /v1/rpc: manager/auth with API keys made by the CLI, the user/* methods, single
// requests, batches and notifications, every protocol error code, application errors carrying the REST
// error code, and the same user JSON through REST and RPC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { runCli, startServer } from '../support/server.mjs';
import { PASSWORD, assertProblem, assertUserShape, signUp, unique, uniqueEmail } from '../support/api.mjs';

const ACCESS_TTL_MS = 15 * 60 * 1000; // the defaults of [token]
const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;

let server;
let admin; // an access token of a key holding users:read, users:write, users:delete
let adminAuth; // the manager/auth result behind it
let adminKey;
let readerKey; // users:read only
let reader;

async function createKey(permissions) {
  const r = await runCli(['apikey', 'create', '--data-dir', server.dataDir, '--project', 'default', '--permissions', permissions]);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

// POST /v1/rpc with a JSON body (or `raw` text); returns the HTTP answer.
function post(body, { token, raw, contentType = 'application/json', headers } = {}) {
  if (raw !== undefined) return server.request('POST', '/v1/rpc', { body: raw, contentType, token, headers });
  return server.request('POST', '/v1/rpc', { json: body, token, headers });
}

let nextId = 1;
// One request with an id; asserts the envelope and returns the response object.
async function call(method, params, token, { id = nextId++ } = {}) {
  const msg = { jsonrpc: '2.0', method, id };
  if (params !== undefined) msg.params = params;
  const res = await post(msg, { token });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.body.jsonrpc, '2.0');
  assert.deepEqual(res.body.id, id);
  assert.ok(('result' in res.body) !== ('error' in res.body), `exactly one of result and error: ${res.text}`);
  return res.body;
}

function result(response) {
  assert.ok(!('error' in response), `expected a result, got ${JSON.stringify(response.error)}`);
  return response.result;
}

// An error object with this JSON-RPC code (and data.code); returns the error.
function rpcError(response, code, dataCode) {
  assert.ok(response.error, `expected an error, got ${JSON.stringify(response)}`);
  assert.ok(!('result' in response));
  const e = response.error;
  assert.equal(e.code, code, JSON.stringify(e));
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  if (dataCode !== undefined) assert.equal(e.data?.code, dataCode, JSON.stringify(e));
  return e;
}

const fieldCodes = (e) => (e.data?.errors ?? []).map((x) => `${x.field}:${x.code}`);

async function auth(key, extra = {}) {
  return call('manager/auth', { grantType: 'api_key_credentials', apiKeyId: key.id, apiKeySecret: key.secret, ...extra });
}

before(async () => {
  server = await startServer();
  adminKey = await createKey('users:read,users:write,users:delete');
  readerKey = await createKey('users:read');
  adminAuth = result(await auth(adminKey));
  admin = adminAuth.accessToken;
  reader = result(await auth(readerKey)).accessToken;
});
after(async () => {
  await server?.close();
});

describe('manager/auth', () => {
  test('api_key_credentials: an access token, a refresh token and absolute expiries in milliseconds', async () => {
    const before = Date.now();
    const r = result(await auth(adminKey));
    const afterMs = Date.now();
    assert.deepEqual(Object.keys(r).sort(), ['accessToken', 'accessTokenExpiry', 'refreshToken', 'refreshTokenExpiry', 'scope', 'tokenType']);
    assert.equal(r.tokenType, 'Bearer');
    assert.equal(r.accessToken.split('.').length, 3, 'a JWT');
    assert.match(r.refreshToken, /^[a-z]{3}_/);
    assert.ok(Number.isInteger(r.accessTokenExpiry) && Number.isInteger(r.refreshTokenExpiry));
    assert.ok(r.accessTokenExpiry >= before + ACCESS_TTL_MS - 1000 && r.accessTokenExpiry <= afterMs + ACCESS_TTL_MS);
    assert.ok(r.refreshTokenExpiry >= before + REFRESH_TTL_MS - 1000 && r.refreshTokenExpiry <= afterMs + REFRESH_TTL_MS);
    assert.deepEqual(r.scope.split(' ').sort(), ['users:delete', 'users:read', 'users:write']);
    // the JWT's exp agrees (to the second)
    const claims = JSON.parse(Buffer.from(r.accessToken.split('.')[1], 'base64url').toString());
    assert.ok(Math.abs(claims.exp * 1000 - r.accessTokenExpiry) <= 1000, `${claims.exp} vs ${r.accessTokenExpiry}`);
  });

  test('scope narrows the key, never widens it', async () => {
    const r = result(await auth(adminKey, { scope: 'users:read' }));
    assert.equal(r.scope, 'users:read');
    const denied = await call('user/create', { email: uniqueEmail() }, r.accessToken);
    rpcError(denied, -32000, 'forbidden');
    const wider = await auth(readerKey, { scope: 'users:write' });
    const e = rpcError(wider, -32000, 'invalid_scope');
    assert.equal(e.data.status, 400);
  });

  test('refresh_token grant rotates through manager/auth, and the new access token works', async () => {
    const first = result(await auth(adminKey));
    const second = result(await call('manager/auth', { grantType: 'refresh_token', refreshToken: first.refreshToken }));
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(second.tokenType, 'Bearer');
    assert.ok(second.refreshTokenExpiry >= first.refreshTokenExpiry);
    const listed = result(await call('user/list', { limit: 1 }, second.accessToken));
    assert.ok(Array.isArray(listed.items));
    const bad = await call('manager/auth', { grantType: 'refresh_token', refreshToken: 'tsr_nope' });
    const e = rpcError(bad, -32000, 'invalid_grant');
    assert.equal(e.data.status, 400);
  });

  test('a wrong secret is invalid_client with the REST detail and status', async () => {
    const res = await auth({ id: adminKey.id, secret: `${adminKey.secret.slice(0, -2)}xx` });
    const e = rpcError(res, -32000, 'invalid_client');
    assert.equal(e.data.status, 401);
    const rest = await server.request('POST', '/v1/token', {
      json: { grant_type: 'client_credentials', client_id: adminKey.id, client_secret: 'tsk_wrong' },
    });
    assert.equal(rest.body.code, 'invalid_client');
    assert.equal(e.message, rest.body.detail);
  });

  test('missing, unknown and wrongly typed params are -32602 naming each', async () => {
    let e = rpcError(await call('manager/auth', { grantType: 'api_key_credentials', apiKeyId: adminKey.id }), -32602, 'invalid_params');
    assert.deepEqual(fieldCodes(e), ['apiKeySecret:required']);
    e = rpcError(await call('manager/auth', { grantType: 'password' }), -32602);
    assert.deepEqual(fieldCodes(e), ['grantType:one_of']);
    e = rpcError(await call('manager/auth', {}), -32602);
    assert.deepEqual(fieldCodes(e), ['grantType:required']);
    e = rpcError(await call('manager/auth', { grantType: 'refresh_token', refreshToken: 7, client_id: 'x' }), -32602);
    assert.deepEqual(fieldCodes(e), ['client_id:unknown_field']);
    e = rpcError(await call('manager/auth', { grantType: 'refresh_token', refreshToken: 7 }), -32602);
    assert.deepEqual(fieldCodes(e), ['refreshToken:type']);
  });
});

describe('user methods', () => {
  test('create, get, update and delete a user with the access token', async () => {
    const email = uniqueEmail('rpc');
    const created = result(
      await call('user/create', { email, password: PASSWORD, full_name: 'Ada', tags: ['rpc'], data: { plan: 'free', n: 1 } }, admin),
    );
    assertUserShape(created);
    assert.equal(created.email, email);
    assert.deepEqual(created.data, { plan: 'free', n: 1 });
    assert.equal(created.active, true);

    const got = result(await call('user/get', { userId: created.id }, admin));
    assert.deepEqual(got, created);

    const updated = result(
      await call('user/update', { userId: created.id, full_name: 'Ada L.', data: { plan: 'pro', n: null }, active: false }, admin),
    );
    assertUserShape(updated);
    assert.equal(updated.full_name, 'Ada L.');
    assert.deepEqual(updated.data, { plan: 'pro' });
    assert.equal(updated.active, false);
    assert.deepEqual(result(await call('user/get', { userId: created.id }, admin)), updated);

    const deleted = await call('user/delete', { userId: created.id }, admin);
    assert.equal(result(deleted), null);
    const gone = rpcError(await call('user/get', { userId: created.id }, admin), -32000, 'user_not_found');
    assert.equal(gone.data.status, 404);
    rpcError(await call('user/delete', { userId: created.id }, admin), -32000, 'user_not_found');
  });

  test('user/list filters, sorts and pages with nextCursor', async () => {
    const tag = `t${unique()}`;
    const made = [];
    for (let n = 1; n <= 5; n += 1)
      made.push(result(await call('user/create', { email: uniqueEmail(`list${n}`), tags: [tag], data: { n } }, admin)));
    const filter = { tags: { contains: tag } };

    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const page = result(await call('user/list', { filter, sort: '-data.n', limit: 2, cursor }, admin));
      assert.deepEqual(Object.keys(page).sort(), ['items', 'nextCursor']);
      assert.ok(page.items.length <= 2);
      page.items.forEach(assertUserShape);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages += 1;
      assert.ok(pages <= 4, 'pagination ends');
    } while (cursor !== null);
    assert.deepEqual(
      seen.map((u) => u.data.n),
      [5, 4, 3, 2, 1],
    );
    assert.deepEqual(seen.map((u) => u.id).sort(), made.map((u) => u.id).sort());

    const some = result(await call('user/list', { filter: { tags: { contains: tag }, 'data.n': { gte: 3 } }, sort: 'data.n' }, admin));
    assert.deepEqual(
      some.items.map((u) => u.data.n),
      [3, 4, 5],
    );
    assert.equal(some.nextCursor, null);

    const bad = rpcError(await call('user/list', { filter: { nope: 1 } }, admin), -32000, 'invalid_filter');
    assert.equal(bad.data.status, 400);
    assert.deepEqual(fieldCodes(bad), ['nope:unknown_field']);
    const badSort = rpcError(await call('user/list', { sort: 'password' }, admin), -32000, 'invalid_filter');
    assert.deepEqual(fieldCodes(badSort), ['sort:unknown_field']);
    const range = rpcError(await call('user/list', { limit: 0 }, admin), -32000, 'validation_failed');
    assert.deepEqual(fieldCodes(range), ['limit:range']);
    rpcError(await call('user/list', { cursor: 'bm9wZQ' }, admin), -32000, 'invalid_cursor');
  });

  test('the same operation through REST and RPC gives the same user JSON', async () => {
    const viaRest = await server.request('POST', '/v1/users', {
      token: admin,
      json: { email: uniqueEmail('rest'), full_name: 'Rest', tags: ['a'], data: { x: { y: 1 } } },
    });
    assert.equal(viaRest.status, 201, viaRest.text);
    assert.deepEqual(result(await call('user/get', { userId: viaRest.body.id }, admin)), viaRest.body);

    const viaRpc = result(await call('user/create', { email: uniqueEmail('rpc'), full_name: 'Rpc', tags: ['b'], data: { x: [1] } }, admin));
    const restGet = await server.request('GET', `/v1/users/${viaRpc.id}`, { token: admin });
    assert.equal(restGet.status, 200);
    assert.deepEqual(restGet.body, viaRpc);

    const patchRest = await server.request('PATCH', `/v1/users/${viaRpc.id}`, { token: admin, json: { full_name: 'Both', tags: ['c'] } });
    assert.equal(patchRest.status, 200, patchRest.text);
    const patchRpc = result(await call('user/update', { userId: viaRest.body.id, full_name: 'Both', tags: ['c'] }, admin));
    const strip = ({ id, email, created_at, updated_at, data, ...rest }) => rest;
    assert.deepEqual(strip(patchRpc), strip(patchRest.body));

    const restList = await server.request('GET', `/v1/users?tags[contains]=c&sort=email`, { token: admin });
    const rpcList = result(await call('user/list', { filter: { tags: { contains: 'c' } }, sort: 'email' }, admin));
    assert.deepEqual(rpcList.items, restList.body.items);
    assert.equal(rpcList.nextCursor, restList.body.next_cursor);

    // The same failure: the REST problem's code, status and detail.
    const dupEmail = viaRpc.email;
    const restDup = await server.request('POST', '/v1/users', { token: admin, json: { email: dupEmail } });
    const rpcDup = rpcError(await call('user/create', { email: dupEmail }, admin), -32000);
    assert.equal(rpcDup.data.code, restDup.body.code);
    assert.equal(rpcDup.data.status, restDup.status);
    assert.equal(rpcDup.message, restDup.body.detail);
  });

  test('rule violations are validation_failed application errors naming each field', async () => {
    const e = rpcError(await call('user/create', { email: 'not-an-email', password: 'short' }, admin), -32000, 'validation_failed');
    assert.equal(e.data.status, 422);
    const codes = fieldCodes(e).map((c) => c.split(':')[0]);
    assert.ok(codes.includes('email') && codes.includes('password'), JSON.stringify(e.data.errors));
  });

  test('unknown, wrongly typed and missing params are -32602', async () => {
    let e = rpcError(await call('user/get', { userId: 5 }, admin), -32602, 'invalid_params');
    assert.deepEqual(fieldCodes(e), ['userId:type']);
    e = rpcError(await call('user/get', {}, admin), -32602);
    assert.deepEqual(fieldCodes(e), ['userId:required']);
    e = rpcError(await call('user/get', undefined, admin), -32602);
    assert.deepEqual(fieldCodes(e), ['userId:required']);
    e = rpcError(await call('user/create', { email: uniqueEmail(), nickname: 'x' }, admin), -32602);
    assert.deepEqual(fieldCodes(e), ['nickname:unknown_field']);
    e = rpcError(await call('user/create', { email: 5, active: 'yes' }, admin), -32602);
    assert.deepEqual(fieldCodes(e).sort(), ['active:type', 'email:type']);
    e = rpcError(await call('user/list', { limit: '10', filter: 'active' }, admin), -32602);
    assert.deepEqual(fieldCodes(e).sort(), ['filter:type', 'limit:type']);
    e = rpcError(await call('user/update', { full_name: 'x' }, admin), -32602);
    assert.deepEqual(fieldCodes(e), ['userId:required']);
  });

  test('a key without users:write gets forbidden naming the missing permission', async () => {
    const e = rpcError(await call('user/create', { email: uniqueEmail() }, reader), -32000, 'forbidden');
    assert.equal(e.data.status, 403);
    assert.equal(e.data.missing_permission, 'users:write');
    const rest = await server.request('POST', '/v1/users', { token: reader, json: { email: uniqueEmail() } });
    assertProblem(rest, 403, 'forbidden');
    assert.equal(e.message, rest.body.detail);
    const del = rpcError(await call('user/delete', { userId: '0190a000-0000-7000-8000-000000000000' }, reader), -32000, 'forbidden');
    assert.equal(del.data.missing_permission, 'users:delete');
    assert.ok(Array.isArray(result(await call('user/list', {}, reader)).items), 'users:read is enough to list');
  });

  test('authentication failures are application errors, not HTTP 401', async () => {
    let e = rpcError(await call('user/list', {}), -32000, 'unauthenticated');
    assert.equal(e.data.status, 401);
    e = rpcError(await call('user/list', {}, 'a.b.c'), -32000, 'invalid_token');
    assert.equal(e.data.status, 401);
    e = rpcError(await call('user/list', {}, 'tss_nope'), -32000);
    assert.equal(e.data.status, 401);
    // a user's session token is a credential as in REST, with only what the user's roles grant
    const { token } = await signUp(server);
    e = rpcError(await call('user/list', {}, token), -32000, 'forbidden');
    assert.equal(e.data.missing_permission, 'users:read');
  });
});

describe('envelope: single requests, batches, notifications', () => {
  test('string and number ids are echoed; HTTP 200 application/json', async () => {
    for (const id of ['abc', 42, 1.5, null]) {
      const res = await post({ jsonrpc: '2.0', method: 'user/list', params: { limit: 1 }, id }, { token: admin });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.id, id);
      assert.ok(Array.isArray(res.body.result.items));
    }
  });

  test('a batch answers an array of responses in request order, without the notifications', async () => {
    const email = uniqueEmail('batch');
    const notified = uniqueEmail('notified');
    const res = await post(
      [
        { jsonrpc: '2.0', method: 'user/create', params: { email }, id: 'c' },
        { jsonrpc: '2.0', method: 'user/create', params: { email: notified } },
        { jsonrpc: '2.0', method: 'user/get', params: { userId: '0190a000-0000-7000-8000-000000000000' }, id: 2 },
        { jsonrpc: '2.0', method: 'context/frobnicate', params: {}, id: 3 },
        { jsonrpc: '2.0', method: 'user/list', params: { filter: { email } }, id: 4 },
        { jsonrpc: '2.0', method: 'nope/nothing' },
      ],
      { token: admin },
    );
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body));
    assert.deepEqual(
      res.body.map((r) => r.id),
      ['c', 2, 3, 4],
    );
    assert.equal(res.body[0].result.email, email);
    rpcError(res.body[1], -32000, 'user_not_found');
    rpcError(res.body[2], -32601, 'method_not_found');
    assert.deepEqual(
      res.body[3].result.items.map((u) => u.id),
      [res.body[0].result.id],
      'a call sees what an earlier call of the batch made',
    );
    const wasNotified = result(await call('user/list', { filter: { email: notified } }, admin));
    assert.equal(wasNotified.items.length, 1, 'the notification was executed');
  });

  test('notifications are executed and answered with 204 and no body', async () => {
    const email = uniqueEmail('note');
    const one = await post({ jsonrpc: '2.0', method: 'user/create', params: { email } }, { token: admin });
    assert.equal(one.status, 204);
    assert.equal(one.text, '');
    const found = result(await call('user/list', { filter: { email } }, admin));
    assert.equal(found.items.length, 1);

    const batch = await post(
      [
        { jsonrpc: '2.0', method: 'user/delete', params: { userId: found.items[0].id } },
        { jsonrpc: '2.0', method: 'no/such/method' },
        { jsonrpc: '2.0', method: 'user/get', params: { bad: true } },
      ],
      { token: admin },
    );
    assert.equal(batch.status, 204);
    assert.equal(batch.text, '');
    assert.equal(result(await call('user/list', { filter: { email } }, admin)).items.length, 0, 'the delete ran');
  });

  test('a batch of 100 is served; 101 is an invalid request', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', method: 'x/y', id: i }));
    const ok = await post(hundred);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.length, 100);
    ok.body.forEach((r, i) => {
      assert.equal(r.id, i);
      rpcError(r, -32601);
    });
    const tooMany = await post([...hundred, { jsonrpc: '2.0', method: 'x/y', id: 100 }]);
    assert.equal(tooMany.status, 200);
    assert.ok(!Array.isArray(tooMany.body));
    assert.equal(tooMany.body.id, null);
    rpcError(tooMany.body, -32600, 'invalid_rpc_request');
  });
});

describe('protocol errors', () => {
  test('-32700 parse error for a body that is not JSON, with id null and HTTP 200', async () => {
    for (const raw of ['{"jsonrpc": "2.0", "method": "user/list", "id": 1', '[{"jsonrpc": "2.0"},', 'nope', '']) {
      const res = await post(undefined, { raw, token: admin });
      assert.equal(res.status, 200, `${JSON.stringify(raw)}: ${res.text}`);
      assert.equal(res.body.jsonrpc, '2.0');
      assert.equal(res.body.id, null);
      rpcError(res.body, -32700, 'malformed_json');
    }
  });

  test('a body that is not application/json is refused before JSON-RPC: 415 problem', async () => {
    const res = await post(undefined, { raw: '{"jsonrpc":"2.0","method":"user/list","id":1}', contentType: 'text/plain' });
    assertProblem(res, 415, 'unsupported_media_type');
  });

  test('-32600 invalid request for malformed shapes', async () => {
    const cases = [
      [1, null, []],
      ['text', null, []],
      [null, null, []],
      [{ jsonrpc: '1.0', method: 'user/list', id: 7 }, 7, ['jsonrpc:value']],
      [{ method: 'user/list', id: 8 }, 8, ['jsonrpc:required']],
      [{ jsonrpc: 2, method: 'user/list', id: 9 }, 9, ['jsonrpc:value']],
      [{ jsonrpc: '2.0', id: 10 }, 10, ['method:required']],
      [{ jsonrpc: '2.0', method: 5, id: 11 }, 11, ['method:type']],
      [{ jsonrpc: '2.0', method: 'user/list', params: [1, 2], id: 12 }, 12, ['params:type']],
      [{ jsonrpc: '2.0', method: 'user/list', params: 'x', id: 13 }, 13, ['params:type']],
      [{ jsonrpc: '2.0', method: 'user/list', params: null, id: 14 }, 14, ['params:type']],
      [{ jsonrpc: '2.0', method: 'user/list', id: { a: 1 } }, null, ['id:type']],
      [{ jsonrpc: '2.0', method: 'user/list', id: [1] }, null, ['id:type']],
      [{ jsonrpc: '2.0', method: 'user/list', id: true }, null, ['id:type']],
      [{ jsonrpc: '2.0', method: 'user/list', id: 15, extra: 1 }, 15, ['extra:unknown_field']],
      [{ jsonrpc: '2.0', method: 'user/list' , params: {}, id: 16, result: 1 }, 16, ['result:unknown_field']],
    ];
    for (const [body, id, fields] of cases) {
      const res = await post(body, { token: admin });
      assert.equal(res.status, 200, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.id, id, JSON.stringify(body));
      const e = rpcError(res.body, -32600, 'invalid_rpc_request');
      assert.deepEqual(fieldCodes(e), fields, JSON.stringify(body));
    }
  });

  test('-32600 for an empty batch (one response, not an array) and for each bad element of a batch', async () => {
    const empty = await post([]);
    assert.equal(empty.status, 200);
    assert.ok(!Array.isArray(empty.body));
    assert.equal(empty.body.id, null);
    rpcError(empty.body, -32600);

    const res = await post([1, { jsonrpc: '2.0', method: 'user/list', params: { limit: 1 }, id: 'ok' }, { foo: 'bar' }, []], {
      token: admin,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 4);
    rpcError(res.body[0], -32600);
    assert.equal(res.body[0].id, null);
    assert.equal(res.body[1].id, 'ok');
    assert.ok(Array.isArray(res.body[1].result.items));
    rpcError(res.body[2], -32600);
    rpcError(res.body[3], -32600, 'invalid_rpc_request');
  });

  test('-32601 for unknown methods', async () => {
    for (const method of [
      'context/frobnicate',
      'Context/create',
      'user/frobnicate',
      'User/get',
      '',
    ]) {
      const e = rpcError(await call(method, {}, admin), -32601, 'method_not_found');
      assert.equal(e.data.status, 404);
    }
  });

  test('application errors use -32000 with the REST code, status and detail', async () => {
    const e = rpcError(await call('user/get', { userId: 'not-a-uuid' }, admin), -32000);
    assert.equal(e.data.status, 404);
    assert.equal(e.data.code, 'user_not_found');
    const rest = await server.request('GET', '/v1/users/not-a-uuid', { token: admin });
    assert.equal(rest.body.code, e.data.code);
    assert.equal(rest.body.detail, e.message);
  });
});
