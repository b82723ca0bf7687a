// Support for the end-to-end tests: start the real tessera binary on a free port with its own data
// directory, talk HTTP to it, stop / kill / restart it, and run CLI commands.
//
//   import { startServer, runCli } from '../support/server.mjs';
//   const server = await startServer({ env: { TESSERA_SESSION_IDLE_TIMEOUT: '2s' } });
//   const res = await server.request('POST', '/v1/auth/signup', { json: { email, password } });
//   await server.close();   // in an after() hook: stops the process and removes the data dir
//
// The binary comes from $TESSERA_BIN (set by CTest), else build/tessera of this checkout.
// Set TESSERA_E2E_KEEP=1 to keep data directories (and their server.log) after the tests.
//
// With $TESSERA_TEST_PG_DIR (a cluster of tests/support/postgres.sh, as CTest's e2e_pg.* runs set it),
// each data dir gets its own fresh PostgreSQL database (store.mjs), passed as TESSERA_STORE_URL to every
// server and CLI command on that data dir unless their env names TESSERA_STORE_URL themselves; like the
// data dir, it survives restarts and goes when the data dir is removed.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { dropDatabasesNow, forgetStoreOf, storeUrlFor, usingPostgres } from './store.mjs';

export { createDatabase, sql, storeContents, usingPostgres } from './store.mjs';

export const BIN =
  process.env.TESSERA_BIN || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/tessera');

// Cheap Argon2id parameters so that signing up and logging in take milliseconds; quiet request logs.
export const FAST_ENV = Object.freeze({
  TESSERA_PASSWORD_MEMORY_KIB: '8192',
  TESSERA_PASSWORD_ITERATIONS: '1',
  TESSERA_LOG_REQUESTS: 'false',
});

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000; // above the server's default 10 s shutdown grace
const REQUEST_TIMEOUT_MS = 20_000;
const KEEP = process.env.TESSERA_E2E_KEEP === '1';

// Every process and temp dir made here, so that nothing outlives the test file even if an after()
// hook never runs (a failed before(), an interrupted run).
const live = new Set();
const ownedDirs = new Set();
function cleanUpNow() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  if (!KEEP) {
    for (const dir of ownedDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  }
  ownedDirs.clear();
  dropDatabasesNow();
}
process.on('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    cleanUpNow();
    process.kill(process.pid, signal);
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A new directory under the system temp dir, removed when the test process exits (unless
// TESSERA_E2E_KEEP=1); remove it earlier with removeTempDir().
export async function makeTempDir(prefix = 'tessera-e2e-') {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  ownedDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir) {
  if (KEEP) return;
  await fsp.rm(dir, { recursive: true, force: true });
  ownedDirs.delete(dir);
  if (usingPostgres) await forgetStoreOf(dir);
}

// The TESSERA_STORE_URL a server or CLI command on `dataDir` gets: undefined on SQLite, or when `env`
// names the store itself.
async function defaultStoreUrl(dataDir, env) {
  if (!usingPostgres || 'TESSERA_STORE_URL' in env || !dataDir) return undefined;
  return storeUrlFor(dataDir);
}

// The environment of a child: ours without any TESSERA_* setting (so that the developer's shell cannot
// change what a test sees), then `defaults`, then `env`. A value of undefined or null removes a key.
function childEnv(defaults, env) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) out[k] = v;
  for (const [k, v] of Object.entries({ ...defaults, ...env })) {
    if (v === undefined || v === null) delete out[k];
    else out[k] = String(v);
  }
  return out;
}

function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

// Parsed JSON log lines of a log file (non-JSON lines are skipped).
export function parseLogLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not a log line
    }
  }
  return out;
}

// Sends an HTTP request with fetch and reads the whole answer.
// Returns { status, headers (a Headers), body (parsed JSON for JSON media types, else the text), text,
// setCookies (array of Set-Cookie values) }.
export async function httpRequest(baseUrl, method, urlPath, options = {}) {
  const { json, headers = {}, token, body, contentType, cookie, timeoutMs = REQUEST_TIMEOUT_MS } = options;
  const h = new Headers(headers);
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    if (!h.has('content-type')) h.set('content-type', contentType ?? 'application/json');
  } else if (contentType !== undefined) {
    h.set('content-type', contentType);
  }
  if (token !== undefined) h.set('authorization', `Bearer ${token}`);
  if (cookie !== undefined) h.set('cookie', cookie);
  const res = await fetch(new URL(urlPath, baseUrl), {
    method,
    headers: h,
    body: payload,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') || '';
  let parsed = text;
  if (/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type) && text.length > 0) parsed = JSON.parse(text);
  return {
    status: res.status,
    headers: res.headers,
    body: parsed,
    text,
    setCookies: res.headers.getSetCookie(),
  };
}

