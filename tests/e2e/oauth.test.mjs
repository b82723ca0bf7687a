// The authorization code flow with an OpenID Connect provider (docs/external.md, "The authorization
// code flow"), end to end against a real provider (oidc-provider, support/oidc_provider.mjs) driven by a
// small browser (support/browser.mjs): the start and its parameters, sign-up and sign-in through the
// callback, the one-time code and its exchange (with the application's PKCE), action=signin,
// link_by_email, the state and ID token checks (tampered or replayed state, wrong nonce, expired token,
// refused code, wrong client secret), a key rotation at the provider and other signing algorithms, the
// provider down or refusing, the redirect_allow_list (custom schemes too), user-info completion, and
// unlinking. Provider CRUD and POST /v1/auth/external have their own files (providers.test.mjs,
// external_auth.test.mjs); one test here checks the reference provider's tokens with a `jwt` provider.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import { sleep, startServer } from '../support/server.mjs';
import {
  PASSWORD,
  RFC3339_MICROS,
  assertIssuedSession,
  assertProblem,
  assertUserShape,
  assertValidation,
  eventually,
  logIn,
  signUp,
  uniqueEmail,
} from '../support/api.mjs';
import { apiKeyToken } from '../support/events.mjs';
import { Browser } from '../support/browser.mjs';
import { startOidcProvider } from '../support/oidc_provider.mjs';

const APP = 'https://app.example.test';
const REDIRECT = `${APP}/oauth/done`; // an exact entry of the allow-list
const PREFIX = `${APP}/cb/`; // a prefix entry
const CLIENT_ID = 'tessera-e2e';
const CLIENT_SECRET = randomBytes(24).toString('base64url');
// ID tokens live 1 s and the token endpoint answers 2.2 s after minting them: expired on arrival, with
// TESSERA_EXTERNAL_CLOCK_SKEW=0s.
const SHORT_TTL_S = 1;
const TOKEN_DELAY_MS = 2200;

let op; // the OpenID provider ("acme")
let opUserinfo; // a provider whose ID tokens carry only sub: the profile comes from user-info ("beta")
let server;
let admin; // every permission, project "default" (the only one: no `project` parameter needed)

const callbackUrl = (name) => `${server.url}/v1/auth/oauth/${name}/callback`;

async function createProvider(json) {
  const res = await server.request('POST', '/v1/providers', { token: admin, json });
  assert.equal(res.status, 201, `POST /v1/providers: ${res.status} ${res.text}`);
  return res.body;
}

// The body of POST /v1/providers for an oidc provider using the test client.
const oidcProvider = (name, issuer, secret = CLIENT_SECRET) => ({
  name,
  kind: 'oidc',
  issuer,
  client_id: CLIENT_ID,
  client_secret: secret,
  redirect_uri: callbackUrl(name),
});

async function patchProject(json) {
  const res = await server.request('PATCH', '/v1/project', { token: admin, json });
  assert.equal(res.status, 200, `PATCH /v1/project: ${res.status} ${res.text}`);
  return res.body;
}

before(async () => {
  op = await startOidcProvider();
  opUserinfo = await startOidcProvider({ claimsInIdToken: false });
  server = await startServer({
    env: {
      TESSERA_EXTERNAL_ALLOW_PRIVATE: 'true',
      TESSERA_EXTERNAL_JWKS_REFRESH_INTERVAL: '1s',
      TESSERA_EXTERNAL_CLOCK_SKEW: '0s',
      TESSERA_EXTERNAL_HTTP_TIMEOUT: '5s',
    },
  });
  admin = (await apiKeyToken(server, '*')).token;
  op.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [callbackUrl('acme'), callbackUrl('acme-badsecret')] });
  opUserinfo.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [callbackUrl('beta')] });
  await createProvider(oidcProvider('acme', op.issuer));
  await createProvider(oidcProvider('acme-badsecret', op.issuer, 'not-the-secret'));
  await createProvider(oidcProvider('beta', opUserinfo.issuer));
  const project = await patchProject({ redirect_allow_list: [REDIRECT, PREFIX], link_by_email: false });
  assert.deepEqual(project.redirect_allow_list, [REDIRECT, PREFIX]);
  assert.equal(project.link_by_email, false);
});
after(async () => {
  await server?.close();
  await op?.close();
  await opUserinfo?.close();
});

