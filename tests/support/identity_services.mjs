// Loopback stand-ins for the external systems of docs/external.md, for the end-to-end tests:
//
//   JwksHost        a key set at /jwks.json and a signer of ID tokens (the `jwt` kind: Firebase, any issuer)
//   CustomIdp       the `verify_url` kind: POST /verify {token, provider, project_id} answered from a table
//   FakeGitHub      the `github` kind: OAuth authorize / access_token, GET /user and /user/emails
//
// Each listens on 127.0.0.1 (a port given, else a free one), records every request, and can stop and
// start again on the same port (to play a provider that is down):
//
//   const keys = await startJwksHost({ alg: 'RS256', audience: 'my-app' });
//   POST /v1/providers { name, kind: 'jwt', issuer: keys.issuer, jwks_uri: keys.jwksUri, audience: keys.audience }
//   const token = await keys.sign({ sub: 'u1', email: 'a@b.test', email_verified: true });
//   keys.fetches                       // GETs of /jwks.json so far
//   await keys.rotate();               // a new key (new kid) signs from now on; the old one is dropped
//   await keys.stop(); await keys.start();
//
//   const idp = await startCustomIdp({ secret: 's3cret' });
//   idp.respond('tok-1', { body: { id: 'u-1', email: 'a@b.test' } });   // or { status: 401 }, { delayMs }
//   idp.mode = 'non-json' | 'error500' | null;
//   idp.requests[0].json, idp.requests[0].authorized
//
//   const gh = await startFakeGitHub({ clientId, clientSecret, user: { id: 42, login: 'octo', name, email: null },
//                                      emails: [{ email, primary: true, verified: true }] });
//   gh.authorizeUrl, gh.tokenUrl, gh.apiUrl   (the provider's authorization_endpoint, token_endpoint, api_url)
//   gh.failApi(503)                            // /api/* answers 503 until failApi(null)

import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as jose from 'jose';

import { closeTracked, freePort, listenTracked } from './ports.mjs';
import { sleep } from './server.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

// PKCE S256: BASE64URL(SHA-256(ASCII(code_verifier))) (RFC 7636 section 4.2).
export function pkceChallenge(verifier) {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

// A fresh PKCE pair: { verifier (43 characters), challenge }.
export function pkcePair() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: pkceChallenge(verifier) };
}

// ---- the common part: an HTTP server on loopback that records requests ------------------------------

export class LoopbackService {
  constructor({ port, host = '127.0.0.1' } = {}) {
    this.host = host;
    this.port = port;
    this.server = null;
    this.sockets = new Set();
    this.delays = new Set(); // pending answer delays, cut short by stop()
    this.requests = [];
  }

  get url() {
    return `http://${this.host}:${this.port}`;
  }

  get running() {
    return this.server !== null;
  }

  async start() {
    if (this.server) throw new Error(`${this.constructor.name} is already running`);
    if (this.port === undefined || this.port === null) this.port = await freePort(this.host);
    const server = http.createServer((req, res) => this.#dispatch(req, res));
    server.keepAliveTimeout = 5000;
    await listenTracked(server, this.port, this.host, this.sockets);
    this.server = server;
    return this;
  }

  // Closes the listener and every connection (pending delayed answers are dropped); the port stays ours
  // to start() on again.
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

  async restart() {
    await this.stop();
    return this.start();
  }

  async close() {
    await this.stop();
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

  clear() {
    this.requests = [];
  }

  // Requests whose path is `path` (all when omitted).
  requestsTo(path) {
    return path ? this.requests.filter((r) => r.path === path) : [...this.requests];
  }

  #dispatch(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rawBuffer = Buffer.concat(chunks);
      const raw = rawBuffer.toString('utf8');
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
      const u = new URL(req.url, 'http://x');
      let json = null;
      let jsonError = null;
      if (raw.length > 0) {
        try {
          json = JSON.parse(raw);
        } catch (e) {
          jsonError = e.message;
        }
      }
      const record = {
        index: this.requests.length,
        method: req.method,
        url: req.url,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers,
        raw,
        json,
        jsonError,
        form: /application\/x-www-form-urlencoded/i.test(headers['content-type'] ?? '')
          ? Object.fromEntries(new URLSearchParams(raw))
          : null,
        receivedAt: Date.now(),
        status: null,
      };
      this.requests.push(record);
      let answer;
      try {
        answer = (await this.handle(record)) ?? { status: 404, json: { message: 'Not Found' } };
      } catch (e) {
        answer = { status: 500, text: `test double failed: ${e.stack}` };
      }
      if (answer.delayMs) await this.delay(answer.delayMs);
      record.status = answer.status;
      if (res.destroyed || !this.server) {
        res.destroy();
        return;
      }
      const h = { ...(answer.headers || {}) };
      let body = '';
      if (answer.json !== undefined) {
        body = JSON.stringify(answer.json);
        h['content-type'] ??= 'application/json; charset=utf-8';
      } else if (answer.text !== undefined) {
        body = answer.text;
        h['content-type'] ??= 'text/plain; charset=utf-8';
      }
      res.writeHead(answer.status, h);
      res.end(body);
    });
  }

  // (record) => { status, json | text, headers, delayMs } (or undefined: 404). Subclasses define it.
  // eslint-disable-next-line no-unused-vars
  handle(record) {
    return undefined;
  }
}

