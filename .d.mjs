import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
const rss = () => (Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024).toFixed(0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function maps() {
  const t = readFileSync('/proc/self/smaps', 'utf8').split('\n'); let cur = ''; const agg = {};
  for (const l of t) { const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l); if (m) { cur = m[1] || '[anon]'; continue; } const r = /^Rss:\s+(\d+)/.exec(l); if (r) agg[cur] = (agg[cur] ?? 0) + Number(r[1]); }
  return Object.entries(agg).filter(([, v]) => v > 10240).map(([k, v]) => `${k}:${(v / 1024).toFixed(0)}`).join(' ');
}
const opts = process.env.OPTS ? JSON.parse(process.env.OPTS) : {};
const db = await DuckDBInstance.create(':memory:', opts);
console.log('start', rss());
let c = await db.connect();
const q = process.env.Q ?? 'SELECT count(*) FROM (SELECT x, count(*) FROM range(40000000) t(x) GROUP BY x)';
const r = await c.runAndReadAll(q); console.log('result', r.getRowsJson()[0], 'rss', rss());
await sleep(1500); console.log('1.5s later', rss());
c.closeSync(); c = undefined; await sleep(1500); console.log('closed 1.5s', rss(), maps());
for (const extra of (process.env.EXTRA ?? '').split('|').filter(Boolean)) { const c2 = await db.connect(); await c2.run(extra); c2.closeSync(); await sleep(1000); console.log('after', extra, rss()); }
