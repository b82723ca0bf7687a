// Helpers shared by the event, mail, webhook, password-reset and verification tests (docs/events.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { runCli, sleep, sql } from './server.mjs';
import { eventually } from './api.mjs';
import { findLink, parseMessage } from './mime.mjs';

// Fast retries for the outbox, loopback webhook targets allowed.
export const FAST_EVENTS_ENV = Object.freeze({
  TESSERA_EVENTS_RETRY_BASE: '200ms',
  TESSERA_EVENTS_RETRY_MAX: '1s',
  TESSERA_EVENTS_WEBHOOK_ALLOW_PRIVATE: 'true',
});

export const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9_-]{20,}$/;
export const RESET_TOKEN = /^tsc_[A-Za-z0-9_-]{43}$/;
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// An API key made with the CLI (`tessera apikey create`), exchanged for an access token.
// Returns { id, secret, token }.
export async function apiKeyToken(server, permissions = '*', project = 'default') {
  const r = await runCli([
    'apikey', 'create', '--data-dir', server.dataDir, '--project', project, '--permissions', permissions, '--name', 'e2e-events',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  const res = await server.request('POST', '/v1/token', {
    json: { grant_type: 'client_credentials', client_id: id, client_secret: secret },
  });
  assert.equal(res.status, 200, res.text);
  return { id, secret, token: res.body.access_token };
}

// POST /v1/auth/password-reset {email} (extra body fields and headers optional).
export function requestReset(server, email, { headers, extra = {} } = {}) {
  return server.request('POST', '/v1/auth/password-reset', { json: { email, ...extra }, headers });
}

export function confirmReset(server, token, newPassword) {
  const json = { token };
  if (newPassword !== undefined) json.new_password = newPassword;
  return server.request('POST', '/v1/auth/password-reset/confirm', { json });
}

// The `token` query parameter of the first link in the text part carrying one; asserts it is there.
export function tokenFromMail(message, pathSuffix) {
  const link = findLink(message.text);
  assert.ok(link, `a link with a token in the text part: ${JSON.stringify(message.text)}`);
  if (pathSuffix) assert.ok(link.url.pathname.endsWith(pathSuffix), `link path ${link.url.pathname} ends with ${pathSuffix}`);
  return link.token;
}

// The .eml files of `[mail] mode = "log"` under <data_dir>/mail, parsed: [{ file, id, ...message }].
export function mailFiles(dataDir) {
  const dir = path.join(dataDir, 'mail');
  let names;
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let raw;
    try {
      raw = fs.readFileSync(file);
    } catch {
      continue;
    }
    const m = parseMessage(raw);
    if (m.multipartComplete === false) continue; // still being written
    out.push({ ...m, file, id: name.slice(0, -'.eml'.length), mtimeMs: fs.statSync(file).mtimeMs });
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

export function mailFilesTo(dataDir, address) {
  return mailFiles(dataDir).filter((m) => (m.toHeader || '').toLowerCase().includes(address.toLowerCase()));
}

// Polls the deliveries log of a webhook until `predicate(items)` holds; returns the items.
export async function waitForDeliveries(server, token, webhookId, predicate, { timeoutMs = 15_000, query = '' } = {}) {
  let last;
  try {
    return await eventually(
      async () => {
        const res = await server.request('GET', `/v1/webhooks/${webhookId}/deliveries${query}`, { token });
        if (res.status !== 200) {
          last = `${res.status} ${res.text}`;
          return false;
        }
        last = res.body.items;
        return predicate(res.body.items) ? res.body.items : false;
      },
      { timeoutMs, intervalMs: 100, what: `deliveries of webhook ${webhookId}` },
    );
  } catch (e) {
    throw new Error(`${e.message}; last deliveries: ${JSON.stringify(last)}`);
  }
}

// Waits (bounded) for `ms` more and then returns: for "nothing else arrives" checks after a positive
// signal, never for the positive signal itself.
export const grace = (ms = 750) => sleep(ms);

// The outbox rows of a server (its store, on either backend), with the payload as text.
export async function outboxRows(server, channel) {
  const rows = await sql(server, 'SELECT id, status, attempts, payload FROM outbox WHERE channel = $1 ORDER BY id', [channel]);
  return rows.map((r) => ({ ...r, payload: String(r.payload) }));
}

// Waits until no outbox row holds `secret` any more (docs/events.md: secrets a mail needs are erased
// from its row once it is sent or given up).
export async function assertSecretErased(server, secret, { timeoutMs = 10_000 } = {}) {
  const holding = async () => (await sql(server, 'SELECT payload FROM outbox')).filter((r) => String(r.payload).includes(secret));
  await eventually(async () => (await holding()).length === 0, { timeoutMs, what: 'the token erased from the outbox' });
}
