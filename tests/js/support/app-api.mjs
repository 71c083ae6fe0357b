// A stand-in for an app's own backend, for AuthClient's fetch() and
// request(): it records every request (with its Authorization header) and
// answers 401 to tokens the test refuses, 200 with what it saw otherwise.
// CORS is open, so a page served from another origin can call it.
import { startServer } from './http-server.mjs';

export async function startAppApi() {
  const seen = [];
  const refused = new Set();
  let refuseAll = false;
  const server = await startServer((req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type',
      'access-control-allow-methods': 'GET, POST, PUT',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const authorization = req.headers.authorization ?? null;
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : null;
      seen.push({ method: req.method, path: req.url, authorization, token, body });
      const status = token !== null && (refuseAll || refused.has(token)) ? 401 : 200;
      res.writeHead(status, { 'content-type': 'application/json', ...cors });
      res.end(JSON.stringify({ method: req.method, path: req.url, authorization, body }));
    });
  });
  return {
    url: server.url,
    /** Every request so far: { method, path, authorization, token, body }. */
    seen,
    /** Answers 401 to this token from now on. */
    refuse: (token) => refused.add(token),
    /** Answers 401 to every token from now on. */
    refuseAll: () => {
      refuseAll = true;
    },
    close: () => server.close(),
  };
}
