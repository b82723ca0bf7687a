// Configuration: a tessera.toml given with --config, TESSERA_* environment variables over it,
// command-line flags over both, and start-up refusals that name the offending key.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDatabase, makeTempDir, removeTempDir, runCli, sql, startServer, usingPostgres } from '../support/server.mjs';
import { cookieFrom, signUp } from '../support/api.mjs';

const EXAMPLE_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tessera.example.toml');

const servers = [];
const dirs = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) await removeTempDir(d);
});

async function tempDir() {
  const d = await makeTempDir('tessera-e2e-config-');
  dirs.push(d);
  return d;
}

async function writeConfig(text) {
  const dir = await tempDir();
  const file = path.join(dir, 'tessera.toml');
  await fsp.writeFile(file, text);
  return file;
}

async function start(options) {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

// `tessera serve` with a configuration that must be refused: returns { code, stderr } (bounded).
async function serveExpectingRefusal({ config, env = {} }) {
  const dataDir = await tempDir();
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir];
  if (config) args.push('--config', config);
  const r = await runCli(args, { env, timeoutMs: 10_000 });
  return r;
}

function maxAge(res) {
  const c = cookieFrom(res.setCookies, 'tessera_session');
  assert.ok(c, `Set-Cookie: ${JSON.stringify(res.setCookies)}`);
  const m = /Max-Age=(\d+)/i.exec(c.attributes);
  assert.ok(m, c.attributes);
  return Number(m[1]);
}

function idleGapMs(session) {
  return Date.parse(session.expires_at) - Date.parse(session.idle_expires_at);
}

const FILE = `
[session]
lifetime = "1h"
idle_timeout = "15m"

[log]
requests = true
`;

describe('sources of configuration', () => {
  test('a file passed with --config sets keys', async () => {
    const config = await writeConfig(FILE);
    // Without the suite's TESSERA_LOG_REQUESTS=false, so that the file decides.
    const server = await start({ args: ['--config', config], env: { TESSERA_LOG_REQUESTS: undefined } });
    const { res, session } = await signUp(server);
    assert.equal(maxAge(res), 3600, 'session.lifetime = 1h');
    assert.equal(idleGapMs(session), 45 * 60 * 1000, 'session.idle_timeout = 15m');
    await server.request('GET', '/healthz');
    const requestLines = server.logs().filter((l) => l.msg === 'request');
    assert.ok(requestLines.length >= 1, 'log.requests = true writes request lines');
    assert.ok(requestLines.every((l) => typeof l.request_id === 'string' && l.request_id.length > 0));
  });

  test('TESSERA_* environment variables override the file', async () => {
    const config = await writeConfig(FILE);
    const server = await start({
      args: ['--config', config],
      env: { TESSERA_SESSION_LIFETIME: '2h', TESSERA_LOG_REQUESTS: 'false' },
    });
    const { res, session } = await signUp(server);
    assert.equal(maxAge(res), 7200, 'the environment wins for session.lifetime');
    assert.equal(idleGapMs(session), (120 - 15) * 60 * 1000, 'the file still sets session.idle_timeout');
    await server.request('GET', '/healthz');
    assert.equal(server.logs().filter((l) => l.msg === 'request').length, 0, 'TESSERA_LOG_REQUESTS=false wins');
  });

  test('command-line flags override the environment and the file', async () => {
    const elsewhere = await tempDir();
    const config = await writeConfig(`
[server]
listen = "127.0.0.1:1"

[store]
data_dir = "${elsewhere.replaceAll('\\', '\\\\')}"
`);
    // --listen 127.0.0.1:0 and --data-dir are always passed by startServer.
    const server = await start({ args: ['--config', config], env: { TESSERA_SERVER_LISTEN: '127.0.0.1:2' } });
    assert.notEqual(server.port, 1);
    assert.notEqual(server.port, 2);
    assert.ok(server.port > 0);
    // What the server keeps in its data dir: the server secret key, and on SQLite the database.
    const kept = usingPostgres ? ['secret.key'] : ['secret.key', 'tessera.db'];
    for (const f of kept) {
      assert.ok(fs.existsSync(path.join(server.dataDir, f)), `${f} is in --data-dir`);
      assert.ok(!fs.existsSync(path.join(elsewhere, f)), `${f} is not in the file’s data_dir`);
    }
  });

  test('the documented example configuration is valid', async () => {
    const server = await start({ args: ['--config', EXAMPLE_CONFIG] });
    assert.equal((await server.request('GET', '/healthz')).status, 200);
    const { res, session } = await signUp(server);
    assert.equal(maxAge(res), 30 * 86400, 'lifetime 30d');
    assert.equal(idleGapMs(session), (30 * 24 - 2) * 3600 * 1000, 'idle timeout 2h');
  });
});

