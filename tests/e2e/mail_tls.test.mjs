// The SMTP transport (docs/events.md, "Mail", mode = "smtp"): STARTTLS (required, never opportunistic),
// implicit TLS, AUTH with the password from the environment (never logged), an extra CA to trust; a
// mail that cannot be delivered stays in the outbox and is retried, and nothing crashes.
// The SMTP server is nodemailer's smtp-server with a certificate from a throw-away CA (smtp_tls.mjs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../support/server.mjs';
import { eventually, signUp } from '../support/api.mjs';
import { makeCertificates, startTlsSmtpServer } from '../support/smtp_tls.mjs';
import { findLink, lintMessage } from '../support/mime.mjs';
import { FAST_EVENTS_ENV, confirmReset, grace, outboxRows, requestReset } from '../support/events.mjs';

const AUTH = { username: 'tessera-mailer', password: 'Sm7p-pa55word-not-in-logs' };

let certs;
const closers = [];
before(async () => {
  certs = await makeCertificates();
});
after(async () => {
  for (const c of closers.reverse()) await c.close();
});

async function smtpServer(options) {
  const s = await startTlsSmtpServer({ certs, ...options });
  closers.push(s);
  return s;
}
async function tessera(env) {
  const s = await startServer({
    env: { ...FAST_EVENTS_ENV, TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000', ...env },
  });
  closers.push(s);
  return s;
}

// Signs a user up and asks for a reset mail; returns the user's email.
async function resetMail(server) {
  const { email } = await signUp(server);
  const res = await requestReset(server, email);
  assert.equal(res.status, 202, res.text);
  return email;
}

function assertHealthy(server) {
  assert.ok(server.running, `tessera still runs (exit ${server.exitCode}, signal ${server.exitSignal})`);
}

async function assertAlive(server) {
  assertHealthy(server);
  const res = await server.request('GET', '/healthz');
  assert.equal(res.status, 200, res.text);
}

function assertPasswordNotLogged(server) {
  const log = server.logSince(0);
  assert.ok(!log.includes(AUTH.password), 'the SMTP password is never logged');
}

describe('delivered', () => {
  test('STARTTLS with AUTH: the mail arrives over TLS, authenticated as the configured user', async () => {
    const smtp = await smtpServer({ tls: 'starttls', auth: AUTH });
    const server = await tessera(smtp.env);
    const email = await resetMail(server);
    const [m] = await smtp.waitForMessages(1, { filter: (x) => x.to.includes(email), timeoutMs: 15_000 });
    assert.equal(m.secure, true, 'sent after STARTTLS');
    assert.equal(m.user, AUTH.username, 'authenticated as the configured user');
    assert.ok(smtp.authAttempts.some((a) => a.ok && a.username === AUTH.username && a.secure), 'AUTH happened inside TLS');
    assert.equal(m.contentType, 'multipart/alternative');
    assert.deepEqual(lintMessage(m.raw), []);
    const link = findLink(m.text);
    assert.ok(link, m.text);
    assert.equal((await confirmReset(server, link.token, 'a new password via tls')).status, 204);
    assertPasswordNotLogged(server);
  });

  test('implicit TLS (SMTPS): the mail arrives', async () => {
    const smtp = await smtpServer({ tls: 'implicit', auth: AUTH });
    const server = await tessera(smtp.env);
    const email = await resetMail(server);
    const [m] = await smtp.waitForMessages(1, { filter: (x) => x.to.includes(email), timeoutMs: 15_000 });
    assert.equal(m.secure, true);
    assert.equal(m.user, AUTH.username);
    assert.ok(findLink(m.text), m.text);
    assertPasswordNotLogged(server);
  });

  test('implicit TLS without AUTH: the mail arrives', async () => {
    const smtp = await smtpServer({ tls: 'implicit' });
    const server = await tessera(smtp.env);
    const email = await resetMail(server);
    const [m] = await smtp.waitForMessages(1, { filter: (x) => x.to.includes(email), timeoutMs: 15_000 });
    assert.equal(m.secure, true);
    assert.equal(m.user, null);
  });
});

describe('not delivered, retried, nothing crashes', () => {
  test('a wrong password: AUTH fails, the mail is not delivered and is tried again', async () => {
    const smtp = await smtpServer({ tls: 'starttls', auth: AUTH });
    const server = await tessera({ ...smtp.env, TESSERA_MAIL_SMTP_PASSWORD: 'the wrong password' });
    await resetMail(server);
    await eventually(() => smtp.authAttempts.length >= 2, { timeoutMs: 15_000, what: 'AUTH tried again after a failure' });
    assert.ok(smtp.authAttempts.every((a) => !a.ok && a.username === AUTH.username));
    assert.deepEqual(smtp.messages(), [], 'nothing delivered');
    await assertAlive(server);
    const log = server.logSince(0);
    assert.ok(!log.includes('the wrong password'), 'the password is never logged');

    // The mail stayed pending: with the right password (a restart on the same data dir) it goes out.
    server.env = { ...server.env, TESSERA_MAIL_SMTP_PASSWORD: AUTH.password };
    await server.restart();
    const [m] = await smtp.waitForMessages(1, { timeoutMs: 15_000 });
    assert.equal(m.user, AUTH.username);
    assert.ok(findLink(m.text), m.text);
  });

  test('after max_attempts the mail is given up and its token erased from the outbox', async () => {
    const smtp = await smtpServer({ tls: 'starttls', auth: AUTH });
    const server = await tessera({ ...smtp.env, TESSERA_MAIL_SMTP_PASSWORD: 'the wrong password', TESSERA_EVENTS_MAX_ATTEMPTS: '2' });
    await resetMail(server);
    await eventually(() => smtp.authAttempts.length >= 2, { timeoutMs: 15_000, what: 'two attempts' });
    const rows = async () => (await outboxRows(server, 'mail')).map((r) => `${r.status}:${r.attempts}:${r.payload.includes('tsc_')}`);
    await eventually(async () => (await rows()).join() === 'failed:2:false', { timeoutMs: 10_000, what: 'the mail row failed, without its token' });
    await grace(1000);
    assert.equal(smtp.authAttempts.length, 2, 'no attempt after the last');
    await assertAlive(server);
  });

  test('an untrusted certificate (no CA file): nothing is sent, the mail is tried again', async () => {
    const smtp = await smtpServer({ tls: 'starttls', auth: AUTH });
    const server = await tessera({ ...smtp.env, TESSERA_MAIL_SMTP_CA_FILE: undefined });
    await resetMail(server);
    await eventually(() => smtp.tcpConnections >= 2, { timeoutMs: 15_000, what: 'a second connection (a retry)' });
    assert.deepEqual(smtp.authAttempts, [], 'no credentials sent to an unverified server');
    assert.deepEqual(smtp.messages(), [], 'nothing delivered');
    await assertAlive(server);
    assertPasswordNotLogged(server);
  });

  test('implicit TLS with an untrusted certificate: nothing is sent', async () => {
    const smtp = await smtpServer({ tls: 'implicit', auth: AUTH });
    const server = await tessera({ ...smtp.env, TESSERA_MAIL_SMTP_CA_FILE: undefined });
    await resetMail(server);
    await eventually(() => smtp.tcpConnections >= 2, { timeoutMs: 15_000, what: 'a second connection (a retry)' });
    assert.deepEqual(smtp.authAttempts, []);
    assert.deepEqual(smtp.messages(), []);
    await assertAlive(server);
  });

  test('starttls is required, not opportunistic: a server without STARTTLS gets nothing', async () => {
    const smtp = await smtpServer({ tls: 'none', auth: AUTH }); // plain, AUTH offered, no STARTTLS
    const server = await tessera({ ...smtp.env, TESSERA_MAIL_SMTP_TLS: 'starttls' });
    await resetMail(server);
    await eventually(() => smtp.tcpConnections >= 2, { timeoutMs: 15_000, what: 'a second connection (a retry)' });
    assert.deepEqual(smtp.authAttempts, [], 'the password never crosses a plain connection');
    assert.deepEqual(smtp.messages(), []);
    await assertAlive(server);
  });

  test('after the mail server is fixed, the retried mail arrives once', async () => {
    // Down at first (port known), then up: the pending mail is delivered by a retry.
    const smtp = await smtpServer({ tls: 'starttls', auth: AUTH, start: false });
    const server = await tessera(smtp.env);
    const email = await resetMail(server);
    await grace(1000); // at least one attempt fails on a refused connection
    await smtp.start();
    const [m] = await smtp.waitForMessages(1, { filter: (x) => x.to.includes(email), timeoutMs: 15_000 });
    assert.ok(findLink(m.text));
    await grace(1500);
    assert.equal(smtp.messages().filter((x) => x.to.includes(email)).length, 1, 'exactly one mail');
    await assertAlive(server);
  });
});
