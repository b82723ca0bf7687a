// Avatars: PUT and DELETE /v1/me/avatar, GET /v1/users/{id}/avatar (public, cached by ETag), the type
// told from the bytes, the 2 MiB limit of this route, the stored images' life with their users, and the
// import of the files older versions kept under <data dir>/avatars.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { createDatabase, createProject, rawExchange, runCli, sql, startServer, usingPostgres } from '../support/server.mjs';
import { PASSWORD, assertProblem, assertUserShape, eventually, signUp } from '../support/api.mjs';

const MiB = 1024 * 1024;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// Signature-valid images: the server only reads the first bytes.
const png = (size = 64) => image(PNG_SIGNATURE, size);
const jpeg = (size = 64) => image([0xff, 0xd8, 0xff, 0xe0], size);
const webp = (size = 64) => {
  const b = image([...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 ')], size);
  b.writeUInt32LE(size - 8, 4);
  return b;
};
function image(signature, size) {
  const b = Buffer.alloc(size);
  Buffer.from(signature).copy(b);
  for (let i = signature.length; i < size; i++) b[i] = (i * 31) & 0xff;
  return b;
}

const VERSIONED_URL = (id) => new RegExp(`^/v1/users/${id}/avatar\\?v=([0-9a-f]{32})$`);

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const put = (token, body, headers = {}) => server.request('PUT', '/v1/me/avatar', { token, body, headers });
const remove = (token, srv = server) => srv.request('DELETE', '/v1/me/avatar', { token });

// GET (or HEAD) of an avatar as bytes (the shared helper decodes bodies as text).
async function fetchAvatar(srv, id, { headers = {}, method = 'GET' } = {}) {
  const res = await fetch(new URL(`/v1/users/${id}/avatar`, srv.url), { method, headers, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

// Where versions before migration 0011 kept a user's image.
function avatarFile(srv, id) {
  return path.join(srv.dataDir, 'avatars', id.slice(-2), id);
}

// Whether the server still keeps an avatar of the user: a row of the table avatars, so that every node
// of a deployment serves it (migration 0011); never a file in the data dir any more.
async function avatarStored(srv, id) {
  assert.ok(!fs.existsSync(path.join(srv.dataDir, 'avatars')), 'no avatar file in the data dir');
  const [{ n }] = await sql(srv, 'SELECT count(*) AS n FROM avatars WHERE user_id = $1', [id]);
  return n > 0;
}

describe('PUT /v1/me/avatar', () => {
  for (const [name, bytes, type] of [
    ['PNG', png(), 'image/png'],
    ['JPEG', jpeg(), 'image/jpeg'],
    ['WebP', webp(), 'image/webp'],
  ]) {
    test(`a ${name} image: 200 {user} with a versioned avatar_url, served as ${type}`, async () => {
      const { token, user } = await signUp(server);
      assert.equal(user.avatar_url, null);
      const res = await put(token, bytes, { 'content-type': 'application/octet-stream' });
      assert.equal(res.status, 200, res.text);
      assertUserShape(res.body);
      assert.equal(res.body.id, user.id);
      const version = VERSIONED_URL(user.id).exec(res.body.avatar_url)?.[1];
      assert.ok(version, `avatar_url ${res.body.avatar_url}`);
      assert.ok(res.body.updated_at > user.updated_at, 'updated_at moves forward');
      assert.equal((await server.request('GET', '/v1/me', { token })).body.avatar_url, res.body.avatar_url);

      const got = await fetchAvatar(server, user.id);
      assert.equal(got.status, 200);
      assert.deepEqual(got.bytes, bytes);
      assert.equal(got.headers.get('content-type'), type);
      assert.equal(got.headers.get('etag'), `"${version}"`);
      assert.equal(got.headers.get('cache-control'), 'public, max-age=3600');
      assert.equal(got.headers.get('x-content-type-options'), 'nosniff');

      assert.ok(await avatarStored(server, user.id));
      const [row] = await sql(server, 'SELECT content_type, version, bytes FROM avatars WHERE user_id = $1', [user.id]);
      assert.deepEqual({ ...row, bytes: Buffer.from(row.bytes) }, { content_type: type, version, bytes });
    });
  }

  test('the bytes decide the type, never Content-Type', async () => {
    const { token, user } = await signUp(server);
    const res = await put(token, png(), { 'content-type': 'image/jpeg' });
    assert.equal(res.status, 200, res.text);
    assert.equal((await fetchAvatar(server, user.id)).headers.get('content-type'), 'image/png');
    const text = await put(token, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { 'content-type': 'image/png' });
    assertProblem(text, 415, 'unsupported_media_type');
    assertProblem(await put(token, png().subarray(0, 7), { 'content-type': 'image/png' }), 415, 'unsupported_media_type');
    assertProblem(await put(token, Buffer.alloc(0)), 415, 'unsupported_media_type');
    const kept = await fetchAvatar(server, user.id);
    assert.deepEqual(kept.bytes, png(), 'a refused upload keeps the previous image');
  });

  test('a new image replaces the old one with a new version', async () => {
    const { token, user } = await signUp(server);
    const first = (await put(token, png())).body.avatar_url;
    const second = (await put(token, jpeg())).body.avatar_url;
    assert.notEqual(first, second);
    const got = await fetchAvatar(server, user.id);
    assert.deepEqual(got.bytes, jpeg());
    assert.equal(got.headers.get('etag'), `"${VERSIONED_URL(user.id).exec(second)[1]}"`);
    assert.equal((await put(token, jpeg())).body.avatar_url, second, 'the same bytes, the same version');
  });

  test('exactly 2 MiB is accepted (above the server-wide 1 MiB body limit); one byte more is 413', async () => {
    const { token, user } = await signUp(server);
    const res = await put(token, png(2 * MiB));
    assert.equal(res.status, 200, res.text);
    assert.equal((await fetchAvatar(server, user.id)).bytes.length, 2 * MiB);
    const big = await put(token, png(2 * MiB + 1));
    assertProblem(big, 413, 'payload_too_large');
    assert.equal((await fetchAvatar(server, user.id)).bytes.length, 2 * MiB, 'the previous image stays');
  });

  test('a declared Content-Length over 2 MiB is 413 before the body is sent', async () => {
    const { token } = await signUp(server);
    const head =
      `PUT /v1/me/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Length: ${2 * MiB + 1}\r\nExpect: 100-continue\r\n\r\n`;
    const { response } = await rawExchange(server.port, head, { timeoutMs: 5000 });
    assert.equal(response?.status, 413);
    assert.equal(response.json?.code, 'payload_too_large');
  });

  test('other routes keep the server-wide limit', async () => {
    const res = await server.request('PATCH', '/v1/me', { json: { data: { blob: 'x'.repeat(1100 * 1024) } } });
    assertProblem(res, 413, 'payload_too_large');
  });

  test('needs the user: 401 without a credential, 403 session_required for an API key', async () => {
    assertProblem(await put(undefined, png()), 401, 'unauthenticated');
    assertProblem(await remove(undefined), 401, 'unauthenticated');
    assertProblem(await put('tss_nope', png()), 401, 'invalid_token');
    const key = await cliKey(server, 'users:*');
    const apiToken = await accessToken(server, key);
    assertProblem(await put(apiToken, png()), 403, 'session_required');
  });

  test("nobody uploads for someone else: the user's path only answers GET", async () => {
    const victim = await signUp(server);
    const other = await signUp(server);
    const res = await server.request('PUT', `/v1/users/${victim.user.id}/avatar`, { token: other.token, body: png() });
    assertProblem(res, 405, 'method_not_allowed');
    assertProblem(
      await server.request('DELETE', `/v1/users/${victim.user.id}/avatar`, { token: other.token }),
      405,
      'method_not_allowed',
    );
    assert.equal((await fetchAvatar(server, victim.user.id)).status, 404);
  });
});

describe('GET /v1/users/{id}/avatar', () => {
  let owner;
  let etag;
  before(async () => {
    owner = await signUp(server);
    assert.equal((await put(owner.token, webp(300))).status, 200);
    etag = (await fetchAvatar(server, owner.user.id)).headers.get('etag');
  });

  test('If-None-Match with the ETag (or in a list, or weak, or *) is 304 without a body', async () => {
    for (const value of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
      const res = await fetchAvatar(server, owner.user.id, { headers: { 'if-none-match': value } });
      assert.equal(res.status, 304, value);
      assert.equal(res.bytes.length, 0);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
    }
    const stale = await fetchAvatar(server, owner.user.id, { headers: { 'if-none-match': '"0123"' } });
    assert.equal(stale.status, 200);
    assert.deepEqual(stale.bytes, webp(300));
  });

  test('HEAD has the headers and no body', async () => {
    const res = await fetchAvatar(server, owner.user.id, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/webp');
    assert.equal(res.headers.get('content-length'), '300');
    assert.equal(res.headers.get('etag'), etag);
  });

  test('404 not_found for a user without an avatar, an unknown id or one that is not a UUID', async () => {
    const plain = await signUp(server);
    for (const id of [plain.user.id, '01a21044-0000-7000-8000-000000000000', 'nope', '..%2F..%2Fetc%2Fpasswd']) {
      const res = await server.request('GET', `/v1/users/${id}/avatar`);
      assertProblem(res, 404, 'not_found');
    }
  });

  test("anyone, even a user of another project, fetches it; that user's upload changes only their own", async () => {
    const iso = await startServer();
    try {
      const owner2 = await signUp(iso);
      assert.equal((await iso.request('PUT', '/v1/me/avatar', { token: owner2.token, body: webp(300) })).status, 200);
      await createProject(iso.dataDir, 'second');
      // A running server learns of a project made by the CLI within seconds.
      const stranger = await eventually(
        async () => {
          const res = await iso.request('POST', '/v1/auth/signup', {
            json: { email: `s-${Date.now()}@example.com`, password: PASSWORD },
            headers: { 'x-tessera-project': 'second' },
          });
          return res.status === 201 && res.body;
        },
        { what: 'the server knows project second' },
      );
      const token = stranger.session.token;
      const seen = await fetch(new URL(`/v1/users/${owner2.user.id}/avatar`, iso.url), {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(seen.status, 200);
      assert.deepEqual(Buffer.from(await seen.arrayBuffer()), webp(300));

      const mine = await iso.request('PUT', '/v1/me/avatar', { token, body: png() });
      assert.equal(mine.status, 200, mine.text);
      assert.equal(mine.body.id, stranger.user.id);
      assert.deepEqual((await fetchAvatar(iso, stranger.user.id)).bytes, png());
      assert.deepEqual((await fetchAvatar(iso, owner2.user.id)).bytes, webp(300), "the owner's image is untouched");
    } finally {
      await iso.close();
    }
  });
});

describe('DELETE /v1/me/avatar and deleted users', () => {
  test('DELETE: 200 {user} with avatar_url null, then 404; again is fine', async () => {
    const { token, user } = await signUp(server);
    await put(token, png());
    const res = await remove(token);
    assert.equal(res.status, 200, res.text);
    assertUserShape(res.body);
    assert.equal(res.body.avatar_url, null);
    assert.equal((await server.request('GET', '/v1/me', { token })).body.avatar_url, null);
    assertProblem(await server.request('GET', `/v1/users/${user.id}/avatar`), 404, 'not_found');
    assert.ok(!(await avatarStored(server, user.id)), 'the stored avatar is removed');
    assert.equal((await remove(token)).status, 200);
  });

  test('a user who deletes themselves takes the avatar along', async () => {
    const { token, user } = await signUp(server);
    await put(token, png());
    assert.ok(await avatarStored(server, user.id));
    const res = await server.request('DELETE', '/v1/me', { token, json: { password: PASSWORD } });
    assert.equal(res.status, 204, res.text);
    assertProblem(await server.request('GET', `/v1/users/${user.id}/avatar`), 404, 'not_found');
    assert.ok(!(await avatarStored(server, user.id)), 'the stored avatar is removed');
  });

  test('a user deleted by an administrator takes the avatar along', async () => {
    const { token, user } = await signUp(server);
    await put(token, jpeg());
    const admin = await accessToken(server, await cliKey(server, 'users:*'));
    assert.equal((await server.request('DELETE', `/v1/users/${user.id}`, { token: admin })).status, 204);
    assertProblem(await server.request('GET', `/v1/users/${user.id}/avatar`), 404, 'not_found');
    assert.ok(!(await avatarStored(server, user.id)), 'the stored avatar is removed');
  });

  test('users removed by a bulk delete take their avatars along', async () => {
    const tag = `bulk-${Date.now()}`;
    const admin = await accessToken(server, await cliKey(server, 'users:*'));
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const { token, user } = await signUp(server);
      await put(token, png());
      const patched = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin, json: { tags: [tag] } });
      assert.equal(patched.status, 200, patched.text);
      ids.push(user.id);
    }
    const res = await server.request('POST', '/v1/users/bulk-delete', {
      token: admin,
      json: { where: { tags: { contains: tag } } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.matched, 2);
    for (const id of ids) assert.ok(!(await avatarStored(server, id)), 'the stored avatar is removed');
  });
});

describe('across restarts and with a public_url', () => {
  test('an avatar survives a restart with the same bytes and ETag', async () => {
    const srv = await startServer();
    try {
      const { token, user } = await signUp(srv);
      const url = (await srv.request('PUT', '/v1/me/avatar', { token, body: jpeg(5000) })).body.avatar_url;
      const before0 = await fetchAvatar(srv, user.id);
      await srv.restart();
      const after0 = await fetchAvatar(srv, user.id);
      assert.equal(after0.status, 200);
      assert.deepEqual(after0.bytes, jpeg(5000));
      assert.equal(after0.headers.get('etag'), before0.headers.get('etag'));
      assert.equal((await srv.request('GET', '/v1/me', { token })).body.avatar_url, url);
      const res = await fetchAvatar(srv, user.id, { headers: { 'if-none-match': before0.headers.get('etag') } });
      assert.equal(res.status, 304);
    } finally {
      await srv.close();
    }
  });

  test('with [server] public_url, avatar_url is absolute', async () => {
    const srv = await startServer({ env: { TESSERA_SERVER_PUBLIC_URL: 'https://id.example.test' } });
    try {
      const { token, user } = await signUp(srv);
      const res = await srv.request('PUT', '/v1/me/avatar', { token, body: png() });
      assert.equal(res.status, 200, res.text);
      assert.match(res.body.avatar_url, new RegExp(`^https://id\\.example\\.test/v1/users/${user.id}/avatar\\?v=[0-9a-f]{32}$`));
    } finally {
      await srv.close();
    }
  });
});

describe('two nodes on one PostgreSQL database', { skip: !usingPostgres && 'needs TESSERA_TEST_PG_DIR' }, () => {
  test('an avatar set through one node is served by the other, and removed for both', async () => {
    const env = { TESSERA_STORE_URL: await createDatabase(), TESSERA_SERVER_SECRET_KEY: randomBytes(32).toString('base64') };
    const a = await startServer({ env });
    let b;
    try {
      b = await startServer({ env });
      const { token, user } = await signUp(a);
      assert.equal((await b.request('GET', '/v1/me', { token })).body.avatar_url, null); // B caches the user
      const url = (await a.request('PUT', '/v1/me/avatar', { token, body: png(700) })).body.avatar_url;
      const got = await fetchAvatar(b, user.id);
      assert.equal(got.status, 200);
      assert.deepEqual(got.bytes, png(700));
      assert.equal(got.headers.get('etag'), `"${VERSIONED_URL(user.id).exec(url)[1]}"`);
      await eventually(async () => (await b.request('GET', '/v1/me', { token })).body.avatar_url === url, {
        what: "node B's cached user names the new avatar",
        timeoutMs: 1000,
        intervalMs: 50,
      });

      assert.equal((await remove(token, b)).status, 200);
      assertProblem(await a.request('GET', `/v1/users/${user.id}/avatar`), 404, 'not_found');
      for (const node of [a, b]) assert.ok(!fs.existsSync(path.join(node.dataDir, 'avatars')), 'no avatar files');
    } finally {
      await b?.close();
      await a.close();
    }
  });
});

describe('avatar files of an older version', () => {
  test('are moved into the database at start-up: images of users who have them imported, the rest deleted', async () => {
    const srv = await startServer();
    try {
      // Users as an older version left them: avatar_url set and the image in a file, not in the table.
      const owner = await signUp(srv);
      const url = (await srv.request('PUT', '/v1/me/avatar', { token: owner.token, body: png(500) })).body.avatar_url;
      const etag = (await fetchAvatar(srv, owner.user.id)).headers.get('etag');
      const removed = await signUp(srv); // removed their avatar: a file left by a crash was never served
      assert.equal((await srv.request('PUT', '/v1/me/avatar', { token: removed.token, body: jpeg() })).status, 200);
      assert.equal((await remove(removed.token, srv)).status, 200);
      const odd = await signUp(srv); // their file is not an image
      assert.equal((await srv.request('PUT', '/v1/me/avatar', { token: odd.token, body: webp() })).status, 200);
      await srv.stop();
      await sql(srv, 'DELETE FROM avatars');
      const unknown = '01a21044-0000-7000-8000-0000000000ab'; // a user deleted long ago
      const files = {
        owner: avatarFile(srv, owner.user.id),
        removed: avatarFile(srv, removed.user.id),
        unknown: avatarFile(srv, unknown),
        partial: `${avatarFile(srv, owner.user.id)}.tmp-0123456789abcdef`, // a write a crash interrupted
        odd: avatarFile(srv, odd.user.id),
      };
      const contents = { owner: png(500), removed: jpeg(), unknown: png(), partial: png(100), odd: Buffer.from('<html>') };
      for (const [name, file] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, contents[name]);
      }

      await srv.start();
      const got = await fetchAvatar(srv, owner.user.id);
      assert.equal(got.status, 200);
      assert.deepEqual(got.bytes, png(500));
      assert.equal(got.headers.get('content-type'), 'image/png');
      assert.equal(got.headers.get('etag'), etag, 'the same version as before');
      assert.equal((await srv.request('GET', '/v1/me', { token: owner.token })).body.avatar_url, url);
      assert.equal((await fetchAvatar(srv, owner.user.id, { headers: { 'if-none-match': etag } })).status, 304);
      for (const id of [removed.user.id, odd.user.id, unknown]) {
        assertProblem(await srv.request('GET', `/v1/users/${id}/avatar`), 404, 'not_found');
      }
      for (const name of ['owner', 'removed', 'unknown', 'partial']) assert.ok(!fs.existsSync(files[name]), `${name}: file deleted`);
      assert.ok(fs.existsSync(files.odd), 'a file that is not an image stays, for an operator to look at');
      const rows = await sql(srv, 'SELECT user_id, content_type FROM avatars');
      assert.deepEqual(rows, [{ user_id: owner.user.id, content_type: 'image/png' }]);
      const imported = srv.logs().filter((e) => e.msg === 'avatar files imported');
      assert.equal(imported.length, 1, JSON.stringify(imported));
      assert.deepEqual([imported[0].count, imported[0].discarded, imported[0].skipped], [1, 3, 1]);
      assert.ok(srv.logs().some((e) => e.msg.startsWith('avatar file not imported') && e.path === files.odd));

      // Once the odd file is gone, the next start leaves no avatars directory at all.
      fs.rmSync(files.odd);
      await srv.restart();
      assert.ok(!(await avatarStored(srv, odd.user.id)));
      assert.ok(await avatarStored(srv, owner.user.id));
      assert.deepEqual((await fetchAvatar(srv, owner.user.id)).bytes, png(500));
      assert.equal(srv.logs().filter((e) => e.msg === 'avatar files imported').length, 1, 'nothing to import: no log line');
    } finally {
      await srv.close();
    }
  });
});

// ---- helpers ---------------------------------------------------------------------------------------

async function cliKey(srv, permissions) {
  const r = await runCli(['apikey', 'create', '--data-dir', srv.dataDir, '--project', 'default', '--permissions', permissions, '--name', 't']);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

async function accessToken(srv, key) {
  const res = await srv.request('POST', '/v1/token', {
    json: { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}