// ---- a JWKS host and ID token signer -----------------------------------------------------------------

const KEY_OPTIONS = {
  RS256: { alg: 'RS256', options: { modulusLength: 2048 } },
  PS256: { alg: 'PS256', options: { modulusLength: 2048 } },
  ES256: { alg: 'ES256', options: {} },
  ES384: { alg: 'ES384', options: {} },
  EdDSA: { alg: 'EdDSA', options: { crv: 'Ed25519' } },
};

export class JwksHost extends LoopbackService {
  // alg: of the first key (RS256, PS256, ES256, ES384 or EdDSA). issuer / audience: the defaults of
  // sign() (issuer defaults to this host's URL + /issuer, known once the port is).
  constructor({ port, host, alg = 'RS256', issuer, audience = 'tessera-e2e-app', jwkAlg = true } = {}) {
    super({ port, host });
    this.firstAlg = alg;
    this.issuerValue = issuer;
    this.audience = audience;
    this.jwkAlg = jwkAlg;
    this.keys = []; // { kid, alg, privateKey, publicKey, publicJwk, published }
    this.status = null; // when set, /jwks.json answers this status (and a text body) instead of the keys
  }

  get issuer() {
    return this.issuerValue ?? `${this.url}/issuer`;
  }

  get jwksUri() {
    return `${this.url}/jwks.json`;
  }

  // GETs of /jwks.json so far (whatever they were answered).
  get fetches() {
    return this.requestsTo('/jwks.json').length;
  }

  get currentKey() {
    const published = this.keys.filter((k) => k.published);
    return published[published.length - 1];
  }

  get kid() {
    return this.currentKey?.kid;
  }

  // A new key pair. publish: false keeps it out of /jwks.json (a key the provider never announced).
  // jwkAlg: whether the published JWK names its "alg" (default: the host's setting).
  async addKey({ alg = this.firstAlg, kid, publish = true, jwkAlg = this.jwkAlg } = {}) {
    const spec = KEY_OPTIONS[alg];
    if (!spec) throw new Error(`JwksHost: unsupported alg ${alg}`);
    const { publicKey, privateKey } = await jose.generateKeyPair(spec.alg, { ...spec.options, extractable: true });
    const publicJwk = await jose.exportJWK(publicKey);
    const entry = {
      kid: kid ?? `k-${randomUUID()}`,
      alg,
      privateKey,
      publicKey,
      publicJwk,
      published: publish,
      jwkAlg,
    };
    this.keys.push(entry);
    return entry;
  }

  // A new published key that becomes the current one; the previous keys are dropped from the set unless
  // keep is true. Returns the new kid.
  async rotate({ keep = false, alg } = {}) {
    if (!keep) for (const k of this.keys) k.published = false;
    const entry = await this.addKey({ alg: alg ?? this.currentKey?.alg ?? this.firstAlg });
    return entry.kid;
  }

  key(kid) {
    const k = this.keys.find((e) => e.kid === kid);
    if (!k) throw new Error(`JwksHost: no key ${kid}`);
    return k;
  }

  // The published set, as /jwks.json serves it.
  jwks() {
    return {
      keys: this.keys
        .filter((k) => k.published)
        .map((k) => ({ ...k.publicJwk, kid: k.kid, use: 'sig', ...(k.jwkAlg ? { alg: k.alg } : {}) })),
    };
  }

  // The payload sign() would use: default iss, aud, iat, exp (expiresIn seconds, default 600), then
  // `claims` (a claim given as undefined is left out).
  claims(claims = {}, { expiresIn = 600, issuedAt } = {}) {
    const iat = issuedAt ?? nowSeconds();
    const payload = { iss: this.issuer, aud: this.audience, iat, exp: iat + expiresIn, ...claims };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return payload;
  }