// Per test: things to undo afterwards (provider knobs, project settings, stopped providers).
let cleanup = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) {
    try {
      await fn();
    } catch {
      // best effort
    }
  }
  cleanup = [];
});

function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function startPath(provider, params = {}) {
  const q = new URLSearchParams(params).toString();
  return `/v1/auth/oauth/${provider}/start${q ? `?${q}` : ''}`;
}

// GET .../start: the 302 to the provider's authorization endpoint, as a URL.
async function start(provider = 'acme', params = {}) {
  const res = await server.request('GET', startPath(provider, params));
  assert.equal(res.status, 302, `start: ${res.status} ${res.text}`);
  return new URL(res.headers.get('location'));
}

// Starts a flow and runs it in a fresh browser through the provider's login (and automatic consent) up
// to the provider's redirect back to Tessera, which is not fetched. `tamper(url)` may change the
// authorization URL before the browser follows it. Returns { browser, authUrl, callback (a URL) }.
async function toCallback(account, { provider = 'acme', params = {}, tamper } = {}) {
  const authUrl = await start(provider, params);
  if (tamper) tamper(authUrl);
  const browser = new Browser();
  const cb = callbackUrl(provider);
  let page = await browser.follow(authUrl.href, { stopAt: cb });
  if (!page.stopped) page = await browser.submitForm(page, { login: account.sub }, { action: /\/login$/, stopAt: cb });
  assert.ok(page.stopped, `the provider sends the browser back to ${cb}: ${page.status} ${page.text}`);
  return { browser, authUrl, callback: new URL(page.location) };
}

// The browser at Tessera's callback: Tessera's answer (a redirect to the application is not followed).
function atCallback(flow, url = flow.callback) {
  return flow.browser.follow(url.href, { stopAt: APP });
}

// A whole flow: the callback's answer.
async function signIn(account, options) {
  return atCallback(await toCallback(account, options));
}

// A whole flow without redirect_to, expected to answer `status` (201 created, 200 existing) with JSON.
async function signInJson(account, status, options) {
  const res = await signIn(account, options);
  assert.equal(res.status, status, `callback: ${res.status} ${res.text}`);
  assert.deepEqual(Object.keys(res.body).sort(), ['session', 'user']);
  assertUserShape(res.body.user);
  assertIssuedSession(res.body.session);
  return { user: res.body.user, session: res.body.session, token: res.body.session.token };
}

// The redirect of the callback to the application: the target URL.
function appRedirect(res, base = REDIRECT) {
  assert.ok(res.stopped && res.status === 302, `a 302 to the application: ${res.status} ${res.location} ${res.text}`);
  const to = new URL(res.location);
  assert.equal(`${to.origin}${to.pathname}`, base);
  return to;
}

function exchange(code, codeVerifier) {
  const json = { code };
  if (codeVerifier !== undefined) json.code_verifier = codeVerifier;
  return server.request('POST', '/v1/auth/oauth/exchange', { json });
}

async function me(token) {
  const res = await server.request('GET', '/v1/me', { token });
  assert.equal(res.status, 200, `GET /v1/me: ${res.text}`);
  assertUserShape(res.body, { identities: true });
  return res.body;
}

// GET /v1/users/lookup?email=: the user, or null on 404.
async function lookupEmail(email) {
  const res = await server.request('GET', `/v1/users/lookup?email=${encodeURIComponent(email)}`, { token: admin });
  if (res.status === 404) return null;
  assert.equal(res.status, 200, res.text);
  return res.body;
}

function assertIdentity(identity, { provider, subject, email }) {
  assert.deepEqual(Object.keys(identity).sort(), ['created_at', 'email', 'provider', 'subject']);
  assert.equal(identity.provider, provider);
  assert.equal(identity.subject, subject);
  if (email !== undefined) assert.equal(identity.email, email);
  assert.match(identity.created_at, RFC3339_MICROS);
}

// The precise reason Tessera logged for refusing `res` ("request refused" with `internal`, docs/external.md:
// "the log says which check"), found by the response's request id.
async function refusalReason(res) {
  const id = res.headers.get('x-request-id');
  assert.ok(id, 'the answer has a request id');
  const entry = await eventually(() => server.logs().find((e) => e.request_id === id && typeof e.internal === 'string'), {
    timeoutMs: 3000,
    what: `the log line of request ${id}`,
  });
  return entry.internal;
}

