// A small, strict-enough parser for the mails Tessera sends (RFC 5322 headers, RFC 2047 encoded words,
// MIME multipart, quoted-printable and base64 bodies), shared by the SMTP test servers and the
// `[mail] mode = "log"` .eml files.
//
//   import { parseMessage, lintMessage } from '../support/mime.mjs';
//   const m = parseMessage(rawBufferOrString);
//   m.headers['message-id'], m.subject (decoded), m.text, m.html, m.parts, m.raw
//   lintMessage(raw) -> [] or a list of problems (8-bit header bytes, over-long lines, bad QP, ...)

// The raw message as a "binary" string: one char per byte, so that 8-bit bytes survive until a part's
// charset is known.
function binaryString(raw) {
  if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) return Buffer.from(raw).toString('latin1');
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8').toString('latin1');
  throw new TypeError('parseMessage needs a Buffer or a string');
}

function decodeBytes(bytes, charset = 'utf-8') {
  let label = String(charset || 'utf-8').trim().toLowerCase();
  if (label === 'us-ascii' || label === 'ascii') label = 'utf-8';
  try {
    return new TextDecoder(label, { fatal: false }).decode(bytes);
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

// Splits a header block + body at the first empty line. Line ends may be CRLF or LF.
function splitHeadBody(bin) {
  const m = /\r?\n\r?\n/.exec(bin);
  if (!m) {
    // No body: the whole thing is headers (or the message starts with an empty line).
    if (/^\r?\n/.test(bin)) return { head: '', body: bin.replace(/^\r?\n/, '') };
    return { head: bin, body: '' };
  }
  // A message starting with an empty line has no headers.
  if (/^\r?\n/.test(bin)) return { head: '', body: bin.replace(/^\r?\n/, '') };
  return { head: bin.slice(0, m.index), body: bin.slice(m.index + m[0].length) };
}

// Unfolds and splits a header block into [name, value] pairs (values as binary strings, untrimmed of
// inner whitespace, leading/trailing whitespace removed).
function parseHeaderLines(head) {
  const lines = head.split(/\r?\n/);
  const out = [];
  for (const line of lines) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && out.length > 0) {
      out[out.length - 1][1] += line; // unfold: CRLF removed, the whitespace kept
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) {
      out.push([line, '']); // not a header line; kept so that lintMessage can report it
      continue;
    }
    out.push([line.slice(0, i).trim(), line.slice(i + 1)]);
  }
  return out.map(([k, v]) => [k, v.trim()]);
}

// RFC 2047 encoded words. Adjacent encoded words separated only by whitespace are joined (the whitespace
// between them is dropped); bytes of adjacent words with the same charset are decoded together so that a
// UTF-8 sequence split across two words decodes correctly.
const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function encodedWordBytes(encoding, text) {
  if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64');
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

export function decodeHeaderValue(binValue) {
  // Tokens: encoded words and the text between them.
  const tokens = [];
  let last = 0;
  for (const m of binValue.matchAll(ENCODED_WORD)) {
    if (m.index > last) tokens.push({ text: binValue.slice(last, m.index) });
    const charset = m[1].split('*')[0]; // RFC 2231 language suffix
    tokens.push({ word: true, charset, bytes: encodedWordBytes(m[2], m[3]) });
    last = m.index + m[0].length;
  }
  if (last < binValue.length) tokens.push({ text: binValue.slice(last) });

  let out = '';
  let pending = null; // { charset, chunks }
  const flush = () => {
    if (pending) out += decodeBytes(Buffer.concat(pending.chunks), pending.charset);
    pending = null;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.word) {
      if (pending && pending.charset.toLowerCase() === t.charset.toLowerCase()) pending.chunks.push(t.bytes);
      else {
        flush();
        pending = { charset: t.charset, chunks: [t.bytes] };
      }
      continue;
    }
    // Whitespace between two encoded words is not part of the text.
    if (/^[ \t\r\n]+$/.test(t.text) && tokens[i - 1]?.word && tokens[i + 1]?.word) continue;
    flush();
    out += decodeBytes(Buffer.from(t.text, 'latin1'), 'utf-8');
  }
  flush();
  return out;
}