  // A signed JWT.
  //   kid:       the key that signs (default: the current key)
  //   alg:       the header's alg (default: the key's own; e.g. PS256 with an RS256 key)
  //   headerKid: the kid written in the header (default: the signing key's; null leaves it out)
  //   header:    more header parameters (typ, ...)
  //   expiresIn, issuedAt: see claims()
  async sign(claims = {}, { kid, alg, headerKid, header = {}, expiresIn, issuedAt } = {}) {
    const key = kid ? this.key(kid) : this.currentKey;
    if (!key) throw new Error('JwksHost: no key to sign with');
    const protectedHeader = { alg: alg ?? key.alg, typ: 'JWT', ...header };
    const hk = headerKid === undefined ? key.kid : headerKid;
    if (hk !== null) protectedHeader.kid = hk;
    return new jose.SignJWT(this.claims(claims, { expiresIn, issuedAt }))
      .setProtectedHeader(protectedHeader)
      .sign(key.privateKey);
  }

  // An unsecured JWT ({"alg": "none"}, empty signature) naming the current kid.
  unsigned(claims = {}, { kid = this.kid, expiresIn, issuedAt } = {}) {
    const header = { alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) };
    return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(this.claims(claims, { expiresIn, issuedAt })))}.`;
  }

  // An HS256 JWT naming the current kid, with `secret` as the HMAC key (by default the current public key
  // in PEM form: the classic RS256/HS256 confusion).
  async hmac(claims = {}, { kid = this.kid, secret, expiresIn, issuedAt } = {}) {
    const keyBytes =
      secret !== undefined
        ? Buffer.from(secret)
        : Buffer.from(await jose.exportSPKI(this.key(kid).publicKey));
    return new jose.SignJWT(this.claims(claims, { expiresIn, issuedAt }))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
      .sign(new Uint8Array(keyBytes));
  }

  handle(r) {
    if (r.method === 'GET' && r.path === '/jwks.json') {
      if (this.status !== null) return { status: this.status, text: 'unavailable\n' };
      return { status: 200, json: this.jwks(), headers: { 'cache-control': 'public, max-age=3600' } };
    }
    return { status: 404, text: 'not found\n' };
  }
}

export async function startJwksHost(options = {}) {
  const host = new JwksHost(options);
  await host.addKey();
  if (options.start !== false) await host.start();
  else if (host.port === undefined) host.port = await freePort();
  return host;
}

// ---- a custom identity provider (verify_url) ---------------------------------------------------------

export class CustomIdp extends LoopbackService {
  // secret: when set, a request without "Authorization: Bearer <secret>" is answered 401.
  constructor({ port, host, secret = null, path = '/verify' } = {}) {
    super({ port, host });
    this.secret = secret;
    this.verifyPath = path;
    this.table = new Map(); // token -> answer
    this.mode = null; // 'non-json' | 'error500' | null
    this.fallback = { status: 401, json: { error: 'invalid_token', error_description: 'unknown token' } };
  }

  get verifyUrl() {
    return `${this.url}${this.verifyPath}`;
  }

  // The answer to `token`: { status (200), body (JSON), raw (a text body instead), contentType, delayMs }.
  respond(token, { status = 200, body, raw, contentType, delayMs } = {}) {
    this.table.set(token, { status, body, raw, contentType, delayMs });
    return this;
  }

  // The verify requests seen for `token`.
  requestsFor(token) {
    return this.requests.filter((r) => r.path === this.verifyPath && r.json?.token === token);
  }

  handle(r) {
    if (r.path !== this.verifyPath) return { status: 404, json: { error: 'not_found' } };
    if (r.method !== 'POST') return { status: 405, json: { error: 'method_not_allowed' }, headers: { allow: 'POST' } };
    const auth = r.headers.authorization ?? null;
    r.authorized = this.secret === null ? null : auth === `Bearer ${this.secret}`;
    if (this.mode === 'error500') return { status: 500, json: { error: 'internal' } };
    if (this.mode === 'non-json') return { status: 200, text: '<html><body>Sign-in service</body></html>', headers: { 'content-type': 'text/html' } };
    if (r.json === null || typeof r.json !== 'object') return { status: 400, json: { error: 'invalid_request', error_description: 'JSON body expected' } };
    if (r.authorized === false) return { status: 401, json: { error: 'invalid_client' } };
    const a = this.table.get(r.json.token);
    if (!a) return this.fallback;
    const answer = { status: a.status, delayMs: a.delayMs };
    if (a.raw !== undefined) {
      answer.text = a.raw;
      answer.headers = { 'content-type': a.contentType ?? 'text/plain' };
    } else {
      answer.json = a.body ?? {};
      if (a.contentType) answer.headers = { 'content-type': a.contentType };
    }
    return answer;
  }
}

export async function startCustomIdp(options = {}) {
  const idp = new CustomIdp(options);
  if (options.start !== false) await idp.start();
  else if (idp.port === undefined) idp.port = await freePort();
  return idp;
}

// ---- a fake GitHub (OAuth app + REST API) --------------------------------------------------------------
//
// As documented by GitHub ("Authorizing OAuth apps", "REST API: users, emails"):
//   GET  /login/oauth/authorize?client_id&redirect_uri&scope&state&code_challenge&code_challenge_method
//        -> 302 redirect_uri?code=...&state=...  (the user approves at once; deny() makes it refuse:
//        ?error=access_denied&error_description=...&state=...)
//   POST /login/oauth/access_token  client_id, client_secret (form body or HTTP Basic), code,
//        redirect_uri, code_verifier -> with "Accept: application/json" {access_token, token_type, scope},
//        else a form-encoded body. Errors are answered 200 with {error, error_description, error_uri},
//        as GitHub does.
//   GET  /api/user, /api/user/emails with "Authorization: Bearer <token>" or "token <token>" (and a
//        User-Agent, which GitHub requires) -> the user / its emails; else 401 "Bad credentials".

export class FakeGitHub extends LoopbackService {
  constructor({
    port,
    host,
    clientId = 'Iv1.e2e0000000000000',
    clientSecret = `gh-secret-${randomBytes(12).toString('hex')}`,
    user = { id: 583231, login: 'octocat', name: 'The Octocat', email: null },
    emails = [{ email: 'octocat@github.test', primary: true, verified: true, visibility: 'private' }],
    requireUserAgent = true,
  } = {}) {
    super({ port, host });
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.user = user;
    this.emails = emails;
    this.requireUserAgent = requireUserAgent;
    this.codes = new Map(); // code -> grant
    this.tokens = new Map(); // access token -> { user, emails, scope }
    this.authorizations = []; // the query of every authorize request
    this.tokenRequests = []; // { form, clientAuth, result }
    this.apiStatus = null; // when set, /api/* answers it
    this.tokenStatus = null; // when set, the token endpoint answers it
    this.denyNext = false;
  }

  get authorizeUrl() {
    return `${this.url}/login/oauth/authorize`;
  }

  get tokenUrl() {
    return `${this.url}/login/oauth/access_token`;
  }

  get apiUrl() {
    return `${this.url}/api`;
  }

  // The user and emails the next authorizations are granted for.
  setUser(user, emails = this.emails) {
    this.user = user;
    this.emails = emails;
  }

  failApi(status = 503) {
    this.apiStatus = status;
  }

  failToken(status = 503) {
    this.tokenStatus = status;
  }

  // The next authorize request is refused by the "user".
  deny() {
    this.denyNext = true;
  }

  handle(r) {
    if (r.path === '/login/oauth/authorize' && r.method === 'GET') return this.#authorize(r);
    if (r.path === '/login/oauth/access_token' && r.method === 'POST') return this.#accessToken(r);
    if (r.path.startsWith('/api/')) return this.#api(r);
    return { status: 404, text: 'Not Found' };
  }

  #authorize(r) {
    const q = r.query;
    this.authorizations.push(q);
    if (q.client_id !== this.clientId) return { status: 404, text: 'Not Found (unknown OAuth app)' };
    if (!q.redirect_uri) return { status: 400, text: 'redirect_uri missing (this fake has no registered callback URL)' };
    const back = new URL(q.redirect_uri);
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    if (this.denyNext) {
      this.denyNext = false;
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
      back.searchParams.set('error_uri', 'https://docs.github.com/apps/troubleshooting-authorization-request-errors/#access-denied');
      return { status: 302, headers: { location: back.toString() } };
    }
    if (q.code_challenge !== undefined && (q.code_challenge_method ?? 'plain') !== 'S256')
      return { status: 400, text: 'code_challenge_method must be S256' };
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, {
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      scope: q.scope ?? '',
      codeChallenge: q.code_challenge ?? null,
      user: this.user,
      emails: this.emails,
      expiresAt: Date.now() + 10 * 60 * 1000,
      used: false,
    });
    back.searchParams.set('code', code);
    return { status: 302, headers: { location: back.toString() } };
  }

  #tokenAnswer(r, fields, status = 200) {
    const wantsJson = /application\/json/i.test(r.headers.accept ?? '');
    if (wantsJson) return { status, json: fields };
    return {
      status,
      text: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    };
  }

  #tokenError(r, error, description) {
    return this.#tokenAnswer(r, {
      error,
      error_description: description,
      error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors',
    });
  }

  #accessToken(r) {
    const entry = { form: null, clientAuth: null, result: null };
    this.tokenRequests.push(entry);
    if (this.tokenStatus !== null) {
      entry.result = `status ${this.tokenStatus}`;
      return { status: this.tokenStatus, text: 'unavailable' };
    }
    const form = r.form ?? (r.json && typeof r.json === 'object' ? r.json : {});
    entry.form = form;
    let clientId = form.client_id;
    let clientSecret = form.client_secret;
    const auth = r.headers.authorization ?? '';
    if (/^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      // RFC 6749 section 2.3.1: both parts are form-urlencoded before the Basic encoding.
      const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
      clientId = dec(decoded.slice(0, i));
      clientSecret = dec(decoded.slice(i + 1));
      entry.clientAuth = 'basic';
    } else if (form.client_secret !== undefined) {
      entry.clientAuth = 'post';
    }
    const fail = (error, description) => {
      entry.result = error;
      return this.#tokenError(r, error, description);
    };
    if (clientId !== this.clientId || clientSecret !== this.clientSecret)
      return fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    const grant = this.codes.get(form.code);
    if (!grant || grant.used || grant.expiresAt < Date.now() || grant.clientId !== clientId)
      return fail('bad_verification_code', 'The code passed is incorrect or expired.');
    grant.used = true;
    if (form.redirect_uri !== undefined && form.redirect_uri !== grant.redirectUri)
      return fail('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
    if (grant.codeChallenge !== null) {
      if (typeof form.code_verifier !== 'string' || pkceChallenge(form.code_verifier) !== grant.codeChallenge)
        return fail('bad_verification_code', 'The code_verifier does not match the code_challenge.');
    }
    const accessToken = `gho_${randomBytes(18).toString('base64url')}`;
    this.tokens.set(accessToken, { user: grant.user, emails: grant.emails, scope: grant.scope });
    entry.result = 'ok';
    return this.#tokenAnswer(r, { access_token: accessToken, token_type: 'bearer', scope: grant.scope.split(/[ ,]+/).filter(Boolean).join(',') });
  }

  #api(r) {
    if (this.apiStatus !== null) return { status: this.apiStatus, json: { message: 'Service Unavailable' } };
    const json = (status, body) => ({
      status,
      json: body,
      headers: { 'x-github-media-type': 'github.v3; format=json', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999' },
    });
    if (this.requireUserAgent && !r.headers['user-agent'])
      return {
        status: 403,
        text: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).',
      };
    const m = /^(?:bearer|token)\s+(\S+)$/i.exec(r.headers.authorization ?? '');
    const grant = m ? this.tokens.get(m[1]) : undefined;
    if (!grant) return json(401, { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest', status: '401' });
    if (r.method !== 'GET') return json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    if (r.path === '/api/user') return json(200, githubUser(grant.user, this.url));
    if (r.path === '/api/user/emails') {
      const scopes = grant.scope.split(/[ ,]+/);
      if (!scopes.includes('user') && !scopes.includes('user:email'))
        return json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user', status: '404' });
      return json(
        200,
        grant.emails.map((e) => ({ visibility: e.primary ? 'private' : null, ...e })),
      );
    }
    return json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  }
}

// The shape of GET /user for the authenticated user (the fields that matter, and a few that do not).
function githubUser(user, base) {
  return {
    login: user.login,
    id: user.id,
    node_id: `MDQ6VXNlcj${user.id}`,
    avatar_url: `${base}/avatars/u/${user.id}?v=4`,
    gravatar_id: '',
    url: `${base}/api/users/${user.login}`,
    html_url: `${base}/${user.login}`,
    type: 'User',
    site_admin: false,
    name: user.name ?? null,
    company: null,
    blog: '',
    location: null,
    email: user.email ?? null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 8,
    public_gists: 8,
    followers: 0,
    following: 0,
    created_at: '2011-01-25T18:44:36Z',
    updated_at: '2024-01-01T00:00:00Z',
  };
}

export async function startFakeGitHub(options = {}) {
  const gh = new FakeGitHub(options);
  if (options.start !== false) await gh.start();
  else if (gh.port === undefined) gh.port = await freePort();
  return gh;
}