// The errors oidc-provider reported (grant.error, authorization.error, ...) since `mark`.
const providerErrors = (provider, mark) => provider.errors.slice(mark).map((e) => e.message);

const account = (fields = {}) => op.addAccount({ email: uniqueEmail('oidc'), ...fields });

// ---- start ---------------------------------------------------------------------------------------------

describe('start', () => {
  test('302 to the authorization endpoint with response_type, client_id, redirect_uri, scope, state, nonce and an S256 challenge', async () => {
    const a = await start('acme');
    const b = await start('acme');
    const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(`${a.origin}${a.pathname}`, discovery.authorization_endpoint);
    const q = Object.fromEntries(a.searchParams);
    assert.equal(q.response_type, 'code');
    assert.equal(q.client_id, CLIENT_ID);
    assert.equal(q.redirect_uri, callbackUrl('acme'));
    assert.deepEqual(q.scope.split(' ').sort(), ['email', 'openid', 'profile'], 'the default scopes');
    assert.ok(q.state && q.state.length >= 16, `a random state: ${q.state}`);
    assert.ok(q.nonce && q.nonce.length >= 16, `a random nonce: ${q.nonce}`);
    assert.match(q.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(q.code_challenge_method, 'S256');
    for (const k of ['state', 'nonce', 'code_challenge'])
      assert.notEqual(b.searchParams.get(k), q[k], `a new ${k} for every flow`);
  });

  test('the start sets no cookie; a malformed code_challenge or action is refused', async () => {
    const res = await server.request('GET', startPath('acme', { redirect_to: REDIRECT, code_challenge: pkcePair().challenge }));
    assert.equal(res.status, 302, res.text);
    assert.deepEqual(res.setCookies, [], 'Tessera sets no cookie of its own during the flow');
    assertValidation(await server.request('GET', startPath('acme', { code_challenge: 'too-short' })), 'code_challenge');
    assertValidation(await server.request('GET', startPath('acme', { action: 'register' })), 'action');
  });

  test('mode=json answers 200 {url} instead of the redirect', async () => {
    const res = await server.request('GET', startPath('acme', { mode: 'json' }));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), ['url']);
    const url = new URL(res.body.url);
    assert.equal(`${url.origin}${url.pathname}`, `${op.issuer}/auth`);
    assert.equal(url.searchParams.get('client_id'), CLIENT_ID);
    assert.ok(url.searchParams.get('state'));
    assert.ok(url.searchParams.get('nonce'));
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  });

  test('an unknown provider, a disabled one or one of kind jwt: 404 provider_not_found', async () => {
    assertProblem(await server.request('GET', startPath('no-such-provider')), 404, 'provider_not_found');
    await createProvider({ name: 'acme-off', kind: 'oidc', issuer: op.issuer, client_id: CLIENT_ID, client_secret: 'x', enabled: false });
    assertProblem(await server.request('GET', startPath('acme-off')), 404, 'provider_not_found');
    await createProvider({ name: 'acme-jwt', kind: 'jwt', issuer: op.issuer, jwks_uri: `${op.issuer}/jwks`, audience: CLIENT_ID });
    assertProblem(await server.request('GET', startPath('acme-jwt')), 404, 'provider_not_found');
  });

  test('redirect_to must match the redirect_allow_list: else 422 naming redirect_to (not_allowed)', async () => {
    for (const ok of [REDIRECT, `${REDIRECT}?keep=1`, `${PREFIX}x`, `${PREFIX}deep/er?x=1`]) {
      const res = await server.request('GET', startPath('acme', { redirect_to: ok }));
      assert.equal(res.status, 302, `${ok}: ${res.status} ${res.text}`);
    }
    for (const bad of [
      'https://evil.example.test/oauth/done', // host
      'http://app.example.test/oauth/done', // scheme
      'https://app.example.test:8443/oauth/done', // port
      `${REDIRECT}/more`, // an exact entry's path is exact
      `${APP}/oauth/don`,
      `${APP}/cbx`, // the prefix entry ends in /
      `${APP}/cb`,
      `${PREFIX}../admin`, // dot segments
      `${PREFIX}x#fragment`,
      'https://user:pw@app.example.test/oauth/done',
      'not a url',
    ]) {
      const res = await server.request('GET', startPath('acme', { redirect_to: bad }));
      assertValidation(res, 'redirect_to:not_allowed');
    }
  });

  test('custom schemes follow the same rule; the code reaches the app through one', async () => {
    const APPSCHEME = 'com.example.app:/oauth';
    cleanup.push(() => patchProject({ redirect_allow_list: [REDIRECT, PREFIX] }));
    await patchProject({ redirect_allow_list: [REDIRECT, PREFIX, APPSCHEME, 'com.example.app:/cb/'] });
    for (const ok of [APPSCHEME, `${APPSCHEME}?x=1`, 'com.example.app:/cb/a'])
      assert.equal((await server.request('GET', startPath('acme', { redirect_to: ok }))).status, 302, ok);
    for (const bad of ['com.example.app:/oauth2', 'com.example.app:/oauth/x', 'com.other.app:/oauth', 'com.example.app:/cb', 'com.example.app:/cb/../x'])
      assertValidation(await server.request('GET', startPath('acme', { redirect_to: bad })), 'redirect_to:not_allowed');

    const flow = await toCallback(account(), { params: { redirect_to: APPSCHEME } });
    const res = await flow.browser.follow(flow.callback.href, { stopAt: 'com.example.app:' });
    assert.ok(res.stopped, `a redirect to the app: ${res.status} ${res.text}`);
    const to = new URL(res.location);
    assert.equal(`${to.protocol}${to.pathname}`, APPSCHEME);
    const ex = await exchange(to.searchParams.get('code'));
    assert.equal(ex.status, 201, ex.text);
  });
});

