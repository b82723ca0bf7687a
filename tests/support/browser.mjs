// A tiny browser for the end-to-end tests: fetch with redirect: 'manual', a cookie jar (per host, with
// paths and expiry, as RFC 6265: ports share cookies), redirects followed hop by hop, and HTML forms
// submitted. Every request is recorded in `hops`.
//
//   const browser = new Browser();
//   // Follows redirects until a non-redirect answer, or until a Location starts with a stopAt prefix
//   // (that URL is not fetched: the test reads or tampers with it).
//   const page = await browser.follow(startUrl, { stopAt: [appRedirect, tesseraCallback] });
//   if (!page.stopped) await browser.submitForm(page, { login: 'alice' }, { stopAt: appRedirect });
//   page.stopped / page.location (absolute) when stopped; else page.status, page.url, page.text, page.body
//
// follow() and submitForm() answer { status, url, headers, text, body (parsed JSON or the text),
// setCookies, location, stopped, hops (of this call) }.

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class CookieJar {
  constructor() {
    this.cookies = []; // { host, name, value, path, expiresAt (ms or null), secure }
  }

  static defaultPath(pathname) {
    if (!pathname.startsWith('/')) return '/';
    const i = pathname.lastIndexOf('/');
    return i <= 0 ? '/' : pathname.slice(0, i);
  }

  static pathMatches(requestPath, cookiePath) {
    if (requestPath === cookiePath) return true;
    if (!requestPath.startsWith(cookiePath)) return false;
    return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
  }

  // Stores the Set-Cookie values of a response to `url`.
  store(url, setCookies) {
    const u = new URL(url);
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = {
        host: u.hostname,
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        path: CookieJar.defaultPath(u.pathname),
        expiresAt: null,
        secure: false,
      };
      let maxAge = null;
      for (const attr of attrs) {
        const i = attr.indexOf('=');
        const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
        const val = i < 0 ? '' : attr.slice(i + 1).trim();
        if (key === 'path' && val.startsWith('/')) cookie.path = val;
        else if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val);
        else if (key === 'expires' && !Number.isNaN(Date.parse(val))) cookie.expiresAt = Date.parse(val);
        else if (key === 'secure') cookie.secure = true;
      }
      if (maxAge !== null) cookie.expiresAt = Date.now() + maxAge * 1000; // Max-Age wins over Expires
      this.cookies = this.cookies.filter((c) => !(c.host === cookie.host && c.name === cookie.name && c.path === cookie.path));
      if (cookie.expiresAt === null || cookie.expiresAt > Date.now()) this.cookies.push(cookie);
    }
  }

  // The Cookie header value for a request to `url` (undefined when none applies).
  header(url) {
    const u = new URL(url);
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expiresAt === null || c.expiresAt > now);
    const matching = this.cookies
      .filter((c) => c.host === u.hostname && CookieJar.pathMatches(u.pathname, c.path) && (!c.secure || u.protocol === 'https:'))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  get(host, name) {
    return this.cookies.find((c) => c.host === host && c.name === name)?.value;
  }
}

function startsWithAny(url, prefixes) {
  return prefixes.some((p) => url.startsWith(p));
}

export class Browser {
  constructor({ maxHops = 20, timeoutMs = 15_000 } = {}) {
    this.jar = new CookieJar();
    this.maxHops = maxHops;
    this.timeoutMs = timeoutMs;
    this.hops = []; // { method, url, status, location }
  }

  // One request (no redirect followed). `form`: an object or URLSearchParams sent urlencoded.
  async request(url, { method = 'GET', headers = {}, form, body } = {}) {
    const h = new Headers(headers);
    const cookie = this.jar.header(url);
    if (cookie) h.set('cookie', cookie);
    let payload = body;
    if (form !== undefined) {
      payload = new URLSearchParams(form).toString();
      h.set('content-type', 'application/x-www-form-urlencoded');
    }
    const res = await fetch(url, { method, headers: h, body: payload, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    const setCookies = res.headers.getSetCookie();
    this.jar.store(url, setCookies);
    const type = res.headers.get('content-type') || '';
    let parsed = text;
    if (/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type) && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // leave the text
      }
    }
    const loc = res.headers.get('location');
    const location = loc === null ? null : new URL(loc, url).href;
    this.hops.push({ method, url, status: res.status, location });
    return { status: res.status, url, headers: res.headers, text, body: parsed, setCookies, location, stopped: false };
  }

  // Requests `url` and follows redirects (303, and 301/302 after a POST, become GETs) until an answer
  // that is not a redirect or a Location that starts with one of `stopAt` (a string or an array).
  async follow(url, { method = 'GET', form, headers, stopAt = [], maxHops = this.maxHops } = {}) {
    const prefixes = [].concat(stopAt);
    const first = this.hops.length;
    let res = await this.request(url, { method, form, headers });
    for (let hop = 0; ; hop++) {
      if (!REDIRECTS.has(res.status) || !res.location) break;
      if (startsWithAny(res.location, prefixes)) {
        res.stopped = true;
        break;
      }
      if (hop >= maxHops) throw new Error(`more than ${maxHops} redirects from ${url}: ${JSON.stringify(this.hops.slice(first))}`);
      const keepMethod = res.status === 307 || res.status === 308;
      res = keepMethod ? await this.request(res.location, { method, form, headers }) : await this.request(res.location);
      if (!keepMethod) {
        method = 'GET';
        form = undefined;
      }
    }
    res.hops = this.hops.slice(first);
    return res;
  }

  // The forms of an HTML page: [{ action (absolute), method, fields: {name: value} of its inputs }].
  static forms(page) {
    const out = [];
    for (const m of page.text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
      const attr = (src, name) => new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(src);
      const value = (a) => (a ? (a[2] ?? a[3] ?? a[4]).replace(/&amp;/g, '&').replace(/&#(\d+);/g, (_, n) => String.fromCharCode(n)) : undefined);
      const fields = {};
      for (const input of m[2].matchAll(/<input\b([^>]*)>/gi)) {
        const name = value(attr(input[1], 'name'));
        if (name) fields[name] = value(attr(input[1], 'value')) ?? '';
      }
      out.push({
        action: new URL(value(attr(m[1], 'action')) ?? page.url, page.url).href,
        method: (value(attr(m[1], 'method')) ?? 'GET').toUpperCase(),
        fields,
      });
    }
    return out;
  }

  // Fills and submits a form of `page` (the first one, or the first whose action matches `action`, a
  // RegExp or a substring), then follows redirects as follow() does.
  async submitForm(page, fields = {}, { action, stopAt, maxHops } = {}) {
    const forms = Browser.forms(page);
    const form = forms.find((f) => action === undefined || (action instanceof RegExp ? action.test(f.action) : f.action.includes(action)));
    if (!form) throw new Error(`no form${action ? ` matching ${action}` : ''} on ${page.url} (${page.status}): ${page.text.slice(0, 500)}`);
    const data = { ...form.fields, ...fields };
    if (form.method === 'GET') {
      const u = new URL(form.action);
      for (const [k, v] of Object.entries(data)) u.searchParams.set(k, v);
      return this.follow(u.href, { stopAt, maxHops });
    }
    return this.follow(form.action, { method: 'POST', form: data, stopAt, maxHops });
  }
}
