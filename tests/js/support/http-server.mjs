// A node:http server on 127.0.0.1 with an ephemeral port, for the JWKS
// endpoints and the browser's page. close() also ends connections left
// hanging (the stalled-server scenario holds one open on purpose).
import { createServer } from 'node:http';

/** @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void} handler */
export async function startServer(handler) {
  const sockets = new Set();
  const server = createServer((req, res) => {
    try {
      handler(req, res);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error && error.stack));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
