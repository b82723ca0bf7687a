// A webhook receiver for the event tests: an HTTP server on 127.0.0.1 that records every request,
// checks Tessera's signature, answers the status it is told to, and can go down and come back on the
// same port.
//
//   import { startWebhookReceiver, verifySignature } from '../support/webhooks.mjs';
//   const rx = await startWebhookReceiver();          // or ({ start: false }): port chosen, down
//   POST /v1/webhooks { url: rx.url }                 // or rx.urlFor('a') for a path of its own
//   rx.setSecret(created.secret);                     // or per path: rx.setSecret(secret, '/a')
//   rx.failNext(2, 500);                              // the next 2 requests get 500, then 200 again
//   const [req] = await rx.waitFor((r) => r.json?.type === 'user.created', { timeoutMs: 10_000 });
//   req.headers['tessera-delivery-id'], req.json, req.raw, req.signature.valid
//   await rx.stop(); await rx.start();                // same port
//   await rx.close();
//
// Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")> (docs/events.md);
// the key is the secret string as given at creation ("whsec_..."), as UTF-8 bytes.

import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

import { closeTracked, freePort, listenTracked } from './ports.mjs';
import { sleep } from './server.mjs';

// Parses "t=123,v1=abc,v1=def" -> { t: '123', v1: ['abc', 'def'] } (null when malformed).
export function parseSignatureHeader(header) {
  if (typeof header !== 'string' || header.length === 0) return null;
  const out = { t: null, v1: [] };
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) return null;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 't') out.t = v;
    else if (k === 'v1') out.v1.push(v);
  }
  return out.t === null || out.v1.length === 0 ? null : out;
}

export function expectedSignature(secret, t, rawBody) {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.concat([Buffer.from(`${t}.`, 'utf8'), Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, 'utf8')]))
    .digest('hex');
}

// Checks a Tessera-Signature header against the raw body with `secret`. Returns
// { valid, reason, t, ageSeconds }: valid when one v1 value equals the expected HMAC (compared in
// constant time) and t is a plausible unix time (within `toleranceSeconds` of now).
export function verifySignature(header, rawBody, secret, { toleranceSeconds = 300, now = Date.now() } = {}) {
  const parsed = parseSignatureHeader(header);
  if (!parsed) return { valid: false, reason: `malformed Tessera-Signature: ${JSON.stringify(header)}` };
  if (!/^\d{9,11}$/.test(parsed.t)) return { valid: false, reason: `t is not unix seconds: ${parsed.t}`, t: parsed.t };
  const t = Number(parsed.t);
  const ageSeconds = Math.round(now / 1000) - t;
  if (Math.abs(ageSeconds) > toleranceSeconds)
    return { valid: false, reason: `t is ${ageSeconds} s away from now`, t, ageSeconds };
  if (!secret) return { valid: false, reason: 'no secret to check with', t, ageSeconds };
  const want = Buffer.from(expectedSignature(secret, parsed.t, rawBody), 'hex');
  for (const v1 of parsed.v1) {
    if (!/^[0-9a-f]{64}$/.test(v1)) continue;
    const got = Buffer.from(v1, 'hex');
    if (got.length === want.length && timingSafeEqual(got, want)) return { valid: true, reason: null, t, ageSeconds };
  }
  return { valid: false, reason: 'no v1 signature matches', t, ageSeconds };
}

export class WebhookReceiver {
  constructor({ port, host = '127.0.0.1', secret = null }) {
    this.host = host;
    this.port = port;
    this.secrets = new Map(); // path -> secret; '' is the default for every path
    if (secret) this.secrets.set('', secret);
    this.requests = [];
    this.answers = []; // statuses for the next requests, in order
    this.defaultStatus = 200;
    this.responder = null; // optional (req) => status | { status, body, headers, delayMs }
    this.server = null;
    this.sockets = new Set();
    this.delays = new Set(); // pending answer delays, cut short by stop()
  }

  delay(ms) {
    return new Promise((resolve) => {
      const entry = { resolve };
      entry.timer = setTimeout(() => {
        this.delays.delete(entry);
        resolve();
      }, ms);
      this.delays.add(entry);
    });
  }

  get url() {
    return `http://${this.host}:${this.port}/hook`;
  }

  urlFor(name) {
    return `http://${this.host}:${this.port}/${String(name).replace(/^\/+/, '')}`;
  }

  get running() {
    return this.server !== null;
  }

