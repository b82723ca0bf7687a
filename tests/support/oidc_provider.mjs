// A real OpenID Connect provider (the `oidc-provider` package) for the end-to-end tests of external
// sign-in (docs/external.md): discovery, JWKS, authorization code flow with PKCE (S256, required),
// client_secret_basic at the token endpoint, user-info, RS256 ID tokens by default.
//
//   import { startOidcProvider } from '../support/oidc_provider.mjs';
//   const op = await startOidcProvider();                      // http://127.0.0.1:<free port>
//   op.addClient({ client_id: 'tessera', client_secret: 's3cret', redirect_uris: [callbackUrl] });
//   const alice = op.addAccount({ email: 'alice@example.com' }); // { sub, email, email_verified, name }
//   ...
//   await op.rotateKeys();   // same port and issuer, new signing key (new kid)
//   await op.stop(); await op.start();
//   const { id_token } = await op.tokenFor(op.secondClient.client_id, alice.sub, { nonce: 'n' });
//   await op.close();        // in an after() hook
//
// Clients are looked up through the adapter, so clients added or changed after start() apply at once
// (no restart). Provider state (interactions, sessions, grants, codes) lives in this object and survives
// stop()/start()/rotateKeys().
//
// The login and consent pages are minimal: GET /interaction/:uid answers a form (field `login`: an
// account's sub or email) posted to /interaction/:uid/login, and a second form posted to
// /interaction/:uid/abort (the user refuses: the provider redirects back with error=access_denied).
// Consent is granted automatically for whatever the client asked. Drive them with support/browser.mjs.
//
// Knobs that apply at once: `idTokenTTL` (seconds, ≥ 1), `tokenDelayMs` (the token endpoint answers this
// much later, after the tokens were minted: a slow network or a slow provider). `requests` records
// every request the provider received ({method, path, auth: the Authorization scheme or null}).

import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, decodeJwt } from 'jose';
import Provider from 'oidc-provider';

import { freePort, listenTracked } from './ports.mjs';
import { Browser } from './browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The ID token signing algorithms this helper can make keys for.
const KEY_TYPES = { RS256: 'RS256', PS256: 'PS256', ES256: 'ES256', ES384: 'ES384', EdDSA: 'Ed25519' };

