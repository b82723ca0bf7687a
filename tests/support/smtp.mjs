// A real SMTP server for the mail tests: Postfix's smtp-sink, listening on 127.0.0.1 and a free port,
// dumping every mail transaction to its own file in a temp dir; the dumps are parsed into messages.
//
//   import { startSmtpSink } from '../support/smtp.mjs';
//   const smtp = await startSmtpSink();            // or startSmtpSink({ start: false }): port chosen, down
//   env: { TESSERA_MAIL_MODE: 'smtp', TESSERA_MAIL_SMTP_HOST: '127.0.0.1', TESSERA_MAIL_SMTP_PORT: smtp.port }
//   const [m] = await smtp.waitForMessages(1, { timeoutMs: 10_000 });
//   m.from, m.to (envelope), m.headers, m.subject, m.text, m.html, m.raw, m.file
//   await smtp.stop(); await smtp.start();       // down and up again on the same port
//   await smtp.close();                          // in after(): stops it and removes its dir
//
// smtp-sink has no TLS; see smtp_tls.mjs for STARTTLS, SMTPS and AUTH.
//
// The dump format (man smtp-sink, "DUMP FILE FORMAT"): X-Client-Addr, X-Client-Proto, X-Helo-Args,
// X-Mail-Args (the MAIL FROM arguments), one X-Rcpt-Args per RCPT TO, a three-line Received header, then
// the message as received (dot-unstuffed, LF line ends), then one empty line. A dump file is written
// while its transaction is in progress and finished when "." arrives.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, removeTempDir, sleep } from './server.mjs';
import { freePort, probePort } from './ports.mjs';
import { parseMessage } from './mime.mjs';

export const SMTP_SINK = process.env.SMTP_SINK || '/usr/sbin/smtp-sink';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
});

// The user smtp-sink drops to when run as root (it refuses to run as root without -u).
function unprivilegedUser() {
  try {
    const passwd = fs.readFileSync('/etc/passwd', 'utf8');
    const line = passwd.split('\n').find((l) => l.startsWith('nobody:'));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { name: 'nobody', uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // fall through
  }
  return { name: 'nobody', uid: 65534, gid: 65534 };
}

const SINK_HEADER = /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): ?(.*)$/;

const angle = (args) => {
  const m = /<([^>]*)>/.exec(args || '');
  return m ? m[1] : (args || '').trim().split(/\s+/)[0] || '';
};

// Parses one smtp-sink dump file (a Buffer). Returns null while the dump looks incomplete.
export function parseSinkDump(buf, { requireComplete = true } = {}) {
  const text = buf.toString('latin1');
  if (requireComplete && !text.endsWith('\n\n')) return null;
  const lines = text.split('\n');
  const envelope = { clientAddr: null, proto: null, helo: null, mailArgs: null, rcptArgs: [] };
  let i = 0;
  for (; i < lines.length; i++) {
    const m = SINK_HEADER.exec(lines[i]);
    if (!m) break;
    if (m[1] === 'Client-Addr') envelope.clientAddr = m[2];
    else if (m[1] === 'Client-Proto') envelope.proto = m[2];
    else if (m[1] === 'Helo-Args') envelope.helo = m[2];
    else if (m[1] === 'Mail-Args') envelope.mailArgs = m[2];
    else envelope.rcptArgs.push(m[2]);
  }
  if (!/^Received: /.test(lines[i] ?? '')) {
    if (requireComplete) return null;
  } else {
    i += 1;
    while (i < lines.length && /^[ \t]/.test(lines[i])) i += 1;
  }
  // The rest is the message plus the empty line smtp-sink appends.
  let message = lines.slice(i).join('\n');
  if (message.endsWith('\n\n')) message = message.slice(0, -1);
  const raw = Buffer.from(message, 'latin1');
  const parsed = parseMessage(raw);
  if (requireComplete && parsed.multipartComplete === false) return null;
  return {
    ...parsed,
    from: angle(envelope.mailArgs),
    to: envelope.rcptArgs.map(angle),
    envelope,
  };
}

export class SmtpSink {
  constructor({ port, dir, host = '127.0.0.1' }) {
    this.host = host;
    this.port = port;
    this.dir = dir; // the dump files (written by the unprivileged user when we are root)
    this.child = null;
    this.output = '';
    this.sizes = new Map(); // file -> size at the previous scan (for waitForMessages' stability check)
  }