// ---- sign-up and sign-in -----------------------------------------------------------------------------

describe('sign-up and sign-in', () => {
  test('a new identity: redirect_to gets a one-time tso_ code; the exchange makes the user (no password) and a session', async () => {
    const acct = account({ name: 'Ada Lovelace' });
    const flow = await toCallback(acct, { params: { redirect_to: `${REDIRECT}?keep=1` } });
    // The browser went through the provider's login page.
    assert.ok(flow.browser.hops.some((h) => h.url.startsWith(`${op.issuer}/interaction/`)), 'an interaction at the provider');
    assert.equal(flow.callback.searchParams.get('state'), flow.authUrl.searchParams.get('state'));
    assert.ok(flow.callback.searchParams.get('code'));

    const res = await atCallback(flow);
    const to = appRedirect(res);
    assert.deepEqual(res.setCookies, [], 'Tessera sets no cookie of its own during the flow');
    assert.equal(to.searchParams.get('keep'), '1', 'the query of redirect_to is kept');
    const code = to.searchParams.get('code');
    assert.match(code ?? '', /^tso_[A-Za-z0-9_-]+$/);
    assert.deepEqual([...to.searchParams.keys()].sort(), ['code', 'keep'], 'only the code is added');
    assert.equal(await lookupEmail(acct.email).then((u) => u?.email), acct.email, 'the user exists from the callback on');

    // Tessera redeemed the provider's code with client_secret_basic.
    const tokenCalls = op.requests.filter((r) => r.path === '/token');
    assert.ok(tokenCalls.length > 0 && tokenCalls.at(-1).auth === 'Basic', JSON.stringify(tokenCalls));

    const ex = await exchange(code);
    assert.equal(ex.status, 201, `exchange: ${ex.status} ${ex.text}`);
    assert.deepEqual(Object.keys(ex.body).sort(), ['session', 'user']);
    assertUserShape(ex.body.user);
    assertIssuedSession(ex.body.session);
    assert.ok(ex.setCookies.some((c) => c.startsWith('tessera_session=')), 'the session cookie, as a password login');
    const { user, session } = ex.body;
    assert.equal(user.email, acct.email);
    assert.equal(user.email_verified, true, 'verified: the provider says so');
    assert.equal(user.full_name, 'Ada Lovelace');
    assert.equal(user.login, null);

    const profile = await me(session.token);
    assert.equal(profile.id, user.id);
    assert.equal(profile.identities.length, 1);
    assertIdentity(profile.identities[0], { provider: 'acme', subject: acct.sub, email: acct.email });

    // No password: a password login fails.
    assertProblem(await logIn(server, { email: acct.email }), 401, 'invalid_credentials');
    // The code is single use; an unknown one is the same error.
    assertProblem(await exchange(code), 400, 'invalid_code');
    assertProblem(await exchange(`tso_${randomBytes(32).toString('base64url')}`), 400, 'invalid_code');
    assertProblem(await exchange('nonsense'), 400, 'invalid_code');
  });

  test('email_verified false at the provider: the user email is unverified', async () => {
    const acct = account({ email_verified: false });
    const { user } = await signInJson(acct, 201);
    assert.equal(user.email, acct.email);
    assert.equal(user.email_verified, false);
  });

  test('without redirect_to the callback answers JSON: 201, then 200 for the same user; the session works', async () => {
    const acct = account();
    const first = await signInJson(acct, 201);
    assert.equal((await me(first.token)).id, first.user.id);
    const second = await signInJson(acct, 200);
    assert.equal(second.user.id, first.user.id);
    assert.notEqual(second.session.id, first.session.id, 'a new session');
    // Through redirect_to as well: the exchange answers 200 for an existing user.
    const res = await atCallback(await toCallback(acct, { params: { redirect_to: REDIRECT } }));
    const ex = await exchange(appRedirect(res).searchParams.get('code'));
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.body.user.id, first.user.id);
  });

  test('mode=json on the callback answers JSON even when the flow has a redirect_to', async () => {
    const acct = account();
    const flow = await toCallback(acct, { params: { redirect_to: REDIRECT } });
    const url = new URL(flow.callback);
    url.searchParams.set('mode', 'json');
    const res = await atCallback(flow, url);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.user.email, acct.email);
    assertIssuedSession(res.body.session);
  });

  test('the application PKCE: the code is exchanged only with the verifier of the start', async () => {
    const codeFor = async (challenge, acct) => {
      const res = await signIn(acct, { params: { redirect_to: `${PREFIX}app`, code_challenge: challenge } });
      return appRedirect(res, `${PREFIX}app`).searchParams.get('code');
    };
    const acct = account();
    const a = pkcePair();
    assertProblem(await exchange(await codeFor(a.challenge, acct)), 400, 'invalid_code');
    const b = pkcePair();
    assertProblem(await exchange(await codeFor(b.challenge, acct), pkcePair().verifier), 400, 'invalid_code');
    const c = pkcePair();
    const codeC = await codeFor(c.challenge, acct);
    const ok = await exchange(codeC, c.verifier);
    assert.equal(ok.status, 200, `the user was made by the first callback: ${ok.status} ${ok.text}`);
    assertIssuedSession(ok.body.session);
    assert.equal(ok.body.user.email, acct.email);
    assertProblem(await exchange(codeC, c.verifier), 400, 'invalid_code');
  });

  test('a code_challenge without redirect_to: the callback answers 200 {code}, exchanged with the verifier', async () => {
    const acct = account();
    const pkce = pkcePair();
    const res = await signIn(acct, { params: { code_challenge: pkce.challenge } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), ['code']);
    assert.match(res.body.code, /^tso_[A-Za-z0-9_-]+$/);
    assertProblem(await exchange(res.body.code), 400, 'invalid_code');

    const again = await signIn(acct, { params: { code_challenge: pkce.challenge } });
    assert.equal(again.status, 200, again.text);
    const ex = await exchange(again.body.code, pkce.verifier);
    assert.equal(ex.status, 200, `the first callback made the user: ${ex.status} ${ex.text}`);
    assert.equal(ex.body.user.email, acct.email);
    assertIssuedSession(ex.body.session);
  });

  test('action=signin never creates a user: 404 account_not_found; a known identity signs in', async () => {
    const acct = account();
    const res = await signIn(acct, { params: { action: 'signin' } });
    assertProblem(res, 404, 'account_not_found');
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');
    const made = await signInJson(acct, 201, { params: { action: 'signup' } });
    const again = await signInJson(acct, 200, { params: { action: 'signin' } });
    assert.equal(again.user.id, made.user.id);
  });

  test('an ID token without the email: the profile is completed from the user-info endpoint', async () => {
    const acct = opUserinfo.addAccount({ email: uniqueEmail('userinfo'), name: 'Info Only' });
    const { user, token } = await signInJson(acct, 201, { provider: 'beta' });
    assert.equal(user.email, acct.email);
    assert.equal(user.email_verified, true);
    assert.equal(user.full_name, 'Info Only');
    assert.ok(opUserinfo.requests.some((r) => r.path === '/me'), 'user-info was called');
    assertIdentity((await me(token)).identities[0], { provider: 'beta', subject: acct.sub, email: acct.email });
  });
});

