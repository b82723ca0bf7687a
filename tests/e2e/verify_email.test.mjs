// Email verification (docs/events.md, "Email verification"): a signed-in user asks for a mail, its link
// carries a token bound to the address it was sent to, confirming it marks the email verified; an email
// change resets the flag and voids the token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startServer } from '../support/server.mjs';
import {
  PASSWORD,
  assertProblem,
  assertUserShape,
  assertValidation,
  signUp,
  uniqueEmail,
} from '../support/api.mjs';
import { startSmtpSink } from '../support/smtp.mjs';
import { findLink, lintMessage } from '../support/mime.mjs';
import { FAST_EVENTS_ENV, RESET_TOKEN, apiKeyToken, confirmReset, requestReset } from '../support/events.mjs';

const PER_EMAIL = 3;

let smtp;
let server;
before(async () => {
  smtp = await startSmtpSink();
  server = await startServer({
    env: {
      ...smtp.env,
      ...FAST_EVENTS_ENV,
      TESSERA_ACCOUNT_REQUESTS_PER_EMAIL: String(PER_EMAIL),
      TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000',
    },
  });
});
after(async () => {
  await server?.close();
  await smtp?.close();
});

const getMe = (token) => server.request('GET', '/v1/me', { token });
const sendVerification = (token) => server.request('POST', '/v1/auth/verify-email', { token });
const confirm = (token) => server.request('POST', '/v1/auth/verify-email/confirm', { json: { token } });
const waitForMailTo = (email, n = 1) => smtp.waitForMessages(n, { filter: (m) => m.to.includes(email), timeoutMs: 15_000 });

async function verificationToken(sessionToken, email, n = 1) {
  const res = await sendVerification(sessionToken);
  assert.equal(res.status, 202, res.text);
  const mails = await waitForMailTo(email, n);
  const link = findLink(mails[n - 1].text);
  assert.ok(link, `a link with a token: ${mails[n - 1].text}`);
  assert.equal(link.url.pathname, '/verify-email');
  return link.token;
}

describe('POST /v1/auth/verify-email and /confirm', () => {
  test('202, a mail with a /verify-email link, confirm: 200 {user} with email_verified, GET /v1/me agrees', async () => {
    const { token, email, user } = await signUp(server);
    assert.equal(user.email_verified, false);
    const res = await sendVerification(token);
    assert.equal(res.status, 202, res.text);

    const [m] = await waitForMailTo(email);
    assert.deepEqual(m.to, [email]);
    assert.equal(m.contentType, 'multipart/alternative');
    assert.deepEqual(lintMessage(m.raw), []);
    assert.ok(m.messageId && m.date);
    const link = findLink(m.text);
    assert.ok(link, m.text);
    assert.equal(link.url.pathname, '/verify-email');
    assert.match(link.token, RESET_TOKEN, 'tsc_ + 32 random bytes');
    assert.ok(m.html.includes(link.token), 'the HTML part has the token');

    const ok = await confirm(link.token); // no session needed
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.body.user, `the answer is {user}: ${ok.text}`);
    assertUserShape(ok.body.user);
    assert.equal(ok.body.user.id, user.id);
    assert.equal(ok.body.user.email_verified, true);
    assert.equal((await getMe(token)).body.email_verified, true);

    // Single use.
    assertValidation(await confirm(link.token), 'token:invalid');
    assert.equal(link.url.origin, server.url, 'without a public_url the link goes to the listen address');
  });

  test('already verified: 409 email_already_verified', async () => {
    const { token, email } = await signUp(server);
    const vt = await verificationToken(token, email);
    assert.equal((await confirm(vt)).status, 200);
    assertProblem(await sendVerification(token), 409, 'email_already_verified');
  });

  test('a user without an email (a guest, a login-only user) gets 422 email required', async () => {
    const guest = await server.request('POST', '/v1/auth/guest');
    assert.equal(guest.status, 201, guest.text);
    assertValidation(await sendVerification(guest.body.session.token), 'email:required');
    const loginOnly = await signUp(server, { login: `u_${randomBytes(4).toString('hex')}` });
    assertValidation(await sendVerification(loginOnly.token), 'email:required');
  });

  test('without a session: 401', async () => {
    const res = await server.request('POST', '/v1/auth/verify-email');
    assert.equal(res.status, 401, res.text);
  });

  test('unknown and malformed tokens: 422 token invalid', async () => {
    assertValidation(await confirm(`tsc_${randomBytes(32).toString('base64url')}`), 'token:invalid');
    assertValidation(await confirm('nope'), 'token:invalid');
    assertValidation(await server.request('POST', '/v1/auth/verify-email/confirm', { json: {} }), 'token');
  });

  test('a reset token is not a verification token (and the other way round)', async () => {
    const { token, email } = await signUp(server);
    const vt = await verificationToken(token, email);
    assertValidation(await confirmReset(server, vt, 'a new password for me'), 'token:invalid');
    assert.equal((await requestReset(server, email)).status, 202);
    const mails = await waitForMailTo(email, 2);
    const rt = findLink(mails[1].text)?.token;
    assert.ok(rt && rt !== vt);
    assertValidation(await confirm(rt), 'token:invalid');
    // Both still work for their own purpose.
    assert.equal((await confirm(vt)).status, 200);
    assert.equal((await confirmReset(server, rt, 'a new password for me')).status, 204);
  });
});

describe('email changes', () => {
  test('changing the email resets email_verified and voids a token sent to the old address', async () => {
    const { token, email } = await signUp(server);
    const first = await verificationToken(token, email);
    assert.equal((await confirm(first)).status, 200);
    assert.equal((await getMe(token)).body.email_verified, true);

    const next = uniqueEmail('moved');
    const moved = await server.request('PATCH', '/v1/me', { token, json: { email: next, current_password: PASSWORD } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.email_verified, false, 'a new address is not verified');
    assert.equal((await getMe(token)).body.email_verified, false);

    const forNext = await verificationToken(token, next);
    const third = uniqueEmail('again');
    const again = await server.request('PATCH', '/v1/me', { token, json: { email: third, current_password: PASSWORD } });
    assert.equal(again.status, 200, again.text);
    assertValidation(await confirm(forNext), 'token:invalid');
    assert.equal((await getMe(token)).body.email_verified, false);

    // The current address can still be verified.
    const forThird = await verificationToken(token, third);
    const ok = await confirm(forThird);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.user.email, third);
    assert.equal(ok.body.user.email_verified, true);
  });

  test('an administrator changing the email resets email_verified too', async () => {
    const admin = await apiKeyToken(server, 'users:write');
    const { token, email, user } = await signUp(server);
    const vt = await verificationToken(token, email);
    const next = uniqueEmail('admin-moved');
    const res = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin.token, json: { email: next } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.email_verified, false);
    assertValidation(await confirm(vt), 'token:invalid');
  });
});

describe('limits', () => {
  test(`per email: ${PER_EMAIL} verification mails, then 429 rate_limited with Retry-After`, async () => {
    const { token, email } = await signUp(server);
    for (let i = 0; i < PER_EMAIL; i++) {
      const res = await sendVerification(token);
      assert.equal(res.status, 202, `request ${i + 1}: ${res.text}`);
    }
    const limited = await sendVerification(token);
    assertProblem(limited, 429, 'rate_limited');
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
    await waitForMailTo(email, PER_EMAIL);
  });
});
