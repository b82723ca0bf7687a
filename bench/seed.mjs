// Seeds the benchmark users: signs up COUNT users (email bench-<tag>-<i>@bench.example, one password),
// then logs each in once to collect a session token. Writes USERS_FILE (one email a line) and
// TOKENS_FILE (one token a line). A bounded number of requests run at once so the server's hashing
// queue never overflows (it answers 503 when full; those are retried).
// Usage: node bench/seed.mjs BASE_URL COUNT PASSWORD TAG USERS_FILE TOKENS_FILE
import { writeFileSync } from "node:fs";

const [base, countText, password, tag, usersFile, tokensFile] = process.argv.slice(2);
const count = Number(countText);
const concurrency = 8;

async function post(path, body) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status === 503 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      continue;
    }
    if (!res.ok) throw new Error(`${path} -> ${res.status}: ${text}`);
    return JSON.parse(text);
  }
}

async function pool(n, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

const emails = Array.from({ length: count }, (_, i) => `bench-${tag}-${i}@bench.example`);
const started = Date.now();
await pool(count, (i) => post("/v1/auth/signup", { email: emails[i], password }));
const signedUp = Date.now();
const tokens = await pool(count, async (i) => (await post("/v1/auth/login", { email: emails[i], password })).session.token);
for (const t of tokens) if (typeof t !== "string" || !t) throw new Error("login answered without a session token");
writeFileSync(usersFile, emails.join("\n") + "\n");
writeFileSync(tokensFile, tokens.join("\n") + "\n");
console.log(`seeded ${count} users in ${(signedUp - started) / 1000}s, logged in in ${(Date.now() - signedUp) / 1000}s`);
