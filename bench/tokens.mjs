// Collects OAuth tokens for the token scenarios of bench/run, with a bounded number of requests at once.
//
//   node bench/tokens.mjs grant BASE_URL KEY_ID SECRET COUNT OUT_FILE [SCOPE]
//     COUNT client_credentials grants (HTTP Basic): writes one refresh token a line (the starting
//     tokens of the refresh chains of (f)); prints the first access token on stdout.
//   node bench/tokens.mjs exchange BASE_URL SESSION_TOKENS_FILE OUT_FILE
//     one token exchange per session token (urn:ietf:params:oauth:grant-type:token-exchange):
//     writes the users' access tokens (JWTs), one a line, in the same order (for (g)).
import { readFileSync, writeFileSync } from "node:fs";

const [mode, base, ...rest] = process.argv.slice(2);
const concurrency = 8;

async function token(form, headers = {}) {
  const res = await fetch(base + "/v1/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /v1/token (${form.grant_type}) -> ${res.status}: ${text}`);
  const body = JSON.parse(text);
  if (typeof body.access_token !== "string" || typeof body.refresh_token !== "string")
    throw new Error(`POST /v1/token answered without tokens: ${text}`);
  return body;
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

const started = Date.now();
if (mode === "grant") {
  const [id, secret, countText, outFile, scope] = rest;
  // RFC 6749 2.3.1: each part is form-url-encoded before base64.
  const basic = "Basic " + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64");
  const form = { grant_type: "client_credentials", ...(scope ? { scope } : {}) };
  const issued = await pool(Number(countText), () => token(form, { authorization: basic }));
  writeFileSync(outFile, issued.map((t) => t.refresh_token).join("\n") + "\n");
  console.log(issued[0].access_token);
  console.error(`granted ${issued.length} client_credentials tokens in ${(Date.now() - started) / 1000}s`);
} else if (mode === "exchange") {
  const [sessionsFile, outFile] = rest;
  const sessions = readFileSync(sessionsFile, "utf8").split("\n").filter(Boolean);
  const issued = await pool(sessions.length, (i) =>
    token({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: sessions[i],
      subject_token_type: "urn:tessera:token-type:session",
    }),
  );
  writeFileSync(outFile, issued.map((t) => t.access_token).join("\n") + "\n");
  console.error(`exchanged ${issued.length} session tokens for access tokens in ${(Date.now() - started) / 1000}s`);
} else {
  console.error("usage: node bench/tokens.mjs grant|exchange ...");
  process.exit(2);
}
