// The filter language of GET /v1/users: `field[op]=value` conditions on user fields and data.<path>,
// typed comparisons, multi-key sort, cursor pagination (also while users are being created), the
// errors (400 invalid_filter naming the field, 400 invalid_cursor, 422 for limit), and SQL injection
// attempts through values, field names, sort keys and cursors.
//
// One server of its own, seeded with 30 users of varied fields (tagged "seed"); tests that create more
// users tag them "extra", and every comparison below is made on the seeded users (or scoped to them
// with tags[contains]=seed), so the order of the tests does not matter.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { runCli, startServer, usingPostgres } from '../support/server.mjs';
import { assertProblem, assertUserShape, assertValidation, fieldErrors, unique } from '../support/api.mjs';

const enc = encodeURIComponent;
const SEED_COUNT = 30;
const SCOPE = 'tags[contains]=seed';

// ---- server, key, seed ------------------------------------------------------------------------------

async function cliKey(srv, permissions = 'users:*') {
  const r = await runCli(['apikey', 'create', '--data-dir', srv.dataDir, '--project', 'default', '--permissions', permissions, '--name', 't']);
  assert.equal(r.code, 0, r.stderr);
  const id = /^id: (\S+)$/m.exec(r.stdout)?.[1];
  const secret = /^secret: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(id && secret, r.stdout);
  return { id, secret };
}

async function accessToken(srv, key) {
  const basic = Buffer.from(`${enc(key.id)}:${enc(key.secret)}`).toString('base64');
  const res = await srv.request('POST', '/v1/token', { json: { grant_type: 'client_credentials' }, headers: { authorization: `Basic ${basic}` } });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
const GROUPS = ['alpha', 'beta', 'gamma'];
const CITIES = ['Berlin', 'Boston', 'Paris'];
const RATIOS = [0.1, 0.30000000000000004, 1 / 3, 2 / 3, 1e-7, 123456.789, -0.5, 2 ** 40 + 0.5];

// The body of seed user i: every field present for some users and absent for others, data values of
// several JSON types under the same key, letter case mixed in emails.
function seedBody(i) {
  const group = GROUPS[Math.floor(i / 10)];
  const local = `${group}.${pad(i)}`;
  const body = {
    email: `${i % 5 === 0 ? local[0].toUpperCase() + local.slice(1) : local}@${i % 4 === 0 ? 'Example.COM' : 'example.com'}`,
    tags: ['seed', ...(i % 3 === 0 ? ['vip'] : []), ...(i % 4 === 0 ? ['beta'] : [])],
    active: i % 5 !== 4,
    email_verified: i % 2 === 0,
    data: {},
  };
  if (i % 2 === 0) body.login = `Login_${pad(i)}`;
  if (i % 3 === 0) body.phone = `+1555010${pad(i, 4)}`;
  if (i % 4 !== 3) body.full_name = i % 6 === 1 ? 'Same Name' : `Person ${pad(i)}`;
  if (i % 2 === 1) body.external_id = `ext-${pad(i)}`;
  const d = body.data;
  // age: mostly numbers (two are exactly 18, two are 18.5), some strings, some missing.
  if (i % 10 === 9) {
    // missing
  } else if (i % 7 === 6) d.age = String(10 + i); // "16", "23", "30", "37"(i=27)
  else if (i === 8 || i === 22) d.age = 18;
  else if (i === 5 || i === 16) d.age = 18.5;
  else d.age = 10 + ((i * 7) % 50);
  // code: the string "18" or the number 18.
  if (i % 3 === 0) d.code = '18';
  else if (i % 3 === 1) d.code = 18;
  // score: numbers, an explicit JSON null, or missing.
  if (i % 8 === 7) d.score = null;
  else if (i % 8 !== 3) d.score = i * 1.5;
  // profile.city: nested; one explicit null.
  if (i % 2 === 0) d.profile = { city: CITIES[i % 3], zip: `${10000 + i}` };
  if (i === 1) d.profile = { city: null };
  // flag: JSON true, false, the string "true", or missing.
  if (i % 4 === 0) d.flag = true;
  else if (i % 4 === 1) d.flag = false;
  else if (i % 4 === 2) d.flag = 'true';
  // ratio: doubles that need every digit to round-trip.
  if (i < RATIOS.length) d.ratio = RATIOS[i];
  return body;
}

let server;
let token;
let seeds = []; // the created users, in creation order
let seedIds;
before(async () => {
  server = await startServer();
  token = await accessToken(server, await cliKey(server));
  for (let i = 0; i < SEED_COUNT; i++) {
    const res = await server.request('POST', '/v1/users', { token, json: seedBody(i) });
    assert.equal(res.status, 201, res.text);
    assertUserShape(res.body);
    seeds.push(res.body);
  }
  seedIds = new Set(seeds.map((u) => u.id));
});
after(async () => {
  await server?.close();
});

const api = (method, urlPath, json) => server.request(method, urlPath, { token, json });
const get = (query) => api('GET', `/v1/users${query ? `?${query}` : ''}`);

// Every user a query matches, in the server's order (one page of up to 1000).
async function list(query) {
  const res = await get(query ? `${query}&limit=1000` : 'limit=1000');
  assert.equal(res.status, 200, `${query}: ${res.text}`);
  assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next_cursor']);
  assert.equal(res.body.next_cursor, null, `${query}: one page`);
  return res.body.items;
}

// Asserts that the seeded users `query` matches are exactly those for which pred(user) holds.
// Unless `any`, the expectation must be neither empty nor every seed (so that it tests something).
async function expectSeeds(query, pred, { any = false } = {}) {
  const items = await list(query);
  const got = items.filter((u) => seedIds.has(u.id)).map((u) => u.id);
  const want = seeds.filter(pred).map((u) => u.id);
  if (!any) assert.ok(want.length > 0 && want.length < seeds.length, `a meaningful expectation for ${query}`);
  assert.deepEqual(got.slice().sort(), want.slice().sort(), `${query}: got ${got.length}, want ${want.length}`);
  // Without a sort, the order is by id.
  if (!/(^|&)sort=/.test(query)) assert.deepEqual(items.map((u) => u.id), items.map((u) => u.id).sort(), `${query}: id order`);
  for (const u of items) assertUserShape(u);
  return items;
}

function assertInvalidFilter(res, expected, what = '') {
  const body = assertProblem(res, 400, 'invalid_filter');
  const got = fieldErrors(res);
  for (const [field, code] of expected) {
    assert.ok(got.includes(`${field}:${code}`), `${what} expected ${field}:${code}, got ${JSON.stringify(got)}`);
  }
  return body;
}

// ---- the order of the store, in JavaScript ---------------------------------------------------------

const has = (o, k) => o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k);
function dataAt(user, field) {
  let v = user.data;
  for (const seg of field.slice('data.'.length).split('.')) {
    if (!has(v, seg)) return undefined;
    v = v[seg];
  }
  return v;
}
const isNum = (v) => typeof v === 'number';