// ---- linking by email ----------------------------------------------------------------------------------

describe('link_by_email', () => {
  // A local password user; verified through the admin API when asked.
  async function localUser(email, verified) {
    const { user, token } = await signUp(server, { email });
    if (verified) {
      const res = await server.request('PATCH', `/v1/users/${user.id}`, { token: admin, json: { email_verified: true } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.email_verified, true);
    }
    return { user, token };
  }

  function linkByEmail(on) {
    cleanup.push(() => patchProject({ link_by_email: false }));
    return patchProject({ link_by_email: on });
  }

  test('off (the default): a new identity whose email a user has is 409 identifier_taken naming email', async () => {
    const email = uniqueEmail('nolink');
    const local = await localUser(email, true);
    const res = await signIn(account({ email }));
    const body = assertProblem(res, 409, 'identifier_taken');
    assert.ok(body.errors?.some((e) => e.field === 'email' && e.code === 'taken'), res.text);
    assert.deepEqual((await me(local.token)).identities, [], 'nothing linked');
  });

  test('on, both emails verified: the identity is linked to the existing user, who signs in', async () => {
    await linkByEmail(true);
    const email = uniqueEmail('link');
    const local = await localUser(email, true);
    const acct = account({ email });
    const res = await signIn(acct);
    assert.equal(res.status, 200, `an existing user: ${res.status} ${res.text}`);
    assert.equal(res.body.user.id, local.user.id);
    const ids = (await me(local.token)).identities;
    assert.equal(ids.length, 1);
    assertIdentity(ids[0], { provider: 'acme', subject: acct.sub });
    // Linked for good: the next login finds the identity.
    assert.equal((await signInJson(acct, 200)).user.id, local.user.id);
  });

  test('on, but the local email is unverified: no link, 409 identifier_taken', async () => {
    await linkByEmail(true);
    const email = uniqueEmail('unverified-local');
    const local = await localUser(email, false);
    assertProblem(await signIn(account({ email })), 409, 'identifier_taken');
    assert.deepEqual((await me(local.token)).identities, []);
  });

  test('on, but the provider says the email is unverified: no link, 409 identifier_taken', async () => {
    await linkByEmail(true);
    const email = uniqueEmail('unverified-idp');
    const local = await localUser(email, true);
    assertProblem(await signIn(account({ email, email_verified: false })), 409, 'identifier_taken');
    assert.deepEqual((await me(local.token)).identities, []);
  });
});

// ---- state and ID token checks -------------------------------------------------------------------------

describe('state and ID token checks', () => {
  test('a tampered state: 400 invalid_state (no redirect, even with redirect_to); the genuine one still works', async () => {
    const acct = account();
    const flow = await toCallback(acct, { params: { redirect_to: REDIRECT } });
    const forged = new URL(flow.callback);
    const state = forged.searchParams.get('state');
    forged.searchParams.set('state', `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`);
    assertProblem(await atCallback(flow, forged), 400, 'invalid_state');
    const noState = new URL(flow.callback);
    noState.searchParams.delete('state');
    const missing = await atCallback(flow, noState);
    assert.equal(missing.status, 400, missing.text);
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');
    appRedirect(await atCallback(flow));
  });

  test('a replayed callback: 400 invalid_state', async () => {
    const flow = await toCallback(account());
    const first = await atCallback(flow);
    assert.equal(first.status, 201, first.text);
    assertProblem(await atCallback(flow), 400, 'invalid_state');
  });

  test("another provider's state: 400 invalid_state", async () => {
    const flow = await toCallback(account());
    const elsewhere = new URL(`${callbackUrl('beta')}${flow.callback.search}`);
    assertProblem(await atCallback(flow, elsewhere), 400, 'invalid_state');
  });

  test('a nonce changed on the way to the provider: 401 invalid_external_token; with redirect_to, error= on the redirect', async () => {
    const tamper = (url) => url.searchParams.set('nonce', `${url.searchParams.get('nonce')}x`);
    const acct = account();
    const res = await signIn(acct, { tamper });
    assertProblem(res, 401, 'invalid_external_token');
    assert.match(await refusalReason(res), /nonce/i, 'the nonce check failed');
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');

    const redirected = await signIn(acct, { tamper, params: { redirect_to: REDIRECT } });
    assert.match(await refusalReason(redirected), /nonce/i, 'the nonce check failed');
    const to = appRedirect(redirected);
    assert.equal(to.searchParams.get('error'), 'invalid_external_token');
    assert.ok(to.searchParams.get('error_description'), 'an error_description');
    assert.equal(to.searchParams.get('code'), null);
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');
  });

  test('an ID token expired when it arrives: 401 invalid_external_token', async () => {
    // oidc-provider stamps iat/exp itself at the token endpoint (TTL at least 1 s) and offers no way to
    // backdate them; so the token lives 1 s and the token endpoint answers 2.2 s after minting it. With
    // TESSERA_EXTERNAL_CLOCK_SKEW=0s it is expired by then.
    op.idTokenTTL = SHORT_TTL_S;
    op.tokenDelayMs = TOKEN_DELAY_MS;
    cleanup.push(() => {
      op.idTokenTTL = 600;
      op.tokenDelayMs = 0;
    });
    const acct = account();
    const flow = await toCallback(acct);
    const res = await atCallback(flow);
    assertProblem(res, 401, 'invalid_external_token');
    assert.match(await refusalReason(res), /exp/i, 'the exp check failed');
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');
    // The same delay with a normal lifetime is fine: the delay alone is not the cause.
    op.idTokenTTL = 600;
    const ok = await signIn(acct);
    assert.equal(ok.status, 201, ok.text);
  });

  test('a code the token endpoint refuses: 401 invalid_external_token', async () => {
    const acct = account();
    const flow = await toCallback(acct);
    const forged = new URL(flow.callback);
    forged.searchParams.set('code', randomBytes(32).toString('base64url'));
    const mark = op.errors.length;
    assertProblem(await atCallback(flow, forged), 401, 'invalid_external_token');
    assert.ok(providerErrors(op, mark).includes('invalid_grant'), `the provider refused the code: ${providerErrors(op, mark)}`);
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');
  });

  test('a wrong client secret: the token endpoint refuses, 401 invalid_external_token', async () => {
    const acct = account();
    const mark = op.errors.length;
    assertProblem(await signIn(acct, { provider: 'acme-badsecret' }), 401, 'invalid_external_token');
    assert.ok(providerErrors(op, mark).includes('invalid_client'), `the provider refused the client: ${providerErrors(op, mark)}`);
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');
  });

  test('a key rotation at the provider: the new kid makes Tessera refetch the JWKS', async () => {
    const acct = account();
    const first = await signInJson(acct, 201);
    const before = op.publicJwks.keys.map((k) => k.kid);
    const kid = await op.rotateKeys();
    assert.ok(!before.includes(kid));
    await sleep(1100); // past TESSERA_EXTERNAL_JWKS_REFRESH_INTERVAL since any earlier fetch
    const jwksFetches = () => op.requests.filter((r) => r.path === '/jwks').length;
    const fetched = jwksFetches();
    const again = await signInJson(acct, 200);
    assert.equal(again.user.id, first.user.id);
    assert.equal(jwksFetches(), fetched + 1, 'the unknown kid made Tessera fetch the JWKS once');
    await signInJson(account(), 201);
  });

  test('ID tokens signed with PS256, ES256, ES384 or EdDSA keys verify as well', async () => {
    for (const alg of ['PS256', 'ES256', 'ES384', 'EdDSA']) {
      const other = await startOidcProvider({ alg });
      cleanup.push(() => other.close());
      const name = `alg-${alg.toLowerCase()}`;
      other.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [callbackUrl(name)] });
      await createProvider(oidcProvider(name, other.issuer));
      const acct = other.addAccount({ email: uniqueEmail(name) });
      const { user, token } = await signInJson(acct, 201, { provider: name });
      assert.equal(user.email, acct.email, alg);
      assertIdentity((await me(token)).identities[0], { provider: name, subject: acct.sub });
    }
  });
});

