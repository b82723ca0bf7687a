// The database behind a test server, on either backend (docs/testing.md, "PostgreSQL").
//
// On SQLite (the default) a server's store is <data dir>/tessera.db. When $TESSERA_TEST_PG_DIR names a
// cluster started by tests/support/postgres.sh, every data dir gets its own fresh PostgreSQL database
// instead (storeUrlFor), which lives as long as the data dir: startServer() and runCli() pass it to the
// binary as TESSERA_STORE_URL.
//
//   import { sql, storeContents } from '../support/server.mjs';   // re-exported there
//   const [row] = await sql(server, 'SELECT password_hash FROM users WHERE id = $1', [id]);
//
// sql() returns rows as objects, alike on both backends where the types allow: integers as numbers
// (BigInt past 2^53), BLOB / BYTEA as Buffer, JSON columns (TEXT on SQLite, JSONB on PostgreSQL) as
// their text, NULL as null. Booleans differ: 0/1 on SQLite, false/true on PostgreSQL (compare Boolean(v)).
// Parameters are written $1, $2...; on SQLite they are inlined as literals (the sqlite3 CLI binds none).

import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const PG_DIR = process.env.TESSERA_TEST_PG_DIR || '';
const PG_BIN = process.env.TESSERA_TEST_PG_BIN || '/usr/lib/postgresql/15/bin';
const KEEP = process.env.TESSERA_E2E_KEEP === '1';
const QUERY_TIMEOUT_MS = 10_000;

// True when the servers of this run store their data in PostgreSQL.
export const usingPostgres = PG_DIR !== '';

let cluster;
function clusterUrl() {
  if (!usingPostgres) throw new Error('no PostgreSQL cluster: TESSERA_TEST_PG_DIR is not set');
  if (cluster === undefined) {
    const file = path.join(PG_DIR, 'url');
    try {
      cluster = fs.readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new Error(`cannot read ${file} (start the cluster with tests/support/postgres.sh start ${PG_DIR}): ${e.message}`);
    }
  }
  return cluster;
}