export async function makeSigningKey(alg = 'RS256') {
  if (!(alg in KEY_TYPES)) throw new Error(`unsupported ID token algorithm ${alg}`);
  const { privateKey } = await generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k-${randomBytes(6).toString('base64url')}`, use: 'sig', alg };
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class OidcTestProvider {
  constructor({
    port,
    host = '127.0.0.1',
    alg = 'RS256',
    idTokenTTL = 600,
    claimsInIdToken = true,
    clients = [],
    accounts = [],
  } = {}) {
    this.host = host;
    this.port = port;
    this.alg = alg;
    this.idTokenTTL = idTokenTTL;
    this.tokenDelayMs = 0;
    // false: the ID token of the code flow carries only sub (and the protocol claims); email and name
    // come from the user-info endpoint (oidc-provider's conformIdTokenClaims). Applies at the next start().
    this.claimsInIdToken = claimsInIdToken;
    this.clients = new Map();
    this.accounts = new Map();
    this.requests = [];
    this.errors = [];
    this.keys = [];
    this.cookieKeys = [randomBytes(32).toString('base64url')];
    this.store = new Map(); // adapter storage: `${model}:${id}` -> { payload, expiresAt }
    this.provider = null;
    this.server = null;
    this.sockets = new Set();
    for (const c of clients) this.addClient(c);
    for (const a of accounts) this.addAccount(a);
    // A second client, for ID tokens with another audience (tokenFor). Its redirect URI is never fetched.
    this.secondClient = this.addClient({
      client_id: `second-${randomBytes(4).toString('hex')}`,
      client_secret: randomBytes(24).toString('base64url'),
      redirect_uris: ['http://127.0.0.1:9/second/callback'],
    });
  }

  get issuer() {
    return `http://${this.host}:${this.port}`;
  }

  get running() {
    return this.server !== null;
  }

  // The public keys as the JWKS endpoint serves them.
  get publicJwks() {
    return {
      keys: this.keys.map(({ kty, kid, use, alg, n, e, crv, x, y }) =>
        Object.fromEntries(Object.entries({ kty, kid, use, alg, n, e, crv, x, y }).filter(([, v]) => v !== undefined)),
      ),
    };
  }

  // Adds or replaces a client (confidential, client_secret_basic, code flow). Applies at once.
  addClient({ client_id, client_secret, redirect_uris = [], ...extra }) {
    if (!client_id) throw new Error('client_id is required');
    const client = {
      client_id,
      client_secret: client_secret ?? randomBytes(24).toString('base64url'),
      redirect_uris: [...redirect_uris],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: this.alg,
      ...extra,
    };
    this.clients.set(client_id, client);
    return client;
  }

  addRedirectUri(clientId, uri) {
    const client = this.clients.get(clientId);
    if (!client) throw new Error(`no client ${clientId}`);
    if (!client.redirect_uris.includes(uri)) client.redirect_uris.push(uri);
    return client;
  }

  // Adds (or replaces) an account; returns it. Defaults: a fresh sub, a verified unique email, a name.
  addAccount({ sub, email, email_verified = true, name, ...extra } = {}) {
    const id = sub ?? `acct-${randomUUID()}`;
    const account = {
      sub: id,
      email: email === undefined ? `${id}@idp.example.com` : email,
      email_verified,
      name: name === undefined ? `User ${id.slice(-6)}` : name,
      ...extra,
    };
    this.accounts.set(id, account);
    return account;
  }

  findAccountByLogin(login) {
    if (this.accounts.has(login)) return this.accounts.get(login);
    for (const a of this.accounts.values()) if (a.email && a.email.toLowerCase() === String(login).toLowerCase()) return a;
    return undefined;
  }

  #makeAdapter() {
    const store = this.store;
    const clients = this.clients;
    return class MapAdapter {
      constructor(name) {
        this.name = name;
      }
      key(id) {
        return `${this.name}:${id}`;
      }
      get(key) {
        const entry = store.get(key);
        if (!entry) return undefined;
        if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
          store.delete(key);
          return undefined;
        }
        return entry.payload;
      }
      async upsert(id, payload, expiresIn) {
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : null;
        store.set(this.key(id), { payload, expiresAt });
        if (payload.uid) store.set(`${this.name}:uid:${payload.uid}`, { payload: id, expiresAt });
        if (payload.userCode) store.set(`${this.name}:userCode:${payload.userCode}`, { payload: id, expiresAt });
        if (payload.grantId) {
          const gk = `grant:${payload.grantId}`;
          const members = store.get(gk)?.payload ?? [];
          members.push(this.key(id));
          store.set(gk, { payload: members, expiresAt: null });
        }
      }
      async find(id) {
        if (this.name === 'Client') {
          const c = clients.get(id);
          // A copy with fresh arrays: the provider hashes it to notice changes.
          return c ? JSON.parse(JSON.stringify(c)) : undefined;
        }
        return this.get(this.key(id));
      }
      async findByUid(uid) {
        const id = this.get(`${this.name}:uid:${uid}`);
        return id === undefined ? undefined : this.find(id);
      }
      async findByUserCode(userCode) {
        const id = this.get(`${this.name}:userCode:${userCode}`);
        return id === undefined ? undefined : this.find(id);
      }
      async consume(id) {
        const payload = this.get(this.key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      }
      async destroy(id) {
        store.delete(this.key(id));
      }
      async revokeByGrantId(grantId) {
        const gk = `grant:${grantId}`;
        for (const k of store.get(gk)?.payload ?? []) store.delete(k);
        store.delete(gk);
      }
    };
  }

  #buildProvider() {
    const self = this;
    const provider = new Provider(this.issuer, {
      adapter: this.#makeAdapter(),
      jwks: { keys: this.keys },
      cookies: { keys: this.cookieKeys },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      conformIdTokenClaims: !this.claimsInIdToken,
      clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
      enabledJWA: { idTokenSigningAlgValues: Object.keys(KEY_TYPES) },
      pkce: { required: () => true },
      features: {
        devInteractions: { enabled: false },
        userinfo: { enabled: true },
      },
      interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (ctx, id) => {
        const account = self.accounts.get(id);
        if (!account) return undefined;
        return {
          accountId: id,
          claims: () => {
            const out = { sub: id };
            for (const k of ['email', 'email_verified', 'name']) if (account[k] !== undefined && account[k] !== null) out[k] = account[k];
            return out;
          },
        };
      },
      ttl: {
        IdToken: () => self.idTokenTTL,
        AccessToken: 600,
        AuthorizationCode: 120,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
      },
      renderError: (ctx, out) => {
        ctx.type = 'json';
        ctx.body = out;
      },
    });
    provider.use(async (ctx, next) => {
      const auth = ctx.get('authorization');
      self.requests.push({ method: ctx.method, path: ctx.path, auth: auth ? auth.split(' ')[0] : null });
      await next();
      if (ctx.path === '/token' && self.tokenDelayMs > 0) await sleep(self.tokenDelayMs);
    });
    for (const event of ['server_error', 'grant.error', 'authorization.error', 'userinfo.error']) {
      provider.on(event, (...args) => {
        const err = args.find((a) => a instanceof Error);
        self.errors.push({ event, message: err?.message, description: err?.error_description });
      });
    }
    return provider;
  }

  async #handleInteraction(req, res) {
    const provider = this.provider;
    const url = new URL(req.url, this.issuer);
    const m = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const [, uid, action] = m;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction uid mismatch');
    if (req.method === 'GET' && !action) {
      if (details.prompt.name === 'login') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          `<!doctype html><title>Sign in</title>` +
            `<form method="post" action="/interaction/${escapeHtml(uid)}/login">` +
            `<input name="login" autofocus><button type="submit">Sign in</button></form>` +
            `<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Cancel</button></form>`,
        );
        return;
      }
      if (details.prompt.name === 'consent') {
        // Grant whatever is missing, without asking.
        const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
        if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {}))
          grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      throw new Error(`unexpected prompt ${details.prompt.name}`);
    }
    if (req.method === 'POST' && action === 'login') {
      const form = new URLSearchParams(await readBody(req));
      const account = this.findAccountByLogin(form.get('login') ?? '');
      if (!account) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`no account ${form.get('login')}`);
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && action === 'abort') {
      await readBody(req);
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed');
  }

  // Starts listening on the same port (a free one picked the first time), same issuer.
  async start() {
    if (this.server) throw new Error('the provider is already running');
    if (this.port === undefined) this.port = await freePort(this.host);
    if (this.keys.length === 0) this.keys = [await makeSigningKey(this.alg)];
    this.provider = this.#buildProvider();
    const providerCallback = this.provider.callback();
    const server = http.createServer((req, res) => {
      // No keep-alive: a stopped or restarted provider leaves no pooled connection behind in a client.
      res.setHeader('connection', 'close');
      if (req.url.startsWith('/interaction/')) {
        this.#handleInteraction(req, res).catch((e) => {
          this.errors.push({ event: 'interaction', message: e.message });
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`interaction failed: ${e.message}`);
        });
      } else {
        providerCallback(req, res);
      }
    });
    await listenTracked(server, this.port, this.host, this.sockets);
    this.server = server;
    return this;
  }

  // Stops listening and drops every open connection (keep-alive ones included): the port refuses.
  async stop() {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  async restart() {
    await this.stop();
    return this.start();
  }

  // New signing key(s) with new kids, the old ones gone; restarts on the same port with the same issuer.
  async rotateKeys({ alg = this.alg } = {}) {
    this.alg = alg;
    for (const c of this.clients.values()) c.id_token_signed_response_alg = alg;
    this.keys = [await makeSigningKey(alg)];
    await this.restart();
    return this.keys[0].kid;
  }

  async close() {
    await this.stop();
  }

  // Drives the authorization code flow as client `clientId` for account `accountId` and redeems the
  // code: returns { id_token, access_token, claims (the ID token's payload), header }.
  async tokenFor(clientId, accountId, { nonce, scope = 'openid email profile', redirectUri } = {}) {
    const client = this.clients.get(clientId);
    if (!client) throw new Error(`no client ${clientId}`);
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    const redirect = redirectUri ?? client.redirect_uris[0];
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const auth = new URL('/auth', this.issuer);
    for (const [k, v] of Object.entries({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirect,
      scope,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }))
      if (v !== undefined) auth.searchParams.set(k, v);

    const browser = new Browser();
    const page = await browser.follow(auth.href, { stopAt: redirect });
    const done = page.stopped ? page : await browser.submitForm(page, { login: accountId }, { stopAt: redirect, action: /\/login$/ });
    if (!done.stopped) throw new Error(`the provider did not redirect to ${redirect}: ${done.status} ${done.text}`);
    const back = new URL(done.location);
    if (back.searchParams.get('error')) throw new Error(`provider error ${back.searchParams.get('error')}: ${back.searchParams.get('error_description')}`);
    if (back.searchParams.get('state') !== state) throw new Error('state mismatch');

    const res = await fetch(new URL('/token', this.issuer), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code'),
        redirect_uri: redirect,
        code_verifier: verifier,
      }),
    });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
    const header = JSON.parse(Buffer.from(body.id_token.split('.')[0], 'base64url').toString('utf8'));
    return { id_token: body.id_token, access_token: body.access_token, claims: decodeJwt(body.id_token), header };
  }
}

// Creates and starts a provider (see OidcTestProvider for the options).
export async function startOidcProvider(options = {}) {
  const op = new OidcTestProvider(options);
  await op.start();
  return op;
}