// ---- the provider down or refusing ---------------------------------------------------------------------

describe('provider errors', () => {
  test('the user refusing at the provider: 401 provider_denied; with redirect_to, error=provider_denied', async () => {
    const refuse = async (params) => {
      const authUrl = await start('acme', params);
      const browser = new Browser();
      const page = await browser.follow(authUrl.href, { stopAt: callbackUrl('acme') });
      const back = await browser.submitForm(page, {}, { action: /\/abort$/, stopAt: callbackUrl('acme') });
      assert.ok(back.stopped, back.text);
      const cb = new URL(back.location);
      assert.equal(cb.searchParams.get('error'), 'access_denied');
      assert.equal(cb.searchParams.get('code'), null);
      return browser.follow(cb.href, { stopAt: APP });
    };
    const tokenCalls = op.requests.filter((r) => r.path === '/token').length;
    assertProblem(await refuse({}), 401, 'provider_denied');
    const to = appRedirect(await refuse({ redirect_to: REDIRECT }));
    assert.equal(to.searchParams.get('error'), 'provider_denied');
    assert.ok(to.searchParams.get('error_description'));
    assert.equal(to.searchParams.get('code'), null);
    assert.equal(op.requests.filter((r) => r.path === '/token').length, tokenCalls, 'no code to redeem');
  });

  test('the provider down at the callback: 502 provider_unavailable and nothing created', async () => {
    const acct = account();
    const flow = await toCallback(acct);
    await op.stop();
    cleanup.push(() => (op.running ? undefined : op.start()));
    assertProblem(await atCallback(flow), 502, 'provider_unavailable');
    assert.equal(await lookupEmail(acct.email), null, 'nothing created');

    // Back up: a new flow works.
    await op.start();
    const ok = await signIn(acct);
    assert.equal(ok.status, 201, ok.text);
  });

  test('the provider down at the start (discovery fails): 502 provider_unavailable; up again, the start works', async () => {
    const down = await startOidcProvider();
    cleanup.push(() => down.close());
    down.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [callbackUrl('down')] });
    await createProvider(oidcProvider('down', down.issuer));
    await down.stop();
    assertProblem(await server.request('GET', startPath('down')), 502, 'provider_unavailable');
    assertProblem(await server.request('GET', startPath('down', { mode: 'json' })), 502, 'provider_unavailable');
    await down.start();
    const url = await start('down');
    assert.equal(`${url.origin}${url.pathname}`, `${down.issuer}/auth`);
  });
});

