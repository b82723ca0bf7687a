// Password reset (docs/events.md, "Password reset" and "Mail"): the request answers 202 whatever the
// email, the mail goes out through a real SMTP server (Postfix's smtp-sink), its link carries a single-use
// token that sets a new password and ends every session; limits per email and per client address;
// per-project templates; and the default `[mail] mode = "log"` that writes .eml files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startServer } from '../support/server.mjs';
import {
  PASSWORD,
  UUID_V7,
  assertProblem,
  assertValidation,
  eventually,
  fieldErrors,
  logIn,
  signUp,
  uniqueEmail,
} from '../support/api.mjs';
import { startSmtpSink } from '../support/smtp.mjs';
import { findLink, lintMessage } from '../support/mime.mjs';
import {
  FAST_EVENTS_ENV,
  RESET_TOKEN,
  apiKeyToken,
  assertSecretErased,
  confirmReset,
  grace,
  mailFilesTo,
  requestReset,
  tokenFromMail,
} from '../support/events.mjs';

const NEW_PASSWORD = 'a brand new password';
const PER_EMAIL = 3;
const MESSAGE_ID = new RegExp(`^<${UUID_V7.source.slice(1, -1)}@tessera>$`);

let smtp;
let server;
const others = [];
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
  for (const s of others) await s.close();
  await smtp?.close();
});

async function startOther(env) {
  const s = await startServer({ env });
  others.push(s);
  return s;
}

const getMe = (token, srv = server) => srv.request('GET', '/v1/me', { token });
const mailsTo = (email) => smtp.messages().filter((m) => m.to.includes(email));
// Waits for the n-th mail to `email` and returns the mails to it (oldest first).
const waitForMailTo = (email, n = 1, timeoutMs = 15_000) =>
  smtp.waitForMessages(n, { filter: (m) => m.to.includes(email), timeoutMs });

async function resetTokenFor(email, srv = server, n = 1) {
  const res = await requestReset(srv, email);
  assert.equal(res.status, 202, res.text);
  const mails = await waitForMailTo(email, n);
  return tokenFromMail(mails[n - 1], '/reset-password');
}

function assertRateLimited(res) {
  assertProblem(res, 429, 'rate_limited');
  const retryAfter = res.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, `Retry-After is a number of seconds: ${retryAfter}`);
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 3600, `Retry-After within the window: ${retryAfter}`);
}