// A running (or stopped) tessera server. Create it with startServer().
export class TesseraServer {
  constructor({ env, args, dataDir, ownsDataDir, fastDefaults, storeUrl }) {
    this.env = env;
    this.storeUrl = storeUrl; // the data dir's PostgreSQL database, kept across restarts
    this.args = args;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.fastDefaults = fastDefaults;
    this.logPath = path.join(dataDir, 'server.log');
    this.child = null;
    this.url = null;
    this.address = null;
    this.port = null;
    this.exitCode = null;
    this.exitSignal = null;
  }

  get running() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid() {
    return this.child?.pid;
  }

  // Where the data is, for sql() and storeContents(): { url } (PostgreSQL) or { file } (SQLite).
  get store() {
    const url = 'TESSERA_STORE_URL' in this.env ? this.env.TESSERA_STORE_URL : this.storeUrl;
    return url ? { url } : { file: path.join(this.dataDir, 'tessera.db') };
  }

  async start() {
    if (this.running) throw new Error('tessera is already running');
    const logOffset = fs.existsSync(this.logPath) ? fs.statSync(this.logPath).size : 0;
    const logFd = fs.openSync(this.logPath, 'a');
    let child;
    try {
      child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir, ...this.args], {
        env: childEnv(this.fastDefaults ? FAST_ENV : { TESSERA_LOG_REQUESTS: 'false' }, { TESSERA_STORE_URL: this.storeUrl, ...this.env }),
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      fs.closeSync(logFd);
    }
    this.child = child;
    this.exitCode = null;
    this.exitSignal = null;
    live.add(child);
    child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      live.delete(child);
    });
    let spawnError = null;
    child.on('error', (e) => {
      spawnError = e;
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const line = this.logEntriesSince(logOffset).find((e) => e.msg === 'listening' && e.address);
      if (line) {
        this.address = line.address;
        this.port = Number(line.address.slice(line.address.lastIndexOf(':') + 1));
        this.url = `http://${line.address}`;
        return this;
      }
      if (spawnError) throw new Error(`cannot start ${BIN}: ${spawnError.message}`);
      if (!this.running && child.exitCode !== null) {
        throw new Error(`tessera exited with ${child.exitCode} before listening:\n${this.logSince(logOffset)}`);
      }
      if (child.signalCode !== null) {
        throw new Error(`tessera died of ${child.signalCode} before listening:\n${this.logSince(logOffset)}`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
        throw new Error(`tessera did not log "listening" within ${START_TIMEOUT_MS} ms:\n${this.logSince(logOffset)}`);
      }
      await sleep(20);
    }
  }

  logSince(offset = 0) {
    try {
      const buf = fs.readFileSync(this.logPath);
      return buf.subarray(offset).toString('utf8');
    } catch {
      return '';
    }
  }

  logEntriesSince(offset = 0) {
    return parseLogLines(this.logSince(offset));
  }

  // Every JSON log line the server wrote into its data dir so far (all runs).
  logs() {
    return this.logEntriesSince(0);
  }

  request(method, urlPath, options = {}) {
    if (!this.url) throw new Error('tessera has not been started');
    return httpRequest(this.url, method, urlPath, options);
  }

  // SIGTERM, then waits for the exit (bounded). Returns the exit code (null if a signal ended it).
  async stop({ timeoutMs = STOP_TIMEOUT_MS } = {}) {
    const child = this.child;
    if (!child) return this.exitCode;
    if (this.running) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, timeoutMs))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
        throw new Error(`tessera did not exit within ${timeoutMs} ms of SIGTERM`);
      }
    }
    return child.exitCode;
  }

  // Waits (bounded) for the process to end by itself; returns its exit code.
  async waitForExit(timeoutMs = STOP_TIMEOUT_MS) {
    const child = this.child;
    if (!child) return this.exitCode;
    if (!(await waitForExit(child, timeoutMs))) throw new Error(`tessera did not exit within ${timeoutMs} ms`);
    return child.exitCode;
  }

  // SIGKILL, as a crash: no chance to flush or clean up.
  async kill() {
    const child = this.child;
    if (!child) return;
    if (this.running) {
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
    }
  }

  // Starts the binary again on the same data dir (stopping it first when it still runs). The port changes.
  async restart() {
    if (this.running) await this.stop();
    return this.start();
  }

  // For after() hooks: kill whatever still runs and remove the data dir (and so its database).
  async close() {
    try {
      await this.kill();
    } finally {
      if (this.ownsDataDir) await removeTempDir(this.dataDir);
    }
  }
}

