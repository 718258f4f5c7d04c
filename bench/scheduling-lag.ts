/**
 * Scheduling lag: the time between a task ending and the next one starting, measured from
 * the try rows orch records. Airflow's scheduler loop typically adds seconds here.
 *
 *   npx tsx bench/scheduling-lag.ts
 *
 * Prints one table: per shape, tasks, total wall time, and the lag p50 / p95 / max.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DagBag } from '../src/core/dags/loader.ts';
import { Scheduler } from '../src/core/scheduler.ts';
import { openStore } from '../src/store/index.ts';

const SDK = new URL('../src/sdk/index.ts', import.meta.url).pathname;

const SHAPES: Record<string, string> = {
  'chain of 50': `let prev; for (let i = 0; i < 50; i++) prev = d.task({ id: 't' + i, upstream: prev ? [prev] : [], run: () => i });`,
  'fan-out 100, cap 10': `const s = d.task({ id: 's', run: () => 0 }); for (let i = 0; i < 100; i++) d.task({ id: 't' + i, upstream: [s], run: () => new Promise((r) => setTimeout(r, 5)) });`,
};

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

const rows: string[][] = [];
for (const [name, body] of Object.entries(SHAPES)) {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'bench.ts'), `import { dag } from ${JSON.stringify(SDK)};\nconst d = dag({ id: 'bench', maxActiveTasks: 10 });\n${body}\nexport default d;\n`);
    const store = openStore(join(dir, 'orch.db'));
    const bag = new DagBag(dir);
    await bag.refresh();
    const scheduler = new Scheduler({ store, dagBag: bag });
    const started = performance.now();
    const { run } = await scheduler.runDag('bench');
    const wall = performance.now() - started;
    const tries = store.tis.triesForRun('bench', run.runId);
    const ends = tries.map((t) => Date.parse(t.endDate!)).sort((a, b) => a - b);
    // Lag of a try: its start minus the latest end of any try that ended before it started.
    const lags = tries
      .map((t) => {
        const start = Date.parse(t.startDate);
        const before = ends.filter((e) => e <= start);
        return before.length ? start - before[before.length - 1]! : undefined;
      })
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    rows.push([name, String(tries.length), `${wall.toFixed(0)} ms`, `${pct(lags, 50)} ms`, `${pct(lags, 95)} ms`, `${lags.at(-1) ?? 0} ms`]);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const header = ['shape', 'tasks', 'wall', 'lag p50', 'lag p95', 'lag max'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