// ---- identities ----------------------------------------------------------------------------------------

describe('identities', () => {
  test('the only way in cannot be unlinked (409 last_login_method); with a password set it can (204)', async () => {
    const acct = account();
    const { token } = await signInJson(acct, 201);
    assertProblem(await server.request('DELETE', '/v1/me/identities/acme', { token }), 409, 'last_login_method');
    assertProblem(await server.request('DELETE', '/v1/me/identities/beta', { token }), 404, 'identity_not_found');
    assert.equal((await me(token)).identities.length, 1, 'still linked');

    const set = await server.request('PATCH', '/v1/me', { token, json: { password: PASSWORD } });
    assert.equal(set.status, 200, set.text);
    const del = await server.request('DELETE', '/v1/me/identities/acme', { token });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual((await me(token)).identities, []);
    assertProblem(await server.request('DELETE', '/v1/me/identities/acme', { token }), 404, 'identity_not_found');
    assert.equal((await logIn(server, { email: acct.email })).status, 200, 'the password works');
    // The identity is gone: the same provider account is new again, and its email is taken.
    assertProblem(await signIn(acct), 409, 'identifier_taken');
  });
});

// ---- the reference provider's ID tokens for POST /v1/auth/external ------------------------------------

describe('tokenFor', () => {
  test("a jwt provider accepts the provider's ID token for its audience and refuses one for another client", async () => {
    await createProvider({ name: 'acme-idtoken', kind: 'jwt', issuer: op.issuer, jwks_uri: `${op.issuer}/jwks`, audience: op.secondClient.client_id });
    const acct = account({ name: 'Token Holder' });
    const mine = await op.tokenFor(op.secondClient.client_id, acct.sub, { nonce: 'n-1' });
    assert.equal(mine.claims.aud, op.secondClient.client_id);
    assert.equal(mine.header.alg, 'RS256');
    const res = await server.request('POST', '/v1/auth/external', { json: { provider: 'acme-idtoken', token: mine.id_token } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.user.email, acct.email);
    assert.equal(res.body.user.full_name, 'Token Holder');

    const other = await op.tokenFor(CLIENT_ID, account().sub);
    assert.equal(other.claims.aud, CLIENT_ID);
    const refused = await server.request('POST', '/v1/auth/external', { json: { provider: 'acme-idtoken', token: other.id_token } });
    assertProblem(refused, 401, 'invalid_external_token');
    assert.match(await refusalReason(refused), /aud/i, 'the audience check failed');
    const wrongKind = await server.request('POST', '/v1/auth/external', { json: { provider: 'acme', token: mine.id_token } });
    assertValidation(wrongKind, 'provider:wrong_kind');
  });
});