  // The secret that verifies requests to `path` ('/a' or a full url from urlFor), or to any path.
  setSecret(secret, path = '') {
    const key = path.startsWith('http') ? new URL(path).pathname : path;
    this.secrets.set(key, secret);
  }

  secretFor(path) {
    return this.secrets.get(path) ?? this.secrets.get('') ?? null;
  }

  // The next `n` requests are answered `status`; then the default again.
  failNext(n, status = 500) {
    for (let i = 0; i < n; i++) this.answers.push(status);
  }

  // Every later request is answered `status` (until changed); clears failNext's queue.
  setStatus(status) {
    this.answers = [];
    this.defaultStatus = status;
  }

  // A function deciding each answer: (request) => status or { status, body, headers, delayMs }.
  respondWith(fn) {
    this.responder = fn;
  }

  async start() {
    if (this.server) throw new Error('the receiver is already running');
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await listenTracked(server, this.port, this.host, this.sockets);
    this.server = server;
    return this;
  }

  async stop() {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const d of this.delays) {
      clearTimeout(d.timer);
      d.resolve();
    }
    this.delays.clear();
    await closeTracked(server, this.sockets, this.port, this.host);
  }

  async close() {
    await this.stop();
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rawBuf = Buffer.concat(chunks);
      const raw = rawBuf.toString('utf8');
      let json = null;
      let jsonError = null;
      try {
        json = JSON.parse(raw);
      } catch (e) {
        jsonError = e.message;
      }
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
      const path = new URL(req.url, 'http://x').pathname;
      const record = {
        index: this.requests.length,
        method: req.method,
        url: req.url,
        path,
        headers,
        raw,
        rawBuffer: rawBuf,
        json,
        jsonError,
        receivedAt: Date.now(),
        status: null,
        signature: null,
        // convenience
        eventId: headers['tessera-event-id'],
        eventType: headers['tessera-event-type'],
        deliveryId: headers['tessera-delivery-id'],
        attempt: headers['tessera-delivery-attempt'] !== undefined ? Number(headers['tessera-delivery-attempt']) : undefined,
      };
      record.signature = verifySignature(headers['tessera-signature'], rawBuf, this.secretFor(path));
      this.requests.push(record);

      let answer = this.answers.length > 0 ? this.answers.shift() : this.defaultStatus;
      if (this.responder) answer = (await this.responder(record)) ?? answer;
      const a = typeof answer === 'number' ? { status: answer } : answer;
      if (a.delayMs) await this.delay(a.delayMs);
      record.status = a.status;
      if (res.destroyed) return;
      res.writeHead(a.status, { 'content-type': 'text/plain', ...(a.headers || {}) });
      res.end(a.body ?? `${a.status}\n`);
    });
  }

  // Re-checks one recorded request against a secret (e.g. the old secret after a rotation).
  verify(request, secret) {
    return verifySignature(request.headers['tessera-signature'], request.rawBuffer, secret, { now: request.receivedAt });
  }

  // Requests that match: a predicate (request) => boolean, or null for all.
  matching(predicate) {
    return predicate ? this.requests.filter(predicate) : [...this.requests];
  }

  // waitFor(n): at least n requests; waitFor(pred): at least one match; waitFor(pred, { count }).
  // Returns the matching requests.
  async waitFor(predicateOrCount = 1, { timeoutMs = 10_000, count, intervalMs = 25 } = {}) {
    const predicate = typeof predicateOrCount === 'function' ? predicateOrCount : null;
    const want = typeof predicateOrCount === 'number' ? predicateOrCount : (count ?? 1);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.matching(predicate);
      if (got.length >= want) return got;
      if (Date.now() > deadline) {
        const seen = this.requests.map((r) => `${r.eventType ?? r.json?.type ?? '?'}#${r.attempt ?? '?'}->${r.status}`);
        throw new Error(`webhook receiver: ${got.length} of ${want} matching requests within ${timeoutMs} ms (all: ${JSON.stringify(seen)})`);
      }
      await sleep(intervalMs);
    }
  }

  clear() {
    this.requests = [];
  }
}

// Starts a receiver on `port` (else a free one). start: false chooses the port but leaves it down.
export async function startWebhookReceiver({ port, start = true, secret } = {}) {
  const rx = new WebhookReceiver({ port: port ?? (await freePort()), secret });
  if (start) await rx.start();
  return rx;
}
