// An SMTP server with TLS and AUTH for the mail transport tests: nodemailer's smtp-server package
// (a real SMTP implementation) with a certificate from a throw-away CA made by the openssl CLI.
//
//   import { startTlsSmtpServer } from '../support/smtp_tls.mjs';
//   const smtp = await startTlsSmtpServer({ tls: 'starttls', auth: { username: 'mailer', password: 's3cret' } });
//   env: { ...smtp.env }   // TESSERA_MAIL_MODE/SMTP_HOST/SMTP_PORT/SMTP_TLS/SMTP_CA_FILE (+ username, password)
//   const [m] = await smtp.waitForMessages(1);
//   m.from, m.to, m.subject, m.text, m.html, m.headers, m.raw, m.secure, m.user (the AUTH user or null)
//   smtp.authAttempts -> [{ method, username, ok, secure }]; smtp.connections -> [{ secure, ... }] (SMTP
//   sessions); smtp.tcpConnections (a count of TCP connections, failed TLS handshakes included)
//   await smtp.stop(); await smtp.start(); await smtp.close();
//
//   tls: 'starttls'  plain connection, STARTTLS offered, MAIL/AUTH refused (530) before it
//        'implicit'  TLS from the first byte (SMTPS)
//        'none'      no TLS at all (STARTTLS not offered)
//   auth: { username, password } makes AUTH PLAIN/LOGIN required before MAIL; null: no AUTH
//
// makeCertificates() makes a CA and a server certificate for 127.0.0.1 / localhost signed by it:
// TESSERA_MAIL_SMTP_CA_FILE=<caFile> makes tessera trust it; without it the server is untrusted.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { SMTPServer } from 'smtp-server';

import { makeTempDir, removeTempDir, sleep } from './server.mjs';
import { freePort, probePort } from './ports.mjs';
import { parseMessage } from './mime.mjs';

const run = promisify(execFile);

