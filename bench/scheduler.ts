/**
 * The scheduler at the speed of its SQLite file: three DAG shapes of no-op function tasks
 * run by one in-process Scheduler on a real database file, each in its own child process
 * (so peak RSS is the shape's own), at synchronous=NORMAL and FULL.
 *
 *   npx tsx bench/scheduler.ts           # full sizes
 *   npx tsx bench/scheduler.ts --quick   # smaller, for bench:quick
 *
 * Figures: tasks per second (wall time of the run / tasks), the gap between an upstream
 * task's end and its downstream task's start (p50, p99), and peak RSS. The floor is the
 * same number of SQLite write transactions, one per task, with the same settings: what a
 * scheduler that commits each task once could do at best on this disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { percentile, printTable, type BenchRow } from './lib/table.ts';

const SDK = fileURLToPath(new URL('../src/sdk/index.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

type Shape = 'independent' | 'chain' | 'fan';
type Sync = 'NORMAL' | 'FULL';

interface ShapeResult {
  tasks: number;
  wallMs: number;
  gaps: { p50: number; p99: number };
  maxRssMb: number;
  floorTxPerSec: number;
}

/**
 * The DAG file of a shape: `n` tasks (chain, independent) or `n` stages of a 100-wide
 * fan-out and a join. Each task notes when its code began and ended, so a gap is measured
 * between task code, not between orch's own events.
 */
function dagSource(shape: Shape, n: number): string {
  const head = `import { dag } from ${JSON.stringify(SDK)};
const clock = (globalThis as any).__orchBench ?? { begin: new Map(), end: new Map() };
const noop = (ctx: { taskId: string }) => { clock.begin.set(ctx.taskId, performance.now()); clock.end.set(ctx.taskId, performance.now()); };
const d = dag({ id: 'bench', maxActiveTasks: 64 });
`;
  const body = {
    independent: `for (let i = 0; i < ${n}; i++) d.task({ id: 't' + i, run: noop });`,
    chain: `let prev; for (let i = 0; i < ${n}; i++) prev = d.task({ id: 't' + i, upstream: prev ? [prev] : [], run: noop });`,
    fan: `let join = d.task({ id: 'j0', run: noop });
      for (let s = 1; s <= ${n}; s++) {
        const wide = [];
        for (let i = 0; i < 100; i++) wide.push(d.task({ id: 's' + s + '_' + i, upstream: [join], run: noop }));
        join = d.task({ id: 'j' + s, upstream: wide, run: noop });
      }`,
  }[shape];
  return `${head}${body}\nexport default d;\n`;
}

