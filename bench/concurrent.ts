/**
 * 1,000 Livy statements running at once, followed by one scheduler: what following them
 * costs the scheduler process in CPU and memory. The DAG is the pipeline's shape — a
 * cluster on the livy backend, N livy.statement tasks in parallel, the cluster's teardown —
 * run by an in-process Scheduler in a child process (so its CPU time and peak RSS are its
 * own), against the bench-only Livy stand-in in this process, which ends each statement a
 * set time after it was submitted. Once without orch's long poll (as real Livy) and once
 * with it (as `orch engine`).
 *
 *   npx tsx bench/concurrent.ts [--quick]
 *
 * Figures: scheduler CPU seconds and the cores that is over the run's wall time (target
 * ≤ 0.5), peak RSS (target ≤ 300 MB), the most statements the stand-in saw running at once
 * (proof they were concurrent), and requests per statement per second.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startStandIn } from './lib/livy-standin.ts';
import { printTable, type BenchRow } from './lib/table.ts';

const SDK = fileURLToPath(new URL('../src/sdk/index.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

interface ChildResult {
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
  state: string;
}

function dagSource(n: number): string {
  return `import { cluster, dag, livy } from ${JSON.stringify(SDK)};
const d = dag({ id: 'concurrent', maxActiveTasks: ${n + 2} });
const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'bench' }) });
const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
const statements = [];
for (let i = 0; i < ${n}; i++) {
  statements.push(d.task({ id: 's' + i, upstream: [ready], operator: livy.statement({ cluster: create, code: { spark: 'spark.range(1).count()' } }) }));
}
d.task({ id: 'terminate_cluster', upstream: statements, operator: cluster.terminate({ cluster: create }) });
export default d;
`;
}

/** Child: run the DAG against the stand-in at `url` and print its figures as JSON. */
async function child(url: string, n: number): Promise<void> {
  const { DagBag } = await import('../src/core/dags/loader.ts');
  const { Scheduler } = await import('../src/core/scheduler.ts');
  const { openStore } = await import('../src/store/index.ts');
  const { loadConfig } = await import('../src/core/config.ts');
  const { builtinOperators } = await import('../src/operators/index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-concurrent-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'concurrent.ts'), dagSource(n));
    const bag = new DagBag(dir);
    await bag.refresh();
    if (!bag.get('concurrent')) throw new Error(`the bench DAG did not load: ${JSON.stringify(bag.errors())}`);
    process.env.ORCH_LIVY_URL = url; // the livy backend reads it when a cluster is created
    const config = loadConfig({ backend: 'livy' }, { ORCH_HOME: dir }, dir);
    const store = openStore(join(dir, 'orch.db'));
    store.dags.setPool('default_pool', n + 2);
    const scheduler = new Scheduler({ store, dagBag: bag, registry: builtinOperators(config), parallelism: n + 2 });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { state } = await scheduler.runDag('concurrent');
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (state !== 'success') {
      // Say why, from the first failed task's log: a bench that fails silently measures nothing.
      const failed = store.db.prepare("SELECT run_id, task_id, try_number FROM task_instance WHERE dag_id = 'concurrent' AND state IN ('failed', 'upstream_failed') ORDER BY state LIMIT 1").get() as
        | { run_id: string; task_id: string; try_number: number }
        | undefined;
      if (failed) {
        const lines = store.logs.read({ dagId: 'concurrent', runId: failed.run_id, taskId: failed.task_id }, failed.try_number);
        process.stderr.write(`${failed.task_id} failed:\n${lines.slice(-10).map((l) => l.message).join('\n')}\n`);
      }
    }
    store.close();
    const result: ChildResult = { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, state };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the bench and print its table; returns how many targets were met. */
export async function benchConcurrent(quick: boolean): Promise<{ met: number; total: number }> {
  const n = quick ? 200 : 1000;
  const statementMs = quick ? 10_000 : 30_000;
  const rows: BenchRow[] = [];
  for (const longPoll of [false, true]) {
    const standIn = await startStandIn({ longPoll, statementMs });
    try {
      // Asynchronous: the stand-in in this process must keep answering while the child runs.
      const out = await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const proc = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', standIn.url, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
        proc.stdout.on('data', (c: Buffer) => chunks.push(c));
        proc.on('error', reject);
        proc.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`the bench child exited ${code}`))));
      });
      const r = JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
      if (r.state !== 'success') throw new Error(`the bench run ended ${r.state}`);
      const counts = standIn.counts();
      const label = longPoll ? 'with long poll' : 'plain Livy';
      const cores = r.cpuMs / r.wallMs;
      rows.push(
        { figure: `${n} statements of ${statementMs / 1000} s, ${label}: scheduler CPU`, value: r.cpuMs / 1000, unit: 's' },
        { figure: `  cores over the run (${(r.wallMs / 1000).toFixed(1)} s)`, value: cores, unit: 'cores', target: { bound: 'max', value: 0.5 } },
        { figure: '  peak RSS', value: r.maxRssMb, unit: 'MB', target: { bound: 'max', value: 300 } },
        { figure: '  statements running at once (stand-in)', value: counts.peakRunning, unit: '' },
        { figure: '  requests per statement per second', value: counts.requests / n / (r.wallMs / 1000), unit: 'req/s' },
        { figure: '  sessions left open', value: counts.open, unit: '' },
      );
    } finally {
      await standIn.close();
    }
  }
  return printTable(`${n} concurrent Livy statements, one scheduler`, rows);
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') await child(process.argv[3]!, Number(process.argv[4]));
  else await benchConcurrent(process.argv.includes('--quick'));
}