// "text/plain; charset=\"utf-8\"; format=flowed" -> { type: 'text/plain', params: { charset: 'utf-8', ... } }
export function parseContentType(value) {
  const v = value ?? 'text/plain';
  const params = {};
  let i = v.indexOf(';');
  const type = (i < 0 ? v : v.slice(0, i)).trim().toLowerCase() || 'text/plain';
  const rest = i < 0 ? '' : v.slice(i + 1);
  const re = /\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*(?:;|$)/g;
  for (const m of rest.matchAll(re)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
  }
  return { type, params };
}

// Quoted-printable (RFC 2045 6.7) to bytes. Soft line breaks ("=" at the end of a line) join lines;
// hard line breaks become CRLF in the decoded bytes; trailing whitespace of encoded lines is dropped.
export function decodeQuotedPrintable(bin) {
  const lines = bin.split(/\r?\n/);
  const bytes = [];
  for (let li = 0; li < lines.length; li++) {
    let line = lines[li].replace(/[ \t]+$/, '');
    let soft = false;
    if (line.endsWith('=')) {
      soft = true;
      line = line.slice(0, -1);
    }
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(line.slice(i + 1, i + 3))) {
        bytes.push(parseInt(line.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(c.charCodeAt(0) & 0xff);
    }
    if (!soft && li < lines.length - 1) bytes.push(0x0d, 0x0a);
  }
  return Buffer.from(bytes);
}

function decodeTransfer(bin, encoding) {
  const enc = (encoding || '7bit').trim().toLowerCase();
  if (enc === 'quoted-printable') return decodeQuotedPrintable(bin);
  if (enc === 'base64') return Buffer.from(bin.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  return Buffer.from(bin, 'latin1');
}

function headerMap(pairs) {
  const headers = {};
  for (const [k, v] of pairs) {
    const key = k.toLowerCase();
    if (!(key in headers)) headers[key] = decodeHeaderValue(v);
  }
  return headers;
}

// Parses one entity (a message or a body part) from a binary string.
function parseEntity(bin, depth = 0) {
  const { head, body } = splitHeadBody(bin);
  const headerPairs = parseHeaderLines(head);
  const headers = headerMap(headerPairs);
  const ct = parseContentType(headers['content-type']);
  const entity = {
    headers,
    headerPairs: headerPairs.map(([k, v]) => [k, decodeHeaderValue(v)]),
    contentType: ct.type,
    params: ct.params,
    charset: ct.params.charset ?? null,
    transferEncoding: (headers['content-transfer-encoding'] || '7bit').toLowerCase(),
    rawBody: body,
    parts: [],
    body: null,
    bytes: null,
    multipartComplete: null,
  };
  if (ct.type.startsWith('multipart/') && ct.params.boundary && depth < 10) {
    const boundary = ct.params.boundary;
    const lines = body.split(/\r?\n/);
    let current = null;
    let complete = false;
    for (const line of lines) {
      const trimmed = line.replace(/[ \t]+$/, '');
      if (trimmed === `--${boundary}--`) {
        if (current) entity.parts.push(parseEntity(current.join('\r\n'), depth + 1));
        current = null;
        complete = true;
        break;
      }
      if (trimmed === `--${boundary}`) {
        if (current) entity.parts.push(parseEntity(current.join('\r\n'), depth + 1));
        current = [];
        continue;
      }
      if (current) current.push(line);
    }
    if (current) entity.parts.push(parseEntity(current.join('\r\n'), depth + 1)); // unterminated
    entity.multipartComplete = complete;
  } else {
    entity.bytes = decodeTransfer(body, entity.transferEncoding);
    // Text bodies with LF line ends, whatever the wire used.
    if (ct.type.startsWith('text/'))
      entity.body = decodeBytes(entity.bytes, entity.charset || 'us-ascii').replace(/\r\n/g, '\n');
  }
  return entity;
}

// Every leaf part, depth first.
function leaves(entity) {
  if (entity.parts.length === 0) return [entity];
  return entity.parts.flatMap(leaves);
}

function findText(entity, type) {
  for (const leaf of leaves(entity)) {
    const disposition = (leaf.headers['content-disposition'] || '').toLowerCase();
    if (leaf.contentType === type && !disposition.startsWith('attachment')) return leaf.body;
  }
  return null;
}

// Parses a whole message (Buffer or string). Returns
//   { headers (lower-case name -> first value, decoded), headerPairs ([name, decoded value] in order),
//     subject, messageId, date, from, to (header values), contentType, text, html, parts (leaf parts:
//     { contentType, charset, transferEncoding, headers, body }), multipartComplete, raw (string) }
export function parseMessage(raw) {
  const bin = binaryString(raw);
  const root = parseEntity(bin);
  return {
    headers: root.headers,
    headerPairs: root.headerPairs,
    subject: root.headers.subject ?? null,
    messageId: root.headers['message-id'] ?? null,
    date: root.headers.date ?? null,
    fromHeader: root.headers.from ?? null,
    toHeader: root.headers.to ?? null,
    contentType: root.contentType,
    params: root.params,
    multipartComplete: root.multipartComplete,
    text: findText(root, 'text/plain'),
    html: findText(root, 'text/html'),
    parts: leaves(root).map((p) => ({
      contentType: p.contentType,
      charset: p.charset,
      transferEncoding: p.transferEncoding,
      headers: p.headers,
      body: p.body,
      rawBody: p.rawBody,
    })),
    raw: Buffer.from(bin, 'latin1').toString('utf8'),
  };
}

// Problems a well-formed mail of Tessera's should not have (RFC 5322 / 2045 / 2047). Returns strings.
//   - a header line with 8-bit bytes (non-ASCII must be RFC 2047-encoded)
//   - any line longer than 998 octets; a quoted-printable line longer than 76 characters
//   - a quoted-printable body with an "=" not followed by two hex digits or a line end
//   - an 8-bit byte in a part declared quoted-printable, base64 or 7bit
//   - a multipart body without its closing boundary
//   - missing Date, Message-ID, From or To
export function lintMessage(raw) {
  const bin = binaryString(raw);
  const problems = [];
  const { head } = splitHeadBody(bin);
  for (const line of head.split(/\r?\n/)) {
    if (/[\x80-\xff]/.test(line)) problems.push(`8-bit header line: ${JSON.stringify(line.slice(0, 80))}`);
    if (line.length > 998) problems.push('header line longer than 998 octets');
  }
  const pairs = parseHeaderLines(head);
  for (const [k] of pairs) if (!/^[!-9;-~]+$/.test(k)) problems.push(`malformed header line: ${JSON.stringify(k.slice(0, 80))}`);
  const names = new Set(pairs.map(([k]) => k.toLowerCase()));
  for (const required of ['date', 'message-id', 'from', 'to'])
    if (!names.has(required)) problems.push(`missing ${required} header`);

  const walk = (entity, path) => {
    if (entity.multipartComplete === false) problems.push(`${path}: multipart without closing boundary`);
    if (entity.parts.length > 0) {
      entity.parts.forEach((p, i) => walk(p, `${path}.${i + 1}`));
      return;
    }
    const enc = entity.transferEncoding;
    const lines = entity.rawBody.split(/\r?\n/);
    for (const line of lines) {
      if (line.length > 998) problems.push(`${path}: line longer than 998 octets`);
      if (enc !== '8bit' && enc !== 'binary' && /[\x80-\xff]/.test(line))
        problems.push(`${path}: 8-bit byte in a ${enc} part`);
      if (enc === 'quoted-printable') {
        if (line.length > 76) problems.push(`${path}: quoted-printable line longer than 76 characters`);
        if (/=(?![0-9A-F]{2}|$)/.test(line)) problems.push(`${path}: bad quoted-printable escape in ${JSON.stringify(line.slice(0, 80))}`);
      }
    }
  };
  walk(parseEntity(bin), 'body');
  return problems;
}

// The first http(s) link in a text that carries `param` (default "token") as a query parameter.
// Returns { url (a URL), token } or null.
export function findLink(text, param = 'token') {
  if (!text) return null;
  for (const m of text.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
    let href = m[0].replace(/&amp;/g, '&');
    href = href.replace(/[.,;)\]]+$/, '');
    let url;
    try {
      url = new URL(href);
    } catch {
      continue;
    }
    const token = url.searchParams.get(param);
    if (token) return { url, token, href };
  }
  return null;
}