// Starts `tessera serve --listen 127.0.0.1:0 --data-dir <dir>` and waits for its "listening" log line.
//   env:      extra TESSERA_* variables (undefined removes one of the defaults)
//   args:     extra command-line arguments (e.g. ['--config', file])
//   dataDir:  an existing directory to use (else a new temp dir, removed by close()); on PostgreSQL a data
//             dir already used in this process keeps its database
//   fast:     false keeps the server's default Argon2id cost (true: FAST_ENV)
export async function startServer({ env = {}, args = [], dataDir, fast = true } = {}) {
  const ownsDataDir = !dataDir;
  const dir = dataDir ?? (await makeTempDir());
  const storeUrl = await defaultStoreUrl(dir, env);
  const server = new TesseraServer({ env, args, dataDir: dir, ownsDataDir, fastDefaults: fast, storeUrl });
  try {
    await server.start();
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}

// Runs a tessera CLI command to completion (bounded): runCli(['project', 'create', '--alias', 'x',
// '--data-dir', dir]). Returns { code, stdout, stderr }. On PostgreSQL the command gets the database of
// its --data-dir (that of the server started on it).
export async function runCli(args, { env = {}, timeoutMs = 20_000 } = {}) {
  const storeUrl = await defaultStoreUrl(dataDirArgument(args), env);
  return new Promise((resolve, reject) => {
    const child = execFile(
      BIN,
      args,
      { env: childEnv(FAST_ENV, { TESSERA_STORE_URL: storeUrl, ...env }), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20 },
      (error, stdout, stderr) => {
        live.delete(child);
        if (error && typeof error.code !== 'number') {
          if (error.killed) reject(new Error(`tessera ${args.join(' ')} did not finish within ${timeoutMs} ms`));
          else reject(error);
          return;
        }
        resolve({ code: error ? error.code : 0, stdout, stderr });
      },
    );
    live.add(child);
  });
}

function dataDirArgument(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data-dir') return args[i + 1];
    if (args[i].startsWith('--data-dir=')) return args[i].slice('--data-dir='.length);
  }
  return undefined;
}

// `tessera project create --alias <alias> --data-dir <dir>`; returns the new project's { id, alias }.
export async function createProject(dataDir, alias) {
  const r = await runCli(['project', 'create', '--alias', alias, '--data-dir', dataDir]);
  if (r.code !== 0) throw new Error(`project create ${alias} failed (${r.code}): ${r.stderr}`);
  const [id, gotAlias] = r.stdout.trim().split(/\s+/);
  return { id, alias: gotAlias };
}

// Sends raw bytes on a fresh TCP connection and collects what comes back until the server closes the
// connection or `timeoutMs` passes. Returns { data, closed, error, response } where response is the
// parsed first HTTP response ({status, headers (lower-case keys), body}) or null.
export function rawExchange(port, payload, { timeoutMs = 5000, host = '127.0.0.1', endAfterWrite = false } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const chunks = [];
    let error = null;
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks).toString('latin1');
      resolve({ data, closed, error, response: parseHttpResponse(data) });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => {
      if (payload !== undefined && payload !== null && payload.length > 0) {
        socket.write(payload, () => {
          if (endAfterWrite) socket.end();
        });
      }
    });
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (e) => {
      error = e.code || e.message;
    });
    socket.on('close', () => finish(true));
  });
}

// Parses the first HTTP/1.1 response of `data` (a latin1 string); null when incomplete.
export function parseHttpResponse(data) {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = data.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = data.slice(end + 4);
  if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']));
  let json = null;
  try {
    json = JSON.parse(body);
  } catch {
    // not JSON
  }
  return { status: Number(m[1]), headers, body, json };
}

// Reads one metric sample from Prometheus text: metricValue(text, 'tessera_logins_total') or with labels
// metricValue(text, 'tessera_http_requests_total', { route: 'POST /v1/auth/login', status: '200' }).
// Returns a number, or undefined when absent.
export function metricValue(text, name, labels = {}) {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = {};
    for (const pair of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[pair[1]] = pair[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === String(v))) return Number(m[4]);
  }
  return undefined;
}