describe('the reset mail and its link', () => {
  test('202 with no body; the mail is multipart text + HTML with Date, Message-ID and a tsc_ token link', async () => {
    const { email } = await signUp(server, { full_name: 'Ada Reset' });
    const res = await requestReset(server, email);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.text, '');

    const [m] = await waitForMailTo(email);
    assert.deepEqual(m.to, [email], 'the envelope recipient is the user');
    assert.ok((m.toHeader || '').includes(email), `To header: ${m.toHeader}`);
    assert.ok(m.from.length > 0, 'an envelope sender');
    assert.ok(m.fromHeader, 'a From header');
    assert.ok(m.subject && m.subject.length > 0, 'a subject');
    assert.match(m.messageId ?? '', MESSAGE_ID, 'Message-ID is <delivery id@tessera>');
    assert.ok(m.date && !Number.isNaN(Date.parse(m.date)), `a Date header: ${m.date}`);
    assert.ok(Math.abs(Date.parse(m.date) - Date.now()) < 10 * 60_000, `Date is now: ${m.date}`);
    assert.equal(m.contentType, 'multipart/alternative');
    assert.deepEqual(lintMessage(m.raw), [], 'a well-formed RFC 5322 / MIME message');
    for (const part of m.parts) {
      assert.equal((part.charset || '').toLowerCase(), 'utf-8', `${part.contentType} is UTF-8`);
      assert.equal(part.transferEncoding, 'quoted-printable', `${part.contentType} is quoted-printable`);
    }

    const link = findLink(m.text);
    assert.ok(link, `the text part has a link with a token: ${m.text}`);
    assert.equal(link.url.pathname, '/reset-password');
    assert.match(link.token, RESET_TOKEN);
    assert.ok(m.html, 'an HTML part');
    assert.ok(m.html.includes(link.token), 'the HTML part has the same token');
    assert.ok(findLink(m.html)?.token === link.token, 'the HTML part links to the same reset page');
    // Sent: the token is no longer in the outbox row (only its hash is kept, in the token table).
    await assertSecretErased(server, link.token);
    // Last, so that the checks above run whatever this finds.
    assert.equal(link.url.origin, server.url, 'without a public_url the link goes to the listen address');
  });

  test('confirm: 204, every session ends, the new password logs in, the old one fails, the email is verified', async () => {
    const { email, token, user } = await signUp(server);
    const other = (await logIn(server, { email })).body.session;
    const resetToken = await resetTokenFor(email);

    const res = await confirmReset(server, resetToken, NEW_PASSWORD);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');

    assertProblem(await getMe(token), 401, 'invalid_token');
    assertProblem(await getMe(other.token), 401, 'invalid_token');
    assertProblem(await logIn(server, { email, password: PASSWORD }), 401, 'invalid_credentials');
    const fresh = await logIn(server, { email, password: NEW_PASSWORD });
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.user.id, user.id);
    assert.equal(fresh.body.user.email_verified, true, 'the mail reached the address: it is verified');
  });

  test('the token is single use: a second confirm is 422 token invalid', async () => {
    const { email } = await signUp(server);
    const resetToken = await resetTokenFor(email);
    assert.equal((await confirmReset(server, resetToken, NEW_PASSWORD)).status, 204);
    const again = await confirmReset(server, resetToken, 'yet another password');
    assertValidation(again, 'token:invalid');
    assertProblem(await logIn(server, { email, password: 'yet another password' }), 401, 'invalid_credentials');
    assert.equal((await logIn(server, { email, password: NEW_PASSWORD })).status, 200);
  });

  test('unknown and malformed tokens are 422 token invalid; a bad new password leaves the token usable', async () => {
    assertValidation(await confirmReset(server, `tsc_${randomBytes(32).toString('base64url')}`, NEW_PASSWORD), 'token:invalid');
    assertValidation(await confirmReset(server, 'not-a-token', NEW_PASSWORD), 'token:invalid');
    assertValidation(await confirmReset(server, undefined, NEW_PASSWORD), 'token');

    const { email } = await signUp(server);
    const resetToken = await resetTokenFor(email);
    assertValidation(await confirmReset(server, resetToken, undefined), 'new_password:required');
    assertValidation(await confirmReset(server, resetToken, 'short'), 'new_password:too_short');
    // The refused attempts did not use the token up.
    assert.equal((await confirmReset(server, resetToken, NEW_PASSWORD)).status, 204);
  });

  test('a newer reset token voids the older one', async () => {
    const { email } = await signUp(server);
    const first = await resetTokenFor(email, server, 1);
    const second = await resetTokenFor(email, server, 2);
    assert.notEqual(first, second);
    assertValidation(await confirmReset(server, first, NEW_PASSWORD), 'token:invalid');
    assert.equal((await confirmReset(server, second, NEW_PASSWORD)).status, 204);
  });

  test('changing the password (POST /v1/me/password) voids a pending reset token', async () => {
    const { email, token } = await signUp(server);
    const resetToken = await resetTokenFor(email);
    const change = await server.request('POST', '/v1/me/password', {
      token,
      json: { old_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    assert.equal(change.status, 204, change.text);
    assertValidation(await confirmReset(server, resetToken, 'the attacker password'), 'token:invalid');
    assert.equal((await logIn(server, { email, password: NEW_PASSWORD })).status, 200);
  });

  test('an expired token is 422 token invalid', async () => {
    const short = await startOther({ ...smtp.env, ...FAST_EVENTS_ENV, TESSERA_ACCOUNT_PASSWORD_RESET_TTL: '1s' });
    const { email } = await signUp(short);
    const resetToken = await resetTokenFor(email, short);
    // The token was made before the mail was sent: 1.5 s after its arrival it is past its 1 s life.
    await new Promise((r) => setTimeout(r, 1500));
    assertValidation(await confirmReset(short, resetToken, NEW_PASSWORD), 'token:invalid');
    assert.equal((await logIn(short, { email, password: PASSWORD })).status, 200, 'the password is unchanged');
  });
});

describe('requests that send nothing', () => {
  test('an unknown email gets the same 202 and no mail', async () => {
    const known = await signUp(server);
    const unknown = uniqueEmail('nobody');
    const resUnknown = await requestReset(server, unknown);
    const resKnown = await requestReset(server, known.email);
    for (const res of [resUnknown, resKnown]) {
      assert.equal(res.status, 202, res.text);
      assert.equal(res.text, '');
    }
    const names = (res) => [...res.headers.keys()].filter((k) => k !== 'date').sort();
    assert.deepEqual(names(resUnknown), names(resKnown), 'the same headers');
    for (const h of ['content-type', 'content-length', 'cache-control'])
      assert.equal(resUnknown.headers.get(h), resKnown.headers.get(h), h);

    await waitForMailTo(known.email);
    await grace();
    assert.deepEqual(mailsTo(unknown), [], 'no mail to an address nobody has');
  });

  test('an inactive user gets no mail', async () => {
    const admin = await apiKeyToken(server, 'users:write');
    const { email, user } = await signUp(server);
    const off = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin.token, json: { active: false } });
    assert.equal(off.status, 200, off.text);
    assert.equal((await requestReset(server, email)).status, 202);
    // A mail to someone else, requested afterwards, shows that the queue moved on.
    const probe = await signUp(server);
    assert.equal((await requestReset(server, probe.email)).status, 202);
    await waitForMailTo(probe.email);
    await grace();
    assert.deepEqual(mailsTo(email), []);
  });

  test('a request without an email is 422 naming email', async () => {
    assertValidation(await server.request('POST', '/v1/auth/password-reset', { json: {} }), 'email');
  });
});