async function openssl(args, cwd) {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (e) {
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

// A CA (ca.pem) and a server certificate (cert.pem, key.pem) for IP:127.0.0.1 and DNS:localhost, valid
// for two days, P-256 keys. Returns { dir, caFile, certFile, keyFile, ca, cert, key } (PEM strings).
export async function makeCertificates({ dir, cn = 'localhost' } = {}) {
  const d = dir ?? (await makeTempDir('tessera-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Tessera test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    d,
  );
  await openssl(['req', '-new', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', `/CN=${cn}`], d);
  fs.writeFileSync(
    path.join(d, 'server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem',
      '-days', '2', '-extfile', 'server.ext'],
    d,
  );
  const read = (f) => fs.readFileSync(path.join(d, f), 'utf8');
  return {
    dir: d,
    caFile: path.join(d, 'ca.pem'),
    certFile: path.join(d, 'cert.pem'),
    keyFile: path.join(d, 'key.pem'),
    ca: read('ca.pem'),
    cert: read('cert.pem'),
    key: read('key.pem'),
  };
}

export class TlsSmtpServer {
  constructor({ port, host = '127.0.0.1', tls, auth, certs, ownsCerts }) {
    if (!['starttls', 'implicit', 'none'].includes(tls)) throw new Error(`tls must be starttls, implicit or none, not ${tls}`);
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.auth = auth ?? null;
    this.certs = certs;
    this.ownsCerts = ownsCerts;
    this.server = null;
    this.received = [];
    this.authAttempts = [];
    this.connections = []; // SMTP sessions (after the TLS handshake, for implicit TLS)
    this.tcpConnections = 0; // TCP connections accepted, whether or not a handshake followed
    this.errors = [];
  }

  get caFile() {
    return this.certs.caFile;
  }

  get running() {
    return this.server !== null;
  }

  // The environment that points tessera at this server (with the CA and the credentials).
  get env() {
    const env = {
      TESSERA_MAIL_MODE: 'smtp',
      TESSERA_MAIL_SMTP_HOST: this.host,
      TESSERA_MAIL_SMTP_PORT: String(this.port),
      TESSERA_MAIL_SMTP_TLS: this.tls,
      TESSERA_MAIL_SMTP_CA_FILE: this.certs.caFile,
    };
    if (this.auth) {
      env.TESSERA_MAIL_SMTP_USERNAME = this.auth.username;
      env.TESSERA_MAIL_SMTP_PASSWORD = this.auth.password;
    }
    return env;
  }

  makeServer() {
    const requireTls = this.tls === 'starttls';
    const options = {
      secure: this.tls === 'implicit',
      key: this.certs.key,
      cert: this.certs.cert,
      name: 'smtp.test',
      banner: 'Tessera test SMTP',
      disabledCommands: [...(this.tls === 'none' ? ['STARTTLS'] : []), ...(this.auth ? [] : ['AUTH'])],
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !this.auth,
      allowInsecureAuth: this.tls === 'none',
      disableReverseLookup: true,
      logger: false,
      socketTimeout: 30_000,
      closeTimeout: 1000,
      onConnect: (session, cb) => {
        this.connections.push({ id: session.id, remoteAddress: session.remoteAddress, at: Date.now() });
        cb();
      },
      onSecure: (socket, session, cb) => {
        const c = this.connections.find((x) => x.id === session.id);
        if (c) {
          c.secure = true;
          c.servername = session.servername;
        }
        cb();
      },
      onAuth: (auth, session, cb) => {
        const ok = !!this.auth && auth.username === this.auth.username && auth.password === this.auth.password;
        this.authAttempts.push({ method: auth.method, username: auth.username, ok, secure: !!session.secure, at: Date.now() });
        if (!ok) {
          const err = new Error('Invalid username or password');
          err.responseCode = 535;
          return cb(err);
        }
        cb(null, { user: auth.username });
      },
      onMailFrom: (address, session, cb) => {
        if (requireTls && !session.secure) {
          const err = new Error('Must issue a STARTTLS command first');
          err.responseCode = 530;
          return cb(err);
        }
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          this.received.push({
            raw,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            to: session.envelope.rcptTo.map((r) => r.address),
            secure: !!session.secure,
            user: session.user ?? null,
            at: Date.now(),
          });
          cb(null, 'Queued');
        });
      },
    };
    const server = new SMTPServer(options);
    server.on('error', (e) => this.errors.push(e.message));
    return server;
  }

  async start() {
    if (this.server) throw new Error('the SMTP server is already running');
    const server = this.makeServer();
    server.server.on('connection', () => {
      this.tcpConnections += 1;
    });
    await new Promise((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this;
  }

  async stop() {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise((resolve) => server.close(resolve));
    const deadline = Date.now() + 3000;
    while ((await probePort(this.port, this.host)) === 'accepted' && Date.now() < deadline) await sleep(25);
  }

  async close() {
    await this.stop();
    if (this.ownsCerts) await removeTempDir(this.certs.dir);
  }

  // Every message received so far, oldest first, parsed (see mime.mjs) plus the envelope and session.
  messages() {
    return this.received.map((r) => ({ ...parseMessage(r.raw), from: r.from, to: r.to, secure: r.secure, user: r.user, rawBuffer: r.raw }));
  }

  async waitForMessages(n = 1, { timeoutMs = 10_000, filter } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = this.messages();
      const msgs = filter ? all.filter(filter) : all;
      if (msgs.length >= n) return msgs;
      if (Date.now() > deadline) {
        throw new Error(
          `SMTP server (${this.tls}): ${msgs.length} of ${n} messages within ${timeoutMs} ms (connections: ${this.connections.length}, auth attempts: ${JSON.stringify(this.authAttempts.map((a) => [a.method, a.username, a.ok]))}, errors: ${JSON.stringify(this.errors)})`,
        );
      }
      await sleep(50);
    }
  }
}

// Starts the server on `port` (else a free one), with `certs` from makeCertificates() (else new ones,
// removed by close()). start: false chooses the port but leaves it down.
export async function startTlsSmtpServer({ tls = 'starttls', auth = null, port, certs, start = true } = {}) {
  const ownsCerts = !certs;
  const c = certs ?? (await makeCertificates());
  const server = new TlsSmtpServer({ port: port ?? (await freePort()), tls, auth, certs: c, ownsCerts });
  if (start) await server.start();
  return server;
}