function databaseUrl(name) {
  const url = new URL(clusterUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

// Databases made here and not dropped yet: dropped when the process exits (unless TESSERA_E2E_KEEP=1).
const liveDatabases = new Set();
let exitHookInstalled = false;

// Synchronous (an exit handler cannot wait for a client): psql drops what is left. WITH (FORCE) ends the
// sessions of servers that were killed but whose connections the cluster has not seen close yet.
export function dropDatabasesNow() {
  if (KEEP || liveDatabases.size === 0) return;
  const statements = [...liveDatabases].flatMap((name) => ['-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
  liveDatabases.clear();
  try {
    execFileSync(path.join(PG_BIN, 'psql'), ['-qAtX', databaseUrl('postgres'), ...statements], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    // best effort: postgres.sh stop removes the whole cluster
  }
}

async function pgClient(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: QUERY_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    types: { getTypeParser: typeParser(pg.types) },
  });
  await client.connect();
  return client;
}

// BIGINT (timestamps, counts) as numbers and JSON as text, like the sqlite3 CLI gives them.
function typeParser(types) {
  const INT8 = 20;
  const JSON_TYPES = new Set([114, 3802]);
  const int8 = (text) => {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  };
  return (oid, format) => {
    if (format !== 'binary' && oid === INT8) return int8;
    if (format !== 'binary' && JSON_TYPES.has(oid)) return (text) => text;
    return types.getTypeParser(oid, format);
  };
}

async function onPostgres(url, fn) {
  const client = await pgClient(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// A fresh, empty database of the cluster; returns its URL. Dropped at process exit, or by dropDatabase().
export async function createDatabase() {
  const name = `t_${randomBytes(8).toString('hex')}`;
  if (!exitHookInstalled) {
    // Installed late, so that it runs after the exit handler of server.mjs has killed the servers.
    process.on('exit', dropDatabasesNow);
    exitHookInstalled = true;
  }
  await onPostgres(databaseUrl('postgres'), (c) => c.query(`CREATE DATABASE ${name}`));
  liveDatabases.add(name);
  return databaseUrl(name);
}

export async function dropDatabase(url) {
  const name = new URL(url).pathname.slice(1);
  if (KEEP || !liveDatabases.has(name)) return;
  liveDatabases.delete(name);
  await onPostgres(databaseUrl('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

// The database of a data dir, made at the first use; a promise per dir, so concurrent users share one.
const storeOfDir = new Map();

export function storeUrlFor(dataDir) {
  const key = path.resolve(dataDir);
  if (!storeOfDir.has(key)) {
    const made = createDatabase();
    made.catch(() => storeOfDir.delete(key));
    storeOfDir.set(key, made);
  }
  return storeOfDir.get(key);
}

// The data dir is removed: its database goes with it.
export async function forgetStoreOf(dataDir) {
  const key = path.resolve(dataDir);
  const made = storeOfDir.get(key);
  if (!made) return;
  storeOfDir.delete(key);
  await dropDatabase(await made);
}

// Where a target's data is: { url } (PostgreSQL) or { file } (SQLite). The target is a server (its
// `store`), a postgres:// URL, or a data dir.
async function locate(target) {
  if (target && typeof target === 'object' && target.store) return target.store;
  if (typeof target !== 'string') throw new TypeError('sql(): give a server, a data dir or a postgres:// URL');
  if (/^postgres(ql)?:\/\//.test(target)) return { url: target };
  if (usingPostgres) {
    const made = storeOfDir.get(path.resolve(target));
    if (!made) throw new Error(`no database was made for the data dir ${target}`);
    return { url: await made };
  }
  return { file: path.join(target, 'tessera.db') };
}

// Runs one statement on the target's store; resolves its rows as objects (see the top of this file).
export async function sql(target, text, params = []) {
  const store = await locate(target);
  if (store.url) return onPostgres(store.url, async (c) => (await c.query(text, params)).rows);
  return sqliteQuery(store.file, inlineParams(text, params));
}

// ---- SQLite through the sqlite3 CLI -----------------------------------------------------------------------

function sqliteQuery(file, text) {
  // Without -readonly a missing file would be created: an empty database would hide a wrong path.
  if (!fs.existsSync(file)) return Promise.reject(new Error(`no SQLite database at ${file}`));
  return new Promise((resolve, reject) => {
    execFile(
      'sqlite3',
      ['-bail', '-header', '-quote', '-cmd', '.timeout 5000', file, text],
      { timeout: QUERY_TIMEOUT_MS, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`sqlite3 ${file}: ${stderr.trim() || error.message}\n  ${text}`));
        else resolve(rowsFromQuoted(stdout));
      },
    );
  });
}

// SQL literal of a parameter value.
function literal(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `X'${Buffer.from(value).toString('hex')}'`;
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${s.replaceAll("'", "''")}'`;
}

// Replaces $1, $2... outside quoted strings and identifiers with the literals of `params`.
function inlineParams(text, params) {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      for (;;) {
        j = text.indexOf(ch, j);
        if (j < 0) throw new Error(`unterminated ${ch} in: ${text}`);
        if (text[j + 1] === ch) j += 2;
        else break;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = ch === '$' ? /^\$(\d+)/.exec(text.slice(i)) : null;
    if (m) {
      const n = Number(m[1]);
      if (n < 1 || n > params.length) throw new RangeError(`$${n} has no parameter (${params.length} given)`);
      out += literal(params[n - 1]);
      i += m[0].length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

// Parses the CLI's `-header -quote` output: lines of SQL literals ('text' with '' for ', X'hex', NULL,
// numbers) separated by commas; a text may span lines. The first line names the columns.
function rowsFromQuoted(output) {
  const lines = [];
  let row = [];
  let i = 0;
  const n = output.length;
  while (i < n) {
    const ch = output[i];
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        const k = output.indexOf("'", j);
        if (k < 0) throw new Error(`unterminated text in sqlite3 output: ${output}`);
        value += output.slice(j, k);
        if (output[k + 1] === "'") {
          value += "'";
          j = k + 2;
        } else {
          j = k + 1;
          break;
        }
      }
      row.push(value);
      i = j;
    } else if ((ch === 'X' || ch === 'x') && output[i + 1] === "'") {
      const k = output.indexOf("'", i + 2);
      row.push(Buffer.from(output.slice(i + 2, k), 'hex'));
      i = k + 1;
    } else {
      let k = i;
      while (k < n && output[k] !== ',' && output[k] !== '\n') k++;
      const token = output.slice(i, k).trim();
      row.push(token === 'NULL' ? null : number(token));
      i = k;
    }
    if (output[i] === ',') {
      i += 1;
    } else {
      lines.push(row);
      row = [];
      i += 1; // the newline (or past the end)
    }
  }
  if (lines.length === 0) return [];
  const [names, ...rows] = lines;
  return rows.map((values) => Object.fromEntries(names.map((name, c) => [name, values[c]])));
}

function number(token) {
  if (/^-?\d+$/.test(token)) {
    const v = Number(token);
    return Number.isSafeInteger(v) ? v : BigInt(token);
  }
  const v = Number(token);
  if (Number.isNaN(v)) throw new Error(`unexpected token in sqlite3 output: ${token}`);
  return v;
}

// ---- everything a store holds, as bytes ------------------------------------------------------------------

// For "this secret is stored nowhere in clear" checks. SQLite: the bytes of the database file with its
// WAL and journal (pages of deleted rows included). PostgreSQL: pg_dump --data-only of the database,
// followed by the decoded bytes of every BYTEA value (which the dump shows in hex), so that a secret kept
// in a BYTEA column is found in clear as on SQLite.
export async function storeContents(target) {
  const store = await locate(target);
  if (store.file) {
    if (!fs.existsSync(store.file)) throw new Error(`no SQLite database at ${store.file}`);
    const files = [store.file, `${store.file}-wal`, `${store.file}-journal`].filter((f) => fs.existsSync(f));
    return Buffer.concat(files.map((f) => fs.readFileSync(f)));
  }
  const dump = await new Promise((resolve, reject) => {
    execFile(
      path.join(PG_BIN, 'pg_dump'),
      ['--data-only', '--no-owner', '--no-privileges', '--dbname', store.url],
      { timeout: 30_000, maxBuffer: 256 << 20, encoding: 'buffer' },
      (error, stdout, stderr) => (error ? reject(new Error(`pg_dump: ${stderr.toString().trim() || error.message}`)) : resolve(stdout)),
    );
  });
  const byteas = [...dump.toString('latin1').matchAll(/\\x((?:[0-9a-f]{2})+)/g)].map((m) => Buffer.from(m[1], 'hex'));
  return Buffer.concat([dump, ...byteas]);
}