describe('limits', () => {
  test(`per email: ${PER_EMAIL} requests, then 429 rate_limited with Retry-After, registered or not`, async () => {
    const registered = (await signUp(server)).email;
    const unregistered = uniqueEmail('ghost');
    for (const email of [registered, unregistered]) {
      for (let i = 0; i < PER_EMAIL; i++) {
        const res = await requestReset(server, email);
        assert.equal(res.status, 202, `request ${i + 1} for ${email}: ${res.text}`);
      }
      assertRateLimited(await requestReset(server, email));
      // The address is the same whatever its case.
      assertRateLimited(await requestReset(server, email.toUpperCase()));
    }
    // Another address from the same client is not limited.
    assert.equal((await requestReset(server, uniqueEmail('fresh'))).status, 202);
    await waitForMailTo(registered, PER_EMAIL);
  });

  test('per client address: requests_per_ip, then 429 whatever the email', async () => {
    const limited = await startOther({ ...FAST_EVENTS_ENV, TESSERA_ACCOUNT_REQUESTS_PER_IP: '3', TESSERA_ACCOUNT_REQUESTS_PER_EMAIL: '100' });
    for (let i = 0; i < 3; i++) assert.equal((await requestReset(limited, uniqueEmail('ip'))).status, 202);
    assertRateLimited(await requestReset(limited, uniqueEmail('ip')));
    const { email } = await signUp(limited);
    assertRateLimited(await requestReset(limited, email));
  });
});

