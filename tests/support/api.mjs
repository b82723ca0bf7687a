// Shared assertions and small API helpers for the end-to-end tests.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const PASSWORD = 'correct horse battery staple';

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const RFC3339_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
export const SESSION_TOKEN = /^tss_[A-Za-z0-9_-]{43}$/;

export const USER_FIELDS = [
  'id',
  'project_id',
  'email',
  'login',
  'phone',
  'full_name',
  'external_id',
  'tags',
  'data',
  'avatar_url',
  'active',
  'email_verified',
  'is_guest',
  'created_at',
  'updated_at',
  'last_request_at',
].sort();

export const ISSUED_SESSION_FIELDS = ['id', 'token', 'expires_at', 'idle_expires_at', 'csrf_token'].sort();

let counter = 0;
// A fresh suffix for identifiers: unique within the run and across runs.
export function unique() {
  counter += 1;
  return `${Date.now().toString(36)}${counter}${randomBytes(3).toString('hex')}`;
}
export function uniqueEmail(prefix = 'user') {
  return `${prefix}-${unique()}@example.com`;
}
export function uniqueLogin(prefix = 'u') {
  return `${prefix}_${unique()}`;
}
// E.164: + and 7 to 15 digits, not starting with 0.
export function uniquePhone() {
  const digits = `${Date.now()}${counter++}${Math.floor(Math.random() * 1e6)}`.replace(/\D/g, '');
  return `+1${digits.slice(-11)}`;
}

export function assertRequestId(res) {
  const id = res.headers.get ? res.headers.get('x-request-id') : res.headers['x-request-id'];
  assert.ok(id && id.length > 0, `response ${res.status} has an X-Request-Id header`);
  return id;
}

// Asserts an RFC 9457 problem response with this status and code; returns its body.
export function assertProblem(res, status, code) {
  const ctx = `${res.status} ${res.text ?? ''}`;
  assert.equal(res.status, status, `status: ${ctx}`);
  const type = res.headers.get ? res.headers.get('content-type') : res.headers['content-type'];
  assert.match(type || '', /^application\/problem\+json/, `content type of ${ctx}`);
  const body = typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
  assert.equal(body.code, code, `code: ${ctx}`);
  assert.equal(body.status, status, `status field: ${ctx}`);
  assert.equal(typeof body.type, 'string', `type: ${ctx}`);
  assert.ok(body.type.length > 0);
  assert.equal(typeof body.title, 'string', `title: ${ctx}`);
  assert.ok(body.title.length > 0);
  assert.equal(typeof body.detail, 'string', `detail: ${ctx}`);
  assert.ok(body.detail.length > 0);
  assertRequestId(res);
  return body;
}

// The field errors of a problem, as "field:code" strings.
export function fieldErrors(res) {
  const body = typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
  assert.ok(Array.isArray(body.errors), `problem has an errors array: ${res.text}`);
  for (const e of body.errors) {
    assert.equal(typeof e.field, 'string');
    assert.equal(typeof e.code, 'string');
    assert.equal(typeof e.detail, 'string');
  }
  return body.errors.map((e) => `${e.field}:${e.code}`);
}

// 422 validation_failed naming `field` with `code` (and optionally exactly these field errors).
export function assertValidation(res, expected) {
  assertProblem(res, 422, 'validation_failed');
  const got = fieldErrors(res);
  for (const want of [].concat(expected)) {
    if (want.includes(':')) assert.ok(got.includes(want), `expected field error ${want}, got ${JSON.stringify(got)}`);
    else
      assert.ok(
        got.some((g) => g.startsWith(`${want}:`)),
        `expected an error naming ${want}, got ${JSON.stringify(got)}`,
      );
  }
  return got;
}

// GET /v1/me adds `identities` (docs/external.md); every other user object has exactly USER_FIELDS.
export function assertUserShape(user, { identities = false } = {}) {
  const keys = Object.keys(user).filter((k) => !(identities && k === 'identities'));
  assert.deepEqual(keys.sort(), USER_FIELDS, 'user fields');
  if (identities) assert.ok(Array.isArray(user.identities), 'identities is an array');
  assert.match(user.id, UUID_V7);
  assert.match(user.project_id, UUID_V7);
  for (const k of ['email', 'login', 'phone', 'full_name', 'external_id', 'avatar_url'])
    assert.ok(user[k] === null || typeof user[k] === 'string', `${k} is a string or null`);
  assert.ok(Array.isArray(user.tags));
  assert.equal(typeof user.data, 'object');
  assert.ok(user.data !== null && !Array.isArray(user.data));
  for (const k of ['active', 'email_verified', 'is_guest']) assert.equal(typeof user[k], 'boolean', k);
  assert.match(user.created_at, RFC3339_MICROS);
  assert.match(user.updated_at, RFC3339_MICROS);
  assert.ok(user.last_request_at === null || RFC3339_MICROS.test(user.last_request_at), 'last_request_at');
}

export function assertIssuedSession(session) {
  assert.deepEqual(Object.keys(session).sort(), ISSUED_SESSION_FIELDS, 'session fields');
  assert.match(session.id, UUID_V7);
  assert.match(session.token, SESSION_TOKEN);
  assert.match(session.expires_at, RFC3339_MICROS);
  assert.match(session.idle_expires_at, RFC3339_MICROS);
  assert.ok(session.idle_expires_at <= session.expires_at, 'idle expiry never past the absolute expiry');
  assert.equal(typeof session.csrf_token, 'string');
  assert.ok(session.csrf_token.length > 0);
}

// No password or hash in a response (the password itself, an Argon2 PHC string, a hash field).
export function assertNoSecrets(res, password = PASSWORD) {
  assert.ok(!res.text.includes(password), 'the password is not echoed');
  assert.ok(!/\$argon2/i.test(res.text), 'no Argon2 hash in the response');
  assert.ok(!/password/i.test(res.text), 'no password field in the response');
}

// Signs a user up (email by default) and returns { res, user, session, token, email, password }.
export async function signUp(server, fields = {}, { headers } = {}) {
  const json = { password: PASSWORD, ...fields };
  if (!('email' in fields) && !('login' in fields) && !('phone' in fields)) json.email = uniqueEmail();
  const res = await server.request('POST', '/v1/auth/signup', { json, headers });
  assert.equal(res.status, 201, `sign-up: ${res.status} ${res.text}`);
  return {
    res,
    user: res.body.user,
    session: res.body.session,
    token: res.body.session.token,
    email: json.email,
    login: json.login,
    phone: json.phone,
    password: json.password,
  };
}

export async function logIn(server, fields, { headers } = {}) {
  const res = await server.request('POST', '/v1/auth/login', { json: { password: PASSWORD, ...fields }, headers });
  return res;
}

// Polls fn() until it returns a truthy value (bounded); returns that value or throws with the last one.
export async function eventually(fn, { timeoutMs = 10_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// The value of a cookie in an array of Set-Cookie header values (or undefined).
export function cookieFrom(setCookies, name) {
  for (const c of setCookies) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    if (pair.slice(0, i).trim() === name) return { value: pair.slice(i + 1), attributes: c };
  }
  return undefined;
}