  get running() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  // The environment that points tessera at this sink (plain SMTP, no auth).
  get env() {
    return {
      TESSERA_MAIL_MODE: 'smtp',
      TESSERA_MAIL_SMTP_HOST: this.host,
      TESSERA_MAIL_SMTP_PORT: String(this.port),
      TESSERA_MAIL_SMTP_TLS: 'none',
    };
  }

  async start({ timeoutMs = 5000 } = {}) {
    if (this.running) throw new Error('smtp-sink is already running');
    const args = ['-4', '-h', 'smtp-sink.test', '-d', `${this.dir}/%Y%m%d%H%M%S.`];
    if (process.getuid?.() === 0) args.unshift('-u', unprivilegedUser().name);
    args.push(`${this.host}:${this.port}`, '64');
    const child = spawn(SMTP_SINK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    this.output = '';
    const collect = (d) => {
      this.output = (this.output + d.toString()).slice(-8192);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let spawnError = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('exit', () => live.delete(child));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError) throw new Error(`cannot start ${SMTP_SINK}: ${spawnError.message}`);
      if (!this.running) throw new Error(`smtp-sink exited (${child.exitCode ?? child.signalCode}): ${this.output}`);
      if ((await probePort(this.port, this.host)) === 'accepted') return this;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`smtp-sink did not listen on ${this.host}:${this.port} within ${timeoutMs} ms: ${this.output}`);
      }
      await sleep(25);
    }
  }

  async stop() {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    // Wait until the port refuses connections (the listening socket is gone).
    const deadline = Date.now() + 3000;
    while ((await probePort(this.port, this.host)) === 'accepted' && Date.now() < deadline) await sleep(25);
  }

  async close() {
    try {
      await this.stop();
    } finally {
      await removeTempDir(this.dir);
    }
  }

  files() {
    let names;
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .map((name) => {
        const file = path.join(this.dir, name);
        try {
          const st = fs.statSync(file);
          return st.isFile() ? { file, size: st.size, mtimeMs: st.mtimeMs, name } : null;
        } catch {
          return null;
        }
      })
      .filter(Boolean)
      .sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
  }

  // Every complete message received so far (across restarts), oldest first.
  messages() {
    const out = [];
    for (const { file } of this.files()) {
      let buf;
      try {
        buf = fs.readFileSync(file);
      } catch {
        continue;
      }
      const m = parseSinkDump(buf);
      if (m) out.push({ ...m, file });
    }
    return out;
  }

  // Waits until at least `n` complete messages are there (and their files stopped growing); returns all
  // messages. `filter` (optional) counts only the messages it accepts, and only those are returned.
  async waitForMessages(n = 1, { timeoutMs = 10_000, filter } = {}) {
    const deadline = Date.now() + timeoutMs;
    let previous = null;
    for (;;) {
      const files = this.files();
      const signature = files.map((f) => `${f.name}:${f.size}`).join('|');
      const all = this.messages();
      const msgs = filter ? all.filter(filter) : all;
      if (msgs.length >= n && signature === previous) return msgs;
      previous = signature;
      if (Date.now() > deadline) {
        throw new Error(
          `smtp-sink: ${msgs.length} of ${n} messages within ${timeoutMs} ms (files: ${files.length}; sink ${this.running ? 'running' : 'stopped'}${this.output ? `; output: ${this.output}` : ''})`,
        );
      }
      await sleep(50);
    }
  }

  // Deletes the dumps received so far (messages() starts from empty again).
  clear() {
    for (const { file } of this.files()) fs.rmSync(file, { force: true });
  }
}

// Starts smtp-sink on `port` (else a free one). start: false chooses the port but leaves the sink down.
export async function startSmtpSink({ port, start = true } = {}) {
  const dir = await makeTempDir('tessera-smtp-');
  if (process.getuid?.() === 0) {
    const { uid, gid } = unprivilegedUser();
    fs.chownSync(dir, uid, gid);
  }
  const sink = new SmtpSink({ port: port ?? (await freePort()), dir });
  if (start) {
    try {
      await sink.start();
    } catch (e) {
      await removeTempDir(dir);
      throw e;
    }
  }
  return sink;
}