describe('per-project settings and templates', () => {
  // The {subject, text, html} of the project's password_reset template (other keys, such as a flag
  // telling a custom template from the default, are not compared).
  const templateOf = (project) => {
    const t = project.mail_templates?.password_reset;
    return t && { subject: t.subject, text: t.text, html: t.html };
  };

  test('GET/PATCH /v1/project need projects:manage', async () => {
    const reader = await apiKeyToken(server, 'users:read');
    const body = assertProblem(await server.request('GET', '/v1/project', { token: reader.token }), 403, 'forbidden');
    assert.equal(body.missing_permission, 'projects:manage');
    assertProblem(
      await server.request('PATCH', '/v1/project', { token: reader.token, json: { public_url: 'https://x.test' } }),
      403,
      'forbidden',
    );
  });

  test('a custom password_reset template, public_url and mail_from are used; HTML values are escaped; null restores', async () => {
    const admin = await apiKeyToken(server, 'projects:manage');
    const before = await server.request('GET', '/v1/project', { token: admin.token });
    assert.equal(before.status, 200, before.text);
    for (const k of ['name', 'public_url', 'mail_from', 'mail_templates']) assert.ok(k in before.body, `${k} in ${before.text}`);
    const projectName = before.body.name;
    try {
      const template = {
        subject: 'Réinitialiser pour {{user.email}} — {{project.name}}',
        text: 'Bonjour {{user.full_name}}, ouvrez {{link}} (valable {{expires_in}}). Jeton: {{token}}. Id {{user.id}}.',
        html: '<p>Bonjour {{user.full_name}}</p><p><a href="{{link}}">Réinitialiser</a></p>',
      };
      const patch = await server.request('PATCH', '/v1/project', {
        token: admin.token,
        json: {
          public_url: 'https://app.example.test',
          mail_from: 'Example App <auth@app.example.test>',
          mail_templates: { password_reset: template },
        },
      });
      assert.equal(patch.status, 200, patch.text);
      assert.equal(patch.body.public_url, 'https://app.example.test');
      assert.deepEqual(templateOf(patch.body), template);
      const read = await server.request('GET', '/v1/project', { token: admin.token });
      assert.deepEqual(templateOf(read.body), template);

      const fullName = 'Zoë <b>&"Friends"';
      const { email, user } = await signUp(server, { full_name: fullName });
      assert.equal((await requestReset(server, email)).status, 202);
      const [m] = await waitForMailTo(email);
      assert.deepEqual(lintMessage(m.raw), [], 'non-ASCII subject and bodies are encoded');
      assert.equal(m.subject, `Réinitialiser pour ${email} — ${projectName}`);
      assert.ok(m.fromHeader.includes('auth@app.example.test'), `From: ${m.fromHeader}`);
      const link = findLink(m.text);
      assert.ok(link, m.text);
      assert.equal(link.url.origin, 'https://app.example.test');
      assert.equal(link.url.pathname, '/reset-password');
      assert.ok(m.text.startsWith(`Bonjour ${fullName}, ouvrez ${link.href} (valable 1 hour). Jeton: ${link.token}. Id ${user.id}.`), m.text);
      assert.ok(m.html.includes('Bonjour Zoë &lt;b&gt;&amp;'), `HTML-escaped name: ${m.html}`);
      assert.ok(!m.html.includes('<b>&'), 'no raw markup from the user');
      assert.equal(findLink(m.html)?.token, link.token);
      assert.equal((await confirmReset(server, link.token, NEW_PASSWORD)).status, 204, 'the token of the custom mail works');

      // An unknown placeholder is refused, naming the field.
      const bad = await server.request('PATCH', '/v1/project', {
        token: admin.token,
        json: { mail_templates: { password_reset: { ...template, text: 'Hi {{user.password}} {{link}}' } } },
      });
      assertProblem(bad, 422, 'validation_failed');
      const fields = fieldErrors(bad);
      assert.ok(fields.some((f) => f.startsWith('mail_templates.password_reset.text')), `field named: ${fields}`);
      assert.deepEqual(
        templateOf((await server.request('GET', '/v1/project', { token: admin.token })).body),
        template,
        'unchanged after the refused patch',
      );
    } finally {
      const restore = await server.request('PATCH', '/v1/project', {
        token: admin.token,
        json: { public_url: null, mail_from: null, mail_templates: { password_reset: null } },
      });
      assert.equal(restore.status, 200, restore.text);
    }
    // Back to the default template and address.
    const { email } = await signUp(server);
    assert.equal((await requestReset(server, email)).status, 202);
    const [m] = await waitForMailTo(email);
    assert.ok(!m.subject.startsWith('Réinitialiser'), `default subject again: ${m.subject}`);
    assert.equal(findLink(m.text)?.url.origin, server.url);
  });
});