// The value a sort key compares (as SQLite does): null, a number or a string.
function sortValue(user, field) {
  if (field.startsWith('data.')) {
    const v = dataAt(user, field);
    if (v === undefined || v === null) return null;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'object') return jsonText(v);
    return v;
  }
  const v = user[field];
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (field === 'email' || field === 'login') return v.toLowerCase();
  return v;
}
// An object or array sorts as its compact JSON text. PostgreSQL's jsonb does not keep the order of an
// object's keys: it writes them shortest first, then byte-wise (docs/behaviour.md).
function jsonText(v) {
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const keys = Object.keys(v);
  if (usingPostgres) keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${jsonText(v[k])}`).join(',')}}`;
}
// NULL < numbers < text; numbers by value, text byte-wise (ASCII here).
function compareValues(a, b) {
  const rank = (v) => (v === null ? 0 : typeof v === 'number' ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a === null) return 0;
  return a < b ? -1 : a > b ? 1 : 0;
}
function parseSort(text) {
  if (!text) return [];
  return text.split(',').map((t) => (t.startsWith('-') ? { field: t.slice(1), desc: true } : { field: t, desc: false }));
}
function sortUsers(users, sortText) {
  const keys = parseSort(sortText);
  if (!keys.some((k) => k.field === 'id')) keys.push({ field: 'id', desc: false });
  return users.slice().sort((x, y) => {
    for (const k of keys) {
      const c = compareValues(sortValue(x, k.field), sortValue(y, k.field));
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  });
}

// Follows next_cursor from the first page to the last; returns the ids in order and the page count.
async function pageThrough(query, limit, { between } = {}) {
  const ids = [];
  let cursor = null;
  let pages = 0;
  for (;;) {
    const q = [query, `limit=${limit}`, cursor ? `cursor=${enc(cursor)}` : ''].filter(Boolean).join('&');
    const res = await get(q);
    assert.equal(res.status, 200, `${q}: ${res.text}`);
    assert.ok(res.body.items.length <= limit);
    ids.push(...res.body.items.map((u) => u.id));
    pages += 1;
    assert.ok(pages <= 200, 'the pages end');
    cursor = res.body.next_cursor;
    if (cursor === null) break;
    assert.equal(typeof cursor, 'string');
    assert.ok(res.body.items.length === limit, 'a page before the last is full');
    if (between) await between(pages);
  }
  return { ids, pages };
}

// ---- operators ---------------------------------------------------------------------------------------

describe('operators', () => {
  test('the seed is listed whole, in id order, and every user has the full shape', async () => {
    const items = await list(SCOPE);
    assert.deepEqual(items.map((u) => u.id), seeds.map((u) => u.id).sort());
    const byId = new Map(seeds.map((u) => [u.id, u]));
    for (const u of items) assert.deepEqual(u, byId.get(u.id));
  });

  test('eq, the default and explicit, on every kind of field', async () => {
    const s3 = seeds[3];
    await expectSeeds(`id=${s3.id}`, (u) => u.id === s3.id);
    await expectSeeds(`id[eq]=${s3.id}`, (u) => u.id === s3.id);
    await expectSeeds(`email=${enc(seeds[10].email)}`, (u) => u.id === seeds[10].id);
    await expectSeeds(`email[eq]=${enc(seeds[11].email)}`, (u) => u.id === seeds[11].id);
    await expectSeeds(`login=${enc(seeds[4].login)}`, (u) => u.id === seeds[4].id);
    await expectSeeds(`phone=${enc(seeds[6].phone)}`, (u) => u.id === seeds[6].id);
    await expectSeeds(`full_name=${enc('Same Name')}`, (u) => u.full_name === 'Same Name');
    await expectSeeds('full_name=Same+Name', (u) => u.full_name === 'Same Name'); // '+' is a space
    await expectSeeds('external_id=ext-07', (u) => u.external_id === 'ext-07');
    await expectSeeds('active=false', (u) => !u.active);
    await expectSeeds('active[eq]=true', (u) => u.active);
    await expectSeeds('email_verified=true', (u) => u.email_verified);
    await expectSeeds('is_guest=false', () => true, { any: true });
    await expectSeeds('is_guest=true', () => false, { any: true });
    await expectSeeds(`created_at=${enc(seeds[12].created_at)}`, (u) => u.created_at === seeds[12].created_at);
    await expectSeeds('data.profile.city=Berlin', (u) => dataAt(u, 'data.profile.city') === 'Berlin');
    await expectSeeds('data.flag=true', (u) => dataAt(u, 'data.flag') === true);
    await expectSeeds('data.flag=false', (u) => dataAt(u, 'data.flag') === false);
    await expectSeeds(`data.flag=${enc('"true"')}`, (u) => dataAt(u, 'data.flag') === 'true');
    await expectSeeds('data.score=null', (u) => dataAt(u, 'data.score') === null, {});
    await expectSeeds('data.profile.city=null', (u) => dataAt(u, 'data.profile.city') === null);
    await expectSeeds('email=nobody%40example.com', () => false, { any: true });
  });

  test('email and login compare regardless of ASCII letter case', async () => {
    for (const i of [0, 1, 4, 15]) {
      const s = seeds[i];
      await expectSeeds(`email=${enc(s.email.toUpperCase())}`, (u) => u.id === s.id);
      await expectSeeds(`email=${enc(s.email.toLowerCase())}`, (u) => u.id === s.id);
    }
    await expectSeeds(`login=${enc(seeds[2].login.toUpperCase())}`, (u) => u.id === seeds[2].id);
    await expectSeeds(`email[in]=${enc(seeds[0].email.toLowerCase())},${enc(seeds[1].email.toUpperCase())}`, (u) =>
      [seeds[0].id, seeds[1].id].includes(u.id),
    );
    await expectSeeds(`email[ne]=${enc(seeds[0].email.toLowerCase())}`, (u) => u.id !== seeds[0].id);
    // Other text fields are exact.
    await expectSeeds(`full_name=${enc('same name')}`, () => false, { any: true });
    await expectSeeds('external_id=EXT-07', () => false, { any: true });
  });

  test('ne is the negation of eq: it also matches null and missing values', async () => {
    await expectSeeds(`full_name[ne]=${enc('Person 00')}`, (u) => u.full_name !== 'Person 00');
    await expectSeeds('external_id[ne]=ext-01', (u) => u.external_id !== 'ext-01');
    await expectSeeds('active[ne]=true', (u) => !u.active);
    await expectSeeds('data.age[ne]=18', (u) => dataAt(u, 'data.age') !== 18);
    await expectSeeds(`data.code[ne]=${enc('"18"')}`, (u) => dataAt(u, 'data.code') !== '18');
    await expectSeeds('data.score[ne]=null', (u) => dataAt(u, 'data.score') !== null);
    await expectSeeds(`id[ne]=${seeds[0].id}`, (u) => u.id !== seeds[0].id);
  });

  test('gt, gte, lt, lte on created_at and updated_at', async () => {
    const pivot = seeds[10].created_at;
    await expectSeeds(`created_at[gt]=${enc(pivot)}`, (u) => u.created_at > pivot);
    await expectSeeds(`created_at[gte]=${enc(pivot)}`, (u) => u.created_at >= pivot);
    await expectSeeds(`created_at[lt]=${enc(pivot)}`, (u) => u.created_at < pivot);
    await expectSeeds(`created_at[lte]=${enc(pivot)}`, (u) => u.created_at <= pivot);
    const lo = seeds[5].created_at;
    const hi = seeds[20].created_at;
    await expectSeeds(`created_at[gte]=${enc(lo)}&created_at[lt]=${enc(hi)}`, (u) => u.created_at >= lo && u.created_at < hi);
    await expectSeeds(`updated_at[lte]=${enc(seeds[2].updated_at)}`, (u) => u.updated_at <= seeds[2].updated_at);
    // Times without fractions, and far away.
    await expectSeeds('created_at[gt]=2000-01-01T00:00:00Z', () => true, { any: true });
    await expectSeeds('created_at[lt]=2000-01-01T00:00:00Z', () => false, { any: true });
    // last_request_at is null for users that never made a request: no comparison matches them.
    await expectSeeds('last_request_at[lt]=2999-01-01T00:00:00Z', () => false, { any: true });
  });

  test('gt, gte, lt, lte on data numbers compare numbers only', async () => {
    const age = (u) => dataAt(u, 'data.age');
    await expectSeeds('data.age[gte]=18', (u) => isNum(age(u)) && age(u) >= 18);
    await expectSeeds('data.age[gt]=18', (u) => isNum(age(u)) && age(u) > 18);
    await expectSeeds('data.age[lt]=18.5', (u) => isNum(age(u)) && age(u) < 18.5);
    await expectSeeds('data.age[lte]=18.5', (u) => isNum(age(u)) && age(u) <= 18.5);
    await expectSeeds('data.age[gte]=18&data.age[lte]=30', (u) => isNum(age(u)) && age(u) >= 18 && age(u) <= 30);
    await expectSeeds('data.age[gt]=1e1', (u) => isNum(age(u)) && age(u) > 10);
    await expectSeeds('data.age[gte]=-5', (u) => isNum(age(u)));
    await expectSeeds('data.score[gt]=20', (u) => isNum(dataAt(u, 'data.score')) && dataAt(u, 'data.score') > 20);
    await expectSeeds('data.ratio[lt]=0.30000000000000004', (u) => isNum(dataAt(u, 'data.ratio')) && dataAt(u, 'data.ratio') < 0.30000000000000004);
    await expectSeeds('data.ratio[gte]=0.30000000000000004', (u) => isNum(dataAt(u, 'data.ratio')) && dataAt(u, 'data.ratio') >= 0.30000000000000004);
    // A string operand compares strings only, byte-wise.
    await expectSeeds(`data.age[gt]=${enc('"20"')}`, (u) => typeof age(u) === 'string' && age(u) > '20');
    await expectSeeds('data.profile.city[lt]=C', (u) => typeof dataAt(u, 'data.profile.city') === 'string' && dataAt(u, 'data.profile.city') < 'C');
  });

  test('in and nin take comma lists', async () => {
    const ids = [seeds[1].id, seeds[2].id, seeds[29].id];
    await expectSeeds(`id[in]=${ids.join(',')}`, (u) => ids.includes(u.id));
    await expectSeeds(`id[nin]=${ids.join(',')}`, (u) => !ids.includes(u.id));
    await expectSeeds('external_id[in]=ext-01,ext-03,nope', (u) => ['ext-01', 'ext-03'].includes(u.external_id));
    await expectSeeds('external_id[nin]=ext-01,ext-03', (u) => !['ext-01', 'ext-03'].includes(u.external_id));
    await expectSeeds(`login[in]=LOGIN_00,login_02`, (u) => [seeds[0].id, seeds[2].id].includes(u.id));
    await expectSeeds(`full_name[in]=${enc('Same Name,Person 00')}`, (u) => ['Same Name', 'Person 00'].includes(u.full_name));
    await expectSeeds('active[eq]=false&email_verified=true', (u) => !u.active && u.email_verified);
    const age = (u) => dataAt(u, 'data.age');
    await expectSeeds('data.age[in]=18,24', (u) => age(u) === 18 || age(u) === 24);
    await expectSeeds(`data.age[in]=${enc('"30"')},18`, (u) => age(u) === '30' || age(u) === 18);
    await expectSeeds('data.age[nin]=18,24', (u) => age(u) !== 18 && age(u) !== 24);
    await expectSeeds('data.flag[in]=true,false', (u) => typeof dataAt(u, 'data.flag') === 'boolean');
    await expectSeeds('data.score[in]=null,3', (u) => dataAt(u, 'data.score') === null || dataAt(u, 'data.score') === 3);
    await expectSeeds('data.profile.city[nin]=Berlin,Paris', (u) => !['Berlin', 'Paris'].includes(dataAt(u, 'data.profile.city')));
    // 100 values are fine, 101 too many.
    const hundred = Array.from({ length: 99 }, (_, i) => `nobody${i}`).concat([seeds[3].external_id ?? 'x']);
    assert.equal((await get(`external_id[in]=${hundred.join(',')}`)).status, 200);
    assertInvalidFilter(await get(`external_id[in]=${hundred.concat(['one-more']).join(',')}`), [['external_id', 'too_many']]);
  });

  test('prefix on email (any case), login, full_name and data strings: a literal prefix, no wildcards', async () => {
    await expectSeeds('email[prefix]=beta.', (u) => u.email.toLowerCase().startsWith('beta.'));
    await expectSeeds('email[prefix]=BETA.', (u) => u.email.toLowerCase().startsWith('beta.'));
    await expectSeeds('email[prefix]=alpha.0', (u) => u.email.toLowerCase().startsWith('alpha.0'));
    await expectSeeds('login[prefix]=login_1', (u) => u.login?.toLowerCase().startsWith('login_1'));
    await expectSeeds(`full_name[prefix]=${enc('Person 1')}`, (u) => u.full_name?.startsWith('Person 1'));
    await expectSeeds('data.profile.city[prefix]=Bo', (u) => dataAt(u, 'data.profile.city') === 'Boston');
    await expectSeeds('data.age[prefix]=3', (u) => typeof dataAt(u, 'data.age') === 'string' && dataAt(u, 'data.age').startsWith('3'));
    await expectSeeds('data.zip[prefix]=1', () => false, { any: true });
    for (const wild of ['%', '_', '%a', 'a%', '*', '.*', '[a-z]']) {
      await expectSeeds(`email[prefix]=${enc(wild)}`, () => false, { any: true });
      await expectSeeds(`full_name[prefix]=${enc(wild)}`, () => false, { any: true });
    }
    await expectSeeds('email[prefix]=', () => true, { any: true });
  });

  test('contains on tags', async () => {
    await expectSeeds('tags[contains]=vip', (u) => u.tags.includes('vip'));
    await expectSeeds('tags[contains]=vip&tags[contains]=beta', (u) => u.tags.includes('vip') && u.tags.includes('beta'));
    await expectSeeds('tags[contains]=VIP', () => false, { any: true });
    await expectSeeds('tags[contains]=vi', () => false, { any: true });
  });

  test('exists on nullable columns, tags and data paths', async () => {
    await expectSeeds('phone[exists]=true', (u) => u.phone !== null);
    await expectSeeds('phone[exists]=false', (u) => u.phone === null);
    await expectSeeds('login[exists]=false', (u) => u.login === null);
    await expectSeeds('full_name[exists]=true', (u) => u.full_name !== null);
    await expectSeeds('external_id[exists]=true', (u) => u.external_id !== null);
    await expectSeeds('email[exists]=true', () => true, { any: true });
    await expectSeeds('avatar_url[exists]=true', () => false, { any: true });
    await expectSeeds('last_request_at[exists]=false', () => true, { any: true });
    await expectSeeds('tags[exists]=true', () => true, { any: true });
    await expectSeeds('data.age[exists]=true', (u) => dataAt(u, 'data.age') !== undefined);
    await expectSeeds('data.age[exists]=false', (u) => dataAt(u, 'data.age') === undefined);
    await expectSeeds('data.profile[exists]=true', (u) => dataAt(u, 'data.profile') !== undefined);
    // A key holding JSON null exists.
    await expectSeeds('data.score[exists]=true', (u) => dataAt(u, 'data.score') !== undefined);
    await expectSeeds('data.profile.city[exists]=true', (u) => dataAt(u, 'data.profile.city') !== undefined);
    await expectSeeds('data.profile.zip[exists]=true&data.profile.city=Paris', (u) => dataAt(u, 'data.profile.city') === 'Paris');
    await expectSeeds('data.nothing.here[exists]=true', () => false, { any: true });
  });

  test('data.<path> comparisons are typed: the number 18 is not the string "18"', async () => {
    const code = (u) => dataAt(u, 'data.code');
    const numbers = await expectSeeds('data.code=18', (u) => code(u) === 18);
    const strings = await expectSeeds(`data.code=${enc('"18"')}`, (u) => code(u) === '18');
    assert.ok(numbers.length > 0 && strings.length > 0);
    assert.ok(!numbers.some((u) => strings.some((s) => s.id === u.id)));
    await expectSeeds('data.code=18.0', (u) => code(u) === 18);
    await expectSeeds('data.code[gte]=18', (u) => code(u) === 18);
    await expectSeeds(`data.code[gte]=${enc('"18"')}`, (u) => code(u) === '18');
    await expectSeeds(`data.code[in]=18,${enc('"18"')}`, (u) => code(u) !== undefined);
    // Text that is not a JSON literal is a string.
    await expectSeeds('data.age=16', () => false, { any: true });
    await expectSeeds(`data.age=${enc('"16"')}`, (u) => dataAt(u, 'data.age') === '16');
    await expectSeeds('data.age=018', () => false, { any: true }); // not a JSON number: the string "018"
    // true is the boolean; "true" the string.
    await expectSeeds('data.flag[ne]=true', (u) => dataAt(u, 'data.flag') !== true);
  });

  test('URL-encoded brackets work like typed ones', async () => {
    const age = (u) => dataAt(u, 'data.age');
    const pred = (u) => isNum(age(u)) && age(u) >= 18;
    await expectSeeds('data.age%5Bgte%5D=18', pred);
    await expectSeeds('data.age%5bgte%5d=18', pred);
    await expectSeeds('data.age[gte%5D=18', pred);
    await expectSeeds('email%5Bprefix%5D=gamma.', (u) => u.email.toLowerCase().startsWith('gamma.'));
    await expectSeeds('%64ata.age%5Bgte%5D=18', pred);
    await expectSeeds('tags%5Bcontains%5D=vip&sort=-data.age%2Cemail', (u) => u.tags.includes('vip'));
  });
});

// ---- sort and pagination --------------------------------------------------------------------------

describe('sort and cursor pagination', () => {
  test('sort=-data.age,email: mixed directions over mixed types', async () => {
    const items = await list(`${SCOPE}&sort=-data.age,email`);
    const want = sortUsers(seeds, '-data.age,email').map((u) => u.id);
    assert.deepEqual(items.map((u) => u.id), want);
    // Strings sort above numbers, and missing ages come last when descending.
    const ages = items.map((u) => dataAt(u, 'data.age'));
    assert.equal(typeof ages[0], 'string');
    assert.equal(ages.at(-1), undefined);
  });

  const SORTS = [
    '',
    'email',
    '-email',
    '-data.age,email',
    'data.age,-email',
    'full_name',
    '-full_name',
    'full_name,-email',
    '-phone,login',
    'login',
    '-external_id',
    'data.ratio',
    '-data.ratio',
    'data.profile.city,-created_at',
    '-data.flag,email',
    '-active,created_at',
    '-created_at',
    'updated_at',
    '-id',
    'id',
    'data.code,-id',
    '-data.score',
    'data.score',
    'data.profile,email',
  ];
  for (const sort of SORTS) {
    test(`sort=${sort || '(none)'}: the unpaged list is in the documented order, and every page size walks it exactly`, async () => {
      const query = [SCOPE, sort ? `sort=${sort}` : ''].filter(Boolean).join('&');
      const whole = (await list(query)).map((u) => u.id);
      assert.deepEqual(whole, sortUsers(seeds, sort).map((u) => u.id), 'the order');
      for (const limit of [1, 4, 7, 29, 30]) {
        const { ids, pages } = await pageThrough(query, limit);
        assert.deepEqual(ids, whole, `limit=${limit}`);
        assert.equal(pages, Math.max(1, Math.ceil(whole.length / limit)), `limit=${limit}: pages`);
      }
    });
  }

  // Filters that leave only non-null values of the sort key let the store use a plain range for the
  // cursor; these cases keep rows whose key is JSON null (which sorts as NULL) and so must not.
  const FILTERED = [
    'data.age[gte]=18&sort=-data.age',
    'data.age[exists]=true&sort=-data.age,email',
    'full_name[ne]=x&sort=-full_name',
    'phone[exists]=true&sort=-phone',
    'email[prefix]=beta&sort=-email',
    'data.score[exists]=true&sort=-data.score',
    'data.score[in]=null,3,6&sort=-data.score',
    'data.profile.city[exists]=true&sort=-data.profile.city,email',
    'data.score[exists]=true&sort=data.score',
  ];
  for (const query of FILTERED) {
    test(`${query}: pages walk the whole filtered list`, async () => {
      const q = `${SCOPE}&${query}`;
      const whole = (await list(q)).map((u) => u.id);
      assert.ok(whole.length > 2);
      const sort = /sort=([^&]*)/.exec(query)[1];
      assert.deepEqual(sortUsers(seeds.filter((u) => whole.includes(u.id)), sort).map((u) => u.id), whole, 'the order');
      for (const limit of [1, 2, 5]) {
        const { ids } = await pageThrough(q, limit);
        assert.deepEqual(ids, whole, `limit=${limit}`);
      }
    });
  }

  test('limit defaults to 50 and caps each page; next_cursor is null on the last page', async () => {
    const res = await get(`${SCOPE}&limit=5`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.items.length, 5);
    assert.equal(typeof res.body.next_cursor, 'string');
    const all = await get(SCOPE);
    assert.equal(all.body.items.length, SEED_COUNT);
    assert.equal(all.body.next_cursor, null);
    const exact = await get(`${SCOPE}&limit=${SEED_COUNT}`);
    assert.equal(exact.body.items.length, SEED_COUNT);
    assert.equal(exact.body.next_cursor, null, 'no empty page after a full last page');
    assert.equal((await get(`${SCOPE}&limit=1000`)).status, 200);
    assert.equal((await get(`${SCOPE}&cursor=`)).body.items.length, SEED_COUNT, 'an empty cursor is the first page');
  });

  test('users created between pages: no duplicates, no pre-existing user skipped, order kept', async () => {
    const make = async (local) => {
      const res = await api('POST', '/v1/users', { email: `${local}-${unique()}@example.com`, tags: ['extra'], data: { age: 20 } });
      assert.equal(res.status, 201, res.text);
      return res.body.id;
    };
    for (const sort of ['email', '', '-data.age,email', '-created_at']) {
      const query = sort ? `sort=${sort}` : '';
      const before = await list(query);
      const beforeIds = before.map((u) => u.id);
      const made = [];
      const { ids } = await pageThrough(query, 4, {
        between: async (page) => {
          // Before, among and after the rows seen so far, in every order used here.
          made.push(await make(`aaa${page}`), await make(`beta.05x${page}`), await make(`zzz${page}`));
        },
      });
      assert.ok(made.length > 0);
      assert.equal(new Set(ids).size, ids.length, `${sort}: no user twice`);
      for (const id of beforeIds) assert.ok(ids.includes(id), `${sort}: pre-existing ${id} is listed`);
      for (const id of ids) assert.ok(beforeIds.includes(id) || made.includes(id), `${sort}: only real users`);
      // What was listed is in the order of the sort.
      const after = await list(query);
      const listed = after.filter((u) => ids.includes(u.id));
      assert.deepEqual(ids, sortUsers(listed, sort).map((u) => u.id), `${sort}: in order`);
    }
  });
});

// ---- concurrency --------------------------------------------------------------------------------------

describe('concurrent queries', () => {
  test('many different queries at once answer exactly as they do one by one', async () => {
    const queries = [
      `${SCOPE}&sort=-data.age,email`,
      `${SCOPE}&data.age[gte]=18&sort=email`,
      `${SCOPE}&email[prefix]=beta.&sort=-created_at`,
      `${SCOPE}&tags[contains]=vip&data.code=18`,
      `${SCOPE}&data.code=${enc('"18"')}`,
      `${SCOPE}&phone[exists]=true&sort=-phone`,
      `${SCOPE}&external_id[nin]=ext-01,ext-03&sort=full_name,-email`,
      `${SCOPE}&data.profile.city[in]=Berlin,Paris&sort=data.profile.city`,
      `${SCOPE}&limit=3&sort=login`,
      'nosuch=1',
      'active=maybe',
      `${SCOPE}&sort=email&cursor=***`,
    ];
    const answer = async (q) => {
      const res = await get(q);
      return `${res.status} ${res.text.replace(/"request_id":"[^"]*"/, '')}`;
    };
    const expected = [];
    for (const q of queries) expected.push(await answer(q));
    for (let round = 0; round < 5; round++) {
      const order = queries.flatMap((q, i) => [i, i, i]);
      const got = await Promise.all(order.map((i) => answer(queries[i])));
      order.forEach((i, n) => assert.equal(got[n], expected[i], `round ${round}: ${queries[i]}`));
    }
  });
});

// ---- errors ------------------------------------------------------------------------------------------

describe('errors', () => {
  test('400 invalid_filter names unknown fields', async () => {
    for (const [query, field] of [
      ['nosuch=1', 'nosuch'],
      ['password=x', 'password'],
      ['password_hash[exists]=true', 'password_hash'],
      ['Email=a%40b.c', 'Email'],
      ['data=1', 'data'],
      ['data[exists]=true', 'data'],
      ['tag[contains]=vip', 'tag'],
    ]) {
      assertInvalidFilter(await get(query), [[field, 'unknown_field']], query);
    }
    // Every offending parameter is named at once.
    const res = await get('nosuch=1&active=maybe&email[like]=x&created_at=yesterday');
    assertInvalidFilter(res, [['nosuch', 'unknown_field'], ['active', 'type'], ['email', 'unknown_operator'], ['created_at', 'type']]);
    assert.equal(fieldErrors(res).length, 4, res.text);
  });

  test('400 invalid_filter names the field of an unknown or inapplicable operator', async () => {
    for (const [query, field, code] of [
      ['email[like]=x', 'email', 'unknown_operator'],
      ['email[EQ]=x', 'email', 'unknown_operator'],
      ['email[]=x', 'email', 'unknown_operator'],
      ['email[eq=x', 'email', 'unknown_operator'],
      ['email[eq][ne]=x', 'email', 'unknown_operator'],
      ['data.age[between]=1', 'data.age', 'unknown_operator'],
      ['data.age[contains]=1', 'data.age', 'operator_not_allowed'],
      ['email[contains]=x', 'email', 'operator_not_allowed'],
      ['tags=vip', 'tags', 'operator_not_allowed'],
      ['tags[prefix]=v', 'tags', 'operator_not_allowed'],
      ['active[gt]=true', 'active', 'operator_not_allowed'],
      ['active[exists]=true', 'active', 'operator_not_allowed'],
      ['id[exists]=true', 'id', 'operator_not_allowed'],
      ['created_at[prefix]=2026', 'created_at', 'operator_not_allowed'],
      ['is_guest[in]=true', 'is_guest', 'operator_not_allowed'],
    ]) {
      assertInvalidFilter(await get(query), [[field, code]], query);
    }
  });

  test('400 invalid_filter names the field of a value of the wrong type', async () => {
    for (const [query, field] of [
      ['active=maybe', 'active'],
      ['active=TRUE', 'active'],
      ['active=1', 'active'],
      ['email_verified=', 'email_verified'],
      ['created_at=yesterday', 'created_at'],
      ['created_at[gt]=2026-13-01T00:00:00Z', 'created_at'],
      ['created_at[gt]=2026-11-01', 'created_at'],
      ['updated_at[in]=2026-11-01T00:00:00Z,soon', 'updated_at'],
      ['last_request_at[lt]=1700000000', 'last_request_at'],
      ['data.age[gte]=true', 'data.age'],
      ['data.age[lt]=null', 'data.age'],
      ['phone[exists]=yes', 'phone'],
      ['data.age[exists]=1', 'data.age'],
    ]) {
      assertInvalidFilter(await get(query), [[field, 'type']], query);
    }
  });

  test('400 invalid_filter for bad sorts, naming sort', async () => {
    for (const [sort, code] of [
      ['nosuch', 'unknown_field'],
      ['password_hash', 'unknown_field'],
      ['data', 'unknown_field'],
      ['tags', 'not_sortable'],
      ['avatar_url', 'not_sortable'],
      ['email,-email', 'duplicate'],
      ['', 'format'],
      ['email,', 'format'],
      ['-', 'format'],
      ['email DESC', 'unknown_field'],
      ['email;DROP TABLE users', 'unknown_field'],
      ["data.a'b", 'unknown_field'],
      ['id,email,login,phone,full_name,external_id,created_at,updated_at,last_request_at', 'too_many'],
    ]) {
      assertInvalidFilter(await get(`sort=${enc(sort)}`), [['sort', code]], sort);
    }
    assertInvalidFilter(await get('sort=email&sort=id'), [['sort', 'duplicate']]);
    assertInvalidFilter(await get('limit=1&limit=2'), [['limit', 'duplicate']]);
  });

  test('422 for a limit outside 1 to 1000', async () => {
    for (const limit of ['0', '1001', '-1', 'abc', '1.5', '', '99999999999999999999', '+5']) {
      assertValidation(await get(`limit=${enc(limit)}`), 'limit:range');
    }
  });

  test('400 invalid_cursor for tampered cursors', async () => {
    const first = await get(`${SCOPE}&sort=email&limit=3`);
    const cursor = first.body.next_cursor;
    assert.equal(typeof cursor, 'string');
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    assert.deepEqual(Object.keys(decoded).sort(), ['i', 'k', 's'], 'the cursor format these tests tamper with');
    const forge = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const tampered = [
      '***',
      'not a cursor',
      cursor.slice(0, Math.floor(cursor.length / 2)),
      `${cursor}x`,
      Buffer.from('[1,2,3]').toString('base64url'),
      Buffer.from('{"s":"email"').toString('base64url'),
      forge({ ...decoded, s: '-email' }),
      forge({ ...decoded, s: 'created_at' }),
      forge({ ...decoded, k: [] }),
      forge({ ...decoded, k: [...decoded.k, 'extra'] }),
      forge({ ...decoded, k: [42] }),
      forge({ ...decoded, k: [{ a: 1 }] }),
      forge({ ...decoded, i: '' }),
      forge({ ...decoded, i: 7 }),
      forge({ ...decoded, x: 1 }),
      forge({ s: decoded.s, k: decoded.k }),
    ];
    for (const bad of tampered) {
      assertProblem(await get(`${SCOPE}&sort=email&limit=3&cursor=${enc(bad)}`), 400, 'invalid_cursor');
    }
    // A cursor continues only the order that made it.
    assertProblem(await get(`${SCOPE}&sort=-email&limit=3&cursor=${enc(cursor)}`), 400, 'invalid_cursor');
    assertProblem(await get(`${SCOPE}&limit=3&cursor=${enc(cursor)}`), 400, 'invalid_cursor');
    assertProblem(await get(`${SCOPE}&sort=email,id&limit=3&cursor=${enc(cursor)}`), 400, 'invalid_cursor');
    // A cursor of another sort whose keys have another type.
    const byTime = (await get(`${SCOPE}&sort=created_at&limit=3`)).body.next_cursor;
    const t = JSON.parse(Buffer.from(byTime, 'base64url').toString('utf8'));
    assertProblem(await get(`${SCOPE}&sort=created_at&limit=3&cursor=${enc(forge({ ...t, k: ['2026-01-01T00:00:00Z'] }))}`), 400, 'invalid_cursor');
    // The untouched cursor still works, with the same filter.
    assert.equal((await get(`${SCOPE}&sort=email&limit=3&cursor=${enc(cursor)}`)).status, 200);
  });

  test('at most 64 conditions; a query string that is not valid percent-encoding is 400', async () => {
    const conditions = (n) => Array.from({ length: n }, (_, i) => `data.k${i}[exists]=false`).join('&');
    assert.equal((await get(conditions(64))).status, 200);
    assertInvalidFilter(await get(conditions(65)), [['data.k64', 'too_many']]);
    for (const bad of ['email=%ZZ', 'email=%', 'email%5=x']) {
      const res = await get(bad);
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.ok(['malformed_request', 'invalid_filter'].includes(res.body.code), res.text);
    }
  });

  test('an error in the filter is reported before a bad cursor or limit', async () => {
    assertProblem(await get('nosuch=1&cursor=***&limit=0'), 400, 'invalid_filter');
    assertProblem(await get('cursor=***&limit=0'), 400, 'invalid_cursor');
  });
});

// ---- injection -----------------------------------------------------------------------------------------

describe('injection attempts are harmless', () => {
  const VALUES = [
    "' OR 1=1 --",
    "%' OR '1'='1",
    '"); DROP TABLE users; --',
    "'; DELETE FROM users; --",
    "1) OR (1=1",
    "x' UNION SELECT * FROM users --",
    '\\',
    "'",
    '"',
    '\u0000',
    "') OR json_extract(data, '$.age') > 0 --",
  ];

  test('as values: they match nothing and change nothing', async () => {
    const fields = ['email', 'login', 'phone', 'full_name', 'external_id', 'id', 'data.profile.city', 'data.age', 'data.x'];
    for (const v of VALUES) {
      for (const f of fields) {
        for (const op of ['eq', 'in', 'prefix', 'gt']) {
          if (op === 'gt' && f === 'id') continue;
          const res = await get(`${f}[${op}]=${enc(v)}`);
          if (op === 'gt') {
            // Ordered comparisons are allowed on text: whatever they match, they answer normally.
            assert.equal(res.status, 200, `${f}[${op}]=${v}: ${res.text}`);
            continue;
          }
          assert.equal(res.status, 200, `${f}[${op}]=${v}: ${res.text}`);
          assert.deepEqual(res.body.items, [], `${f}[${op}]=${JSON.stringify(v)} matches nothing`);
        }
      }
      // ne matches every seed: the value is a literal.
      await expectSeeds(`full_name[ne]=${enc(v)}`, () => true, { any: true });
      await expectSeeds(`data.profile.city[ne]=${enc(v)}`, () => true, { any: true });
      await expectSeeds(`tags[contains]=${enc(v)}`, () => false, { any: true });
      await expectSeeds(`email[nin]=${enc(v)}`, () => true, { any: true });
    }
    // The table is intact.
    assert.deepEqual((await list(SCOPE)).map((u) => u.id), seeds.map((u) => u.id).sort());
  });

  test('in bulk where clauses: matched 0, nothing changed', async () => {
    for (const v of VALUES) {
      const up = await api('POST', '/v1/users/bulk-update', { where: { email: v, 'data.age': { in: [v, 18] } }, set: { full_name: 'pwned' } });
      assert.equal(up.status, 200, up.text);
      assert.deepEqual(up.body, { matched: 0 });
      const del = await api('POST', '/v1/users/bulk-delete', { where: { full_name: { prefix: v } } });
      assert.equal(del.status, 200, del.text);
      assert.deepEqual(del.body, { matched: 0 });
    }
    const now = await list(SCOPE);
    assert.deepEqual(now, sortUsers(seeds, ''));
  });

  test('as field names and sort keys: refused with 400', async () => {
    for (const key of [
      "data.a'b",
      'data.a"b',
      'data.a) OR (1=1',
      "data.a'--",
      'data.a b',
      'data.$',
      'data..a',
      'data.',
      'data.a.',
      'data.a;DROP TABLE users',
      `data.${'x'.repeat(65)}`,
      `data.${Array.from({ length: 17 }, () => 'a').join('.')}`,
    ]) {
      assertInvalidFilter(await get(`${enc(key)}=1`), [[key, 'format']], key);
      assertInvalidFilter(await get(`${enc(key)}[eq]=1`), [[key, 'format']], key);
      assertInvalidFilter(await get(`sort=${enc(key)}`), [['sort', 'unknown_field']], `sort=${key}`);
      const bulk = await api('POST', '/v1/users/bulk-delete', { where: { [key]: 1 } });
      assertInvalidFilter(bulk, [[key, 'format']], `bulk ${key}`);
    }
    for (const key of ["email'", "email' OR '1'='1", 'email--', 'email;', '"email"', 'users.email', 'email_key', '1=1']) {
      assertInvalidFilter(await get(`${enc(key)}=x`), [[key, 'unknown_field']], key);
    }
    // data paths at the limits are fine.
    assert.equal((await get(`data.${'x'.repeat(64)}=1`)).status, 200);
    assert.equal((await get(`data.${Array.from({ length: 16 }, () => 'a').join('.')}=1`)).status, 200);
    assert.equal((await get('data.a-b_C9=1')).status, 200);
    // Still intact, and still writable.
    assert.deepEqual((await list(SCOPE)).map((u) => u.id), seeds.map((u) => u.id).sort());
    const res = await api('POST', '/v1/users', { email: `after-${unique()}@example.com`, tags: ['extra'] });
    assert.equal(res.status, 201, res.text);
  });

  test('in a forged cursor: bound as a value, answered normally', async () => {
    const forge = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const v of VALUES) {
      const res = await get(`${SCOPE}&sort=email&cursor=${enc(forge({ s: 'email', k: [v], i: v }))}`);
      assert.equal(res.status, 200, `${JSON.stringify(v)}: ${res.text}`);
      // Whatever it lists is what follows (v, v) in the order.
      const all = sortUsers(seeds, 'email');
      const following = all.filter((u) => {
        const c = compareValues(sortValue(u, 'email'), v);
        return c > 0 || (c === 0 && u.id > v);
      });
      assert.deepEqual(res.body.items.map((u) => u.id), following.map((u) => u.id), JSON.stringify(v));
      const byId = await get(`${SCOPE}&cursor=${enc(forge({ s: '', k: [], i: v }))}`);
      assert.equal(byId.status, 200, byId.text);
    }
    assert.deepEqual((await list(SCOPE)).map((u) => u.id), seeds.map((u) => u.id).sort());
  });
});
