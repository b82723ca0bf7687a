// Free TCP ports on 127.0.0.1 for the test servers that need a port known in advance (an SMTP sink or a
// webhook receiver that is down at first, or restarted on the same port).
import net from 'node:net';

// A port that was free a moment ago: bound to port 0, read back, released. Another process could take
// it before the caller binds it, which on a test machine does not happen in practice.
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Resolves 'accepted', 'refused' or another error code for one TCP connection attempt.
export function probePort(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(timeoutMs);
    socket.on('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : e.code || e.message));
  });
}

// Listens on host:port and keeps every connection in `sockets`, so that closeTracked can drop them all.
export async function listenTracked(server, port, host, sockets) {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// Closes `server` and every connection in `sockets`, then waits (at most 3 s) until the port refuses.
export async function closeTracked(server, sockets, port, host) {
  const closed = new Promise((resolve) => server.close(() => resolve()));
  server.closeAllConnections?.();
  for (const s of sockets) s.destroy();
  await closed;
  const deadline = Date.now() + 3000;
  while ((await probePort(port, host)) === 'accepted' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}