describe('the store', { skip: !usingPostgres && 'a PostgreSQL store needs TESSERA_TEST_PG_DIR' }, () => {
  test('[store] url in the file selects the PostgreSQL database; TESSERA_STORE_URL overrides it', async () => {
    const fromFile = await createDatabase();
    const fromEnv = await createDatabase();
    const config = await writeConfig(`[store]\nurl = "${fromFile}"\n`);
    const userIn = async (url, id) => (await sql(url, 'SELECT id FROM users WHERE id = $1', [id])).length === 1;

    // No TESSERA_STORE_URL at all (the helpers would give the data dir a database of its own).
    const byFile = await start({ args: ['--config', config], env: { TESSERA_STORE_URL: undefined } });
    const first = (await signUp(byFile)).user;
    assert.ok(await userIn(fromFile, first.id), 'the user is in the database of [store] url');
    assert.ok(!fs.existsSync(path.join(byFile.dataDir, 'tessera.db')), 'no SQLite file in the data dir');

    const byEnv = await start({ args: ['--config', config], env: { TESSERA_STORE_URL: fromEnv } });
    const second = (await signUp(byEnv)).user;
    assert.ok(await userIn(fromEnv, second.id), 'the environment wins');
    assert.ok(!(await userIn(fromFile, second.id)), 'not in the file’s database');
  });
});

describe('refused configurations (serve exits non-zero naming the key)', () => {
  test('an unknown key in the file', async () => {
    const config = await writeConfig('[server]\nlisten = "127.0.0.1:0"\nbogus_key = 1\n');
    const r = await serveExpectingRefusal({ config });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /server\.bogus_key/);
  });

  test('a secret in the file (the SMTP password): refused, naming the environment variable', async () => {
    const config = await writeConfig('[mail]\nsmtp_password = "hunter2"\n');
    const r = await serveExpectingRefusal({ config });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /mail\.smtp_password is a secret/);
    assert.match(r.stderr, /TESSERA_MAIL_SMTP_PASSWORD/);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  test('an unreadable smtp_password_file', async () => {
    const config = await writeConfig('[mail]\nsmtp_password_file = "/nonexistent/tessera-password"\n');
    const r = await serveExpectingRefusal({ config });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /mail\.smtp_password_file/);
  });

  test('an unknown section', async () => {
    const config = await writeConfig('[nonsense]\nkey = "x"\n');
    const r = await serveExpectingRefusal({ config });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nonsense/);
  });

  test('a bad duration in the file', async () => {
    const config = await writeConfig('[session]\nidle_timeout = "soon"\n');
    const r = await serveExpectingRefusal({ config });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /session\.idle_timeout/);
    assert.match(r.stderr, /soon/);
  });

  test('a duration without a unit in the file', async () => {
    const config = await writeConfig('[server]\nread_timeout = 30\n');
    const r = await serveExpectingRefusal({ config });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /server\.read_timeout/);
  });

  test('a bad duration in the environment', async () => {
    const r = await serveExpectingRefusal({ env: { TESSERA_SESSION_IDLE_TIMEOUT: '10 minutes' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TESSERA_SESSION_IDLE_TIMEOUT/);
  });

  test('a bad duration in the environment is refused even when the file is fine', async () => {
    const config = await writeConfig(FILE);
    const r = await serveExpectingRefusal({ config, env: { TESSERA_SESSION_LIFETIME: 'forever' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TESSERA_SESSION_LIFETIME/);
  });

  test('a bad size, number, boolean or choice', async () => {
    const cases = [
      ['[server]\nbody_limit = "lots"\n', /server\.body_limit/],
      ['[server]\nthreads = "many"\n', /server\.threads/],
      ['[log]\nrequests = "yes"\n', /log\.requests/],
      ['[store]\nsynchronous = "sometimes"\n', /store\.synchronous/],
      ['[log]\nlevel = "verbose"\n', /log\.level/],
    ];
    for (const [text, pattern] of cases) {
      const r = await serveExpectingRefusal({ config: await writeConfig(text) });
      assert.notEqual(r.code, 0, text);
      assert.match(r.stderr, pattern, text);
    }
    const env = await serveExpectingRefusal({ env: { TESSERA_PASSWORD_WORKERS: '-1' } });
    assert.notEqual(env.code, 0);
    assert.match(env.stderr, /TESSERA_PASSWORD_WORKERS/);
  });

  test('a missing file or a TOML syntax error', async () => {
    const missing = await serveExpectingRefusal({ config: path.join(await tempDir(), 'absent.toml') });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /absent\.toml/);
    const broken = await serveExpectingRefusal({ config: await writeConfig('[server\nlisten = \n') });
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /tessera\.toml/);
  });
});
