// The outbox survives a crash (docs/events.md, "Events and the outbox"): a webhook POST and a mail that
// could not be delivered yet (receiver and mail server down) are in the database; after kill -9 and a
// restart they are delivered, once each, and the reset link in the mail works.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { metricValue, startServer } from '../support/server.mjs';
import { PASSWORD, assertProblem, logIn, signUp } from '../support/api.mjs';
import { startSmtpSink } from '../support/smtp.mjs';
import { startWebhookReceiver } from '../support/webhooks.mjs';
import { findLink } from '../support/mime.mjs';
import { FAST_EVENTS_ENV, apiKeyToken, confirmReset, grace, requestReset, waitForDeliveries } from '../support/events.mjs';

const closers = [];
after(async () => {
  for (const c of closers.reverse()) await c.close();
});

async function outboxPending(server) {
  const res = await server.request('GET', '/metrics');
  return metricValue(res.text, 'tessera_outbox_pending');
}

const aboutUser = (id) => (r) => r.json?.data?.user?.id === id || r.json?.data?.user_id === id;

describe('crash with undelivered events', () => {
  test('webhook and mail pending while their targets are down survive kill -9 and arrive once after the restart', async () => {
    // Both targets have a port but are down.
    const rx = await startWebhookReceiver({ start: false });
    closers.push(rx);
    const smtp = await startSmtpSink({ start: false });
    closers.push(smtp);
    const server = await startServer({
      env: { ...FAST_EVENTS_ENV, ...smtp.env, TESSERA_EVENTS_MAX_ATTEMPTS: '100', TESSERA_ACCOUNT_REQUESTS_PER_IP: '10000' },
    });
    closers.push(server);
    const key = await apiKeyToken(server, 'webhooks:manage');
    const created = await server.request('POST', '/v1/webhooks', {
      token: key.token,
      json: { url: rx.url, events: ['user.created', 'password.reset_requested'] },
    });
    assert.equal(created.status, 201, created.text);
    const wh = created.body;
    rx.setSecret(wh.secret);

    const { user, email, token } = await signUp(server);
    assert.equal((await requestReset(server, email)).status, 202);

    // user.created has failed at least once; password.reset_requested exists, so the reset token and
    // its mail (queued in the same transaction) are committed too.
    const before = await waitForDeliveries(
      server,
      key.token,
      wh.id,
      (xs) =>
        // attempts counts an attempt when it starts; last_error appears once its failure is recorded.
        xs.some((d) => d.event_type === 'user.created' && d.status === 'pending' && d.last_error) &&
        xs.some((d) => d.event_type === 'password.reset_requested' && d.last_error),
      { timeoutMs: 15_000 },
    );
    for (const d of before) {
      assert.equal(d.status, 'pending');
      assert.ok(d.last_error, `a connection error is recorded: ${JSON.stringify(d)}`);
      assert.equal(d.response_status, null);
    }
    // Two webhook POSTs and the mail wait; /metrics shows them.
    assert.ok((await outboxPending(server)) >= 3);

    await server.kill();
    assert.equal(server.exitSignal, 'SIGKILL');
    await rx.start();
    await smtp.start();
    await server.restart();

    const [hook] = await rx.waitFor((r) => r.json?.type === 'user.created' && aboutUser(user.id)(r), { timeoutMs: 30_000 });
    const [requested] = await rx.waitFor((r) => r.json?.type === 'password.reset_requested' && aboutUser(user.id)(r), { timeoutMs: 30_000 });
    const [mail] = await smtp.waitForMessages(1, { filter: (m) => m.to.includes(email), timeoutMs: 30_000 });
    assert.ok(hook.signature.valid, hook.signature.reason);
    assert.ok(hook.attempt >= 2, `the attempt count survived the restart (attempt ${hook.attempt})`);
    assert.equal(hook.deliveryId, before.find((d) => d.event_type === 'user.created').id, 'the delivery id of the row before the crash');
    assert.equal(requested.deliveryId, before.find((d) => d.event_type === 'password.reset_requested').id);

    // A few more retry periods: nothing arrives twice.
    await grace(3000);
    assert.equal(await outboxPending(server), 0);
    assert.equal(rx.matching((r) => r.json?.type === 'user.created' && aboutUser(user.id)(r)).length, 1, 'one user.created');
    assert.equal(rx.matching((r) => r.json?.type === 'password.reset_requested' && aboutUser(user.id)(r)).length, 1);
    assert.equal(smtp.messages().filter((m) => m.to.includes(email)).length, 1, 'one mail');

    const after = await waitForDeliveries(server, key.token, wh.id, (xs) => xs.length >= 2 && xs.every((d) => d.status === 'delivered'));
    for (const d of after) {
      assert.equal(d.response_status, 200);
      assert.ok(d.attempts >= 2);
    }

    // The link from the mail works after the crash.
    const link = findLink(mail.text);
    assert.ok(link, mail.text);
    assert.equal((await confirmReset(server, link.token, 'after the crash')).status, 204);
    assertProblem(await server.request('GET', '/v1/me', { token }), 401, 'invalid_token');
    assert.equal((await logIn(server, { email, password: 'after the crash' })).status, 200);
    assertProblem(await logIn(server, { email, password: PASSWORD }), 401, 'invalid_credentials');
  });

  test('a crash while a POST is in flight (sent, outcome not recorded): sent again with the same ids', async () => {
    const rx = await startWebhookReceiver();
    closers.push(rx);
    // The first request never gets an answer before the crash.
    rx.respondWith((r) => (r.index === 0 ? { status: 200, delayMs: 30_000 } : 200));
    const server = await startServer({ env: { ...FAST_EVENTS_ENV } });
    closers.push(server);
    const key = await apiKeyToken(server, 'webhooks:manage');
    const created = await server.request('POST', '/v1/webhooks', { token: key.token, json: { url: rx.url, events: ['user.created'] } });
    assert.equal(created.status, 201, created.text);
    rx.setSecret(created.body.secret);

    const { user } = await signUp(server);
    const [first] = await rx.waitFor(aboutUser(user.id));
    await server.kill();
    await server.restart();
    const reqs = await rx.waitFor(aboutUser(user.id), { count: 2, timeoutMs: 30_000 });
    assert.equal(reqs[1].deliveryId, first.deliveryId, 'the same delivery id');
    assert.equal(reqs[1].eventId, first.eventId, 'the same event id');
    assert.equal(reqs[1].raw, first.raw, 'the same body');
    assert.ok(reqs[1].signature.valid, reqs[1].signature.reason);
    await waitForDeliveries(server, key.token, created.body.id, (xs) => xs.length === 1 && xs[0].status === 'delivered');
  });

  test('an event acknowledged right before kill -9 is delivered after the restart (at least once, same ids)', async () => {
    const rx = await startWebhookReceiver();
    closers.push(rx);
    const server = await startServer({ env: { ...FAST_EVENTS_ENV } });
    closers.push(server);
    const key = await apiKeyToken(server, 'webhooks:manage');
    const created = await server.request('POST', '/v1/webhooks', { token: key.token, json: { url: rx.url, events: ['user.created'] } });
    assert.equal(created.status, 201, created.text);
    rx.setSecret(created.body.secret);

    const users = [];
    for (let i = 0; i < 5; i++) users.push((await signUp(server)).user);
    await server.kill(); // no pause after the acknowledgements
    await server.restart();

    for (const u of users) {
      const reqs = await rx.waitFor(aboutUser(u.id), { timeoutMs: 30_000 });
      assert.ok(reqs.every((r) => r.signature.valid));
      assert.equal(new Set(reqs.map((r) => r.deliveryId)).size, 1, 'every copy has the same delivery id');
      assert.equal(new Set(reqs.map((r) => r.eventId)).size, 1, 'and the same event id');
    }
  });
});
