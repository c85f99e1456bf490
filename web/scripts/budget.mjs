// The initial route's JS and CSS, gzipped, against the budget (issue: ≤ 120 KB): the entry
// script, its stylesheet and every chunk index.html preloads — what a first open downloads
// before the catalog can paint. Lazily loaded screens are not counted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 120 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
if (files.length === 0) {
  console.error('budget: no assets found in dist/index.html; run `npm run build` first');
  process.exit(1);
}
let total = 0;
for (const f of files) {
  const size = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += size;
  console.log(`  ${f.padEnd(40)} ${(size / 1024).toFixed(1).padStart(6)} KB gzip`);
}
const verdict = total <= BUDGET ? 'within' : 'OVER';
console.log(`initial route: ${(total / 1024).toFixed(1)} KB gzip, ${verdict} the ${BUDGET / 1024} KB budget`);
process.exit(total <= BUDGET ? 0 : 1);
