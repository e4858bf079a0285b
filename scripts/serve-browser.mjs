#!/usr/bin/env node
// Serves the built browser demo (dist-browser/, see scripts/build-browser.mjs) on 127.0.0.1.
//
//   PORT=5173 node scripts/serve-browser.mjs [folder]
//
// PORT defaults to 5173; PORT=0 picks a free port. Prints "serving <folder> at <url>" once
// listening. GET/HEAD only, no directory listings, nothing outside the folder.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts the server; resolves with it and its URL once it listens. */
export function serveBrowser({ root = resolve(fileURLToPath(import.meta.url), '..', '..', 'dist-browser'), port = 5173, host = '127.0.0.1' } = {}) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request');
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = resolve(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) return send(403, 'forbidden');
    let stats;
    try {
      stats = statSync(file);
    } catch {
      return send(404, `not found: ${path}`);
    }
    if (!stats.isFile()) return send(404, `not found: ${path}`);
    res.writeHead(200, {
      'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stats.size,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolvePromise({ server, url: `http://${host}:${address.port}/`, root: relative(process.cwd(), base) || '.' });
    });
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 5173);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve-browser: PORT must be an integer in 0..65535, got ${JSON.stringify(process.env.PORT)}`);
    process.exit(2);
  }
  const root = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
  try {
    statSync(join(root ?? resolve(fileURLToPath(import.meta.url), '..', '..', 'dist-browser'), 'index.html'));
  } catch {
    console.error('serve-browser: no index.html to serve; build first: npm run build:browser');
    process.exit(2);
  }
  const { server, url, root: shown } = await serveBrowser({ port, ...(root !== undefined && { root }) }).catch((error) => {
    console.error(`serve-browser: ${error.message}`);
    process.exit(1);
  });
  console.log(`serving ${shown}/ at ${url}  (Ctrl+C to stop)`);
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