/** Child: run one shape and print its figures as JSON. */
async function child(shape: Shape, n: number, sync: Sync): Promise<void> {
  const { DagBag } = await import('../src/core/dags/loader.ts');
  const { Scheduler } = await import('../src/core/scheduler.ts');
  const { openStore } = await import('../src/store/index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'bench.ts'), dagSource(shape, n));
    // Set before the DAG file is imported: its tasks write their times here.
    const clock = { begin: new Map<string, number>(), end: new Map<string, number>() };
    (globalThis as { __orchBench?: unknown }).__orchBench = clock;
    const started = clock.begin;
    const ended = clock.end;
    const bag = new DagBag(dir);
    await bag.refresh();
    const dag = bag.get('bench');
    if (!dag) throw new Error(`the bench DAG did not load: ${JSON.stringify(bag.errors())}`);
    const store = openStore(join(dir, 'orch.db'));
    store.db.pragma(`synchronous = ${sync}`);
    const scheduler = new Scheduler({ store, dagBag: bag, parallelism: 64 });
    const t0 = performance.now();
    const { state } = await scheduler.runDag('bench');
    const wallMs = performance.now() - t0;
    if (state !== 'success') throw new Error(`the bench run ended ${state}`);
    const gaps: number[] = [];
    for (const task of dag.tasks.values()) {
      const start = started.get(task.id);
      const latestUpstreamEnd = Math.max(...task.upstream.map((u) => ended.get(u) ?? NaN));
      if (task.upstream.length && start !== undefined && Number.isFinite(latestUpstreamEnd)) gaps.push(start - latestUpstreamEnd);
    }
    gaps.sort((a, b) => a - b);
    store.close();
    const floorTxPerSec = writeFloor(join(dir, 'floor.db'), sync, dag.tasks.size);
    const result: ShapeResult = {
      tasks: dag.tasks.size,
      wallMs,
      gaps: { p50: percentile(gaps, 50), p99: percentile(gaps, 99) },
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      floorTxPerSec,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` write transactions of one small row each, with orch's settings: transactions per second. */
function writeFloor(file: string, sync: Sync, count: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT, at TEXT)');
  const insert = db.prepare('INSERT INTO t (state, at) VALUES (?, ?)');
  const tx = db.transaction((i: number) => insert.run('success', String(i)));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) tx.immediate(i);
  const ms = performance.now() - t0;
  db.close();
  return (count / ms) * 1000;
}

function runChild(shape: Shape, n: number, sync: Sync): ShapeResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', shape, String(n), sync], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ShapeResult;
}

/** Run the shapes and print the table; returns how many targets were met. */
export function benchScheduler(quick: boolean): { met: number; total: number } {
  const sizes = quick ? { independent: 2_000, chain: 500, fan: 10 } : { independent: 10_000, chain: 1_000, fan: 100 };
  const rows: BenchRow[] = [];
  const syncs: Sync[] = quick ? ['NORMAL'] : ['NORMAL', 'FULL'];
  for (const sync of syncs) {
    const ind = runChild('independent', sizes.independent, sync);
    const tps = (r: ShapeResult) => (r.tasks / r.wallMs) * 1000;
    rows.push({ figure: `${ind.tasks} independent tasks (${sync})`, value: tps(ind), unit: 'tasks/s', target: { bound: 'min', value: 20_000 }, comparison: { label: '1 write tx per task', value: ind.floorTxPerSec } });
    rows.push({ figure: `  peak RSS`, value: ind.maxRssMb, unit: 'MB', target: { bound: 'max', value: 200 } });
    const chain = runChild('chain', sizes.chain, sync);
    rows.push({ figure: `${chain.tasks}-task chain (${sync})`, value: tps(chain), unit: 'tasks/s', comparison: { label: '1 write tx per task', value: chain.floorTxPerSec } });
    rows.push({ figure: `  gap p50`, value: chain.gaps.p50, unit: 'ms', target: { bound: 'max', value: 0.25 }, comparison: { label: '1 write tx', value: 1000 / chain.floorTxPerSec } });
    rows.push({ figure: `  gap p99`, value: chain.gaps.p99, unit: 'ms', target: { bound: 'max', value: 2 } });
    const fan = runChild('fan', sizes.fan, sync);
    rows.push({ figure: `${sizes.fan} × 100 fan-out/fan-in (${sync})`, value: tps(fan), unit: 'tasks/s', target: { bound: 'min', value: 10_000 }, comparison: { label: '1 write tx per task', value: fan.floorTxPerSec } });
    rows.push({ figure: `  gap p50`, value: fan.gaps.p50, unit: 'ms' });
  }
  // Linear in N: the chain ten times as long may cost at most 12 times as much.
  const short = runChild('chain', quick ? 200 : 1_000, 'NORMAL');
  const long = runChild('chain', quick ? 2_000 : 10_000, 'NORMAL');
  rows.push({
    figure: `chain ${long.tasks} / chain ${short.tasks} wall time`,
    value: long.wallMs / short.wallMs,
    unit: '×',
    target: { bound: 'max', value: 12 },
    comparison: { label: 'linear', value: long.tasks / short.tasks },
  });
  return printTable('Scheduler: no-op function tasks, one process, a real SQLite file', rows);
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(args[1] as Shape, Number(args[2]), args[3] as Sync);
} else if (process.argv[1] === SELF) {
  benchScheduler(args.includes('--quick'));
}
