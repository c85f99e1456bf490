// A small static file server for the paint benchmark: serves a built Vite app (dist/) the way
// vitrina serves its embedded one — gzip or brotli when the browser accepts it, hashed
// /assets/* immutable, index.html no-cache, client-side routes fall back to index.html.
// With --proxy <url>, /api/ /dev/ /images/ go to a running vitrina: a web/dist built in a
// worktree can then be measured against the real API without rebuilding the binary.
// Usage: node static.mjs --dir <dist> --port <n> [--proxy http://127.0.0.1:8080]
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const dir = args.dir;
const port = Number(args.port ?? 0);
const proxy = args.proxy ? new URL(args.proxy) : null;
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json']);
const cache = new Map();

function compressed(file, enc) {
  const key = `${file}|${enc}`;
  if (!cache.has(key)) {
    const raw = readFileSync(file);
    cache.set(
      key,
      enc === 'br'
        ? brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
        : gzipSync(raw, { level: 6 }),
    );
  }
  return cache.get(key);
}

function forward(req, res) {
  const p = http.request(
    { host: proxy.hostname, port: proxy.port, path: req.url, method: req.method, headers: { ...req.headers, host: proxy.host } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  p.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(p);
}

const server = http.createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (proxy && /^\/(api|dev|images)\//.test(path)) return forward(req, res);
  let file = normalize(join(dir, path));
  if (!file.startsWith(normalize(dir)) || !existsSync(file) || statSync(file).isDirectory()) {
    if (extname(path)) {
      res.writeHead(404);
      return res.end();
    }
    file = join(dir, 'index.html');
  }
  const ext = extname(file);
  const headers = {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  const accept = String(req.headers['accept-encoding'] ?? '');
  const enc = !COMPRESSIBLE.has(ext) ? null : /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : null;
  if (enc) {
    const body = compressed(file, enc);
    res.writeHead(200, { ...headers, 'content-encoding': enc, 'content-length': body.length, vary: 'accept-encoding' });
    return res.end(body);
  }
  res.writeHead(200, { ...headers, 'content-length': statSync(file).size });
  createReadStream(file).pipe(res);
});
server.listen(port, '127.0.0.1', () => console.log(`static ${dir} on http://127.0.0.1:${server.address().port}`));