describe('per-project settings: validation and header safety', () => {
  test('a bad public_url or mail_from is 422 naming the field', async () => {
    const admin = await apiKeyToken(server, 'projects:manage');
    const patch = (json) => server.request('PATCH', '/v1/project', { token: admin.token, json });
    assertValidation(await patch({ public_url: 'ftp://app.example.test' }), 'public_url');
    assertValidation(await patch({ public_url: 'https://app.example.test/a b' }), 'public_url');
    assertValidation(await patch({ mail_from: 'not an address' }), 'mail_from');
    assertValidation(await patch({ mail_from: 'App <a@b.test>\r\nBcc: victim@evil.test' }), 'mail_from');
    const partial = await patch({ mail_templates: { password_reset: { subject: 'only a subject' } } });
    assertProblem(partial, 422, 'validation_failed');
    assert.ok(fieldErrors(partial).every((f) => f.startsWith('mail_templates.password_reset.')), `${fieldErrors(partial)}`);
    const now = await server.request('GET', '/v1/project', { token: admin.token });
    assert.equal(now.body.public_url, null, 'nothing was stored');
  });

  test('a user value with a line break cannot add a header to the mail', async () => {
    const admin = await apiKeyToken(server, 'projects:manage');
    const template = { subject: 'Reset for {{user.full_name}}', text: 'Go to {{link}}', html: '<a href="{{link}}">reset</a>' };
    const set = await server.request('PATCH', '/v1/project', { token: admin.token, json: { mail_templates: { password_reset: template } } });
    assert.equal(set.status, 200, set.text);
    try {
      const email = uniqueEmail('crlf');
      const res = await server.request('POST', '/v1/auth/signup', {
        json: { email, password: PASSWORD, full_name: 'Mallory\r\nBcc: victim@evil.test\r\nX-Injected: yes' },
      });
      if (res.status !== 201) {
        assertValidation(res, 'full_name'); // refused outright: nothing to inject
        return;
      }
      assert.equal((await requestReset(server, email)).status, 202);
      const [m] = await waitForMailTo(email);
      assert.deepEqual(m.to, [email], 'no extra recipient');
      assert.equal(m.headers.bcc, undefined, 'no Bcc header');
      assert.equal(m.headers['x-injected'], undefined, 'no injected header');
      assert.deepEqual(lintMessage(m.raw), []);
      assert.ok(m.subject.startsWith('Reset for Mallory'), m.subject);
    } finally {
      const restore = await server.request('PATCH', '/v1/project', { token: admin.token, json: { mail_templates: { password_reset: null } } });
      assert.equal(restore.status, 200, restore.text);
    }
  });
});

describe('[mail] mode = "log" (the default)', () => {
  test('the mail is written to <data_dir>/mail/<delivery id>.eml and logged, with a working link', async () => {
    const logServer = await startOther({ ...FAST_EVENTS_ENV });
    const { email, token } = await signUp(logServer);
    assert.equal((await requestReset(logServer, email)).status, 202);
    const [m] = await eventually(() => {
      const files = mailFilesTo(logServer.dataDir, email);
      return files.length > 0 ? files : false;
    }, { timeoutMs: 15_000, what: `a .eml file for ${email}` });
    assert.match(m.id, UUID_V7, 'the file is named after the delivery id');
    assert.equal(m.messageId, `<${m.id}@tessera>`);
    assert.ok(m.date && !Number.isNaN(Date.parse(m.date)));
    assert.equal(m.contentType, 'multipart/alternative');
    assert.deepEqual(lintMessage(m.raw), []);
    const link = findLink(m.text);
    assert.ok(link, m.text);
    assert.match(link.token, RESET_TOKEN);
    assert.ok(m.html.includes(link.token));

    // The log names the recipient and the link.
    const logged = logServer.logs().filter((e) => JSON.stringify(e).includes(link.token));
    assert.ok(logged.length > 0, 'the link is in the log');
    assert.ok(logged.some((e) => JSON.stringify(e).includes(email)), 'with the recipient');
    await assertSecretErased(logServer, link.token);

    assert.equal((await confirmReset(logServer, link.token, NEW_PASSWORD)).status, 204);
    assertProblem(await getMe(token, logServer), 401, 'invalid_token');
    assert.equal((await logIn(logServer, { email, password: NEW_PASSWORD })).status, 200);
    assert.equal(link.url.origin, logServer.url, 'without a public_url the link goes to the listen address');
  });
});
