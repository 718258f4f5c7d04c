/**
 * Start-up and DAG loading: what a user waits for before a command does anything.
 *
 *   npx tsx bench/startup.ts [--quick]
 *
 * Figures (medians): `orch --version`; `orch dags list` on a folder of 2 DAGs; `orch dags
 * list` on 100 files of 100 tasks each; one changed file of those reloaded by a DagBag that
 * has the rest (the import worker kept, as the scheduler keeps it); the first command after
 * install, which compiles orch into its cache. The comparison is `node -e 0`: the floor any
 * Node command pays.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { percentile, printTable, type BenchRow } from './lib/table.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const ORCH = join(REPO, 'bin/orch.js');

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

/** Wall time of a command, in ms, median of `times` runs (after one unmeasured warm-up). */
function timeCommand(args: string[], times: number, env: NodeJS.ProcessEnv = {}): number {
  const once = () => {
    const t0 = performance.now();
    execFileSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env } });
    return performance.now() - t0;
  };
  once();
  return median(Array.from({ length: times }, once));
}

function wideDagFile(i: number, tasks: number): string {
  return `import { dag } from 'orch/sdk';
const d = dag({ id: 'wide_${i}', schedule: '@daily' });
let prev;
for (let t = 0; t < ${tasks}; t++) prev = d.task({ id: 't' + t, upstream: prev && t % 10 ? [prev] : [], run: () => t });
export default d;
`;
}

/** Run the start-up benches and print the table; returns how many targets were met. */
export async function benchStartup(quick: boolean): Promise<{ met: number; total: number }> {
  const times = quick ? 3 : 5;
  const home = mkdtempSync(join(tmpdir(), 'orch-bench-home-'));
  const twoDags = mkdtempSync(join(tmpdir(), 'orch-bench-dags2-'));
  const hundred = mkdtempSync(join(tmpdir(), 'orch-bench-dags100-'));
  try {
    cpSync(join(REPO, 'dags/transform_movielens.ts'), join(twoDags, 'transform_movielens.ts'));
    writeFileSync(join(twoDags, 'hello.ts'), wideDagFile(0, 3));
    const files = quick ? 30 : 100;
    for (let i = 0; i < files; i++) writeFileSync(join(hundred, `wide_${i}.ts`), wideDagFile(i, 100));
    const env = { ORCH_HOME: home };
    const node = timeCommand(['-e', '0'], times);
    const version = timeCommand([ORCH, '--version'], times, env);
    const list2 = timeCommand([ORCH, '--dags-folder', twoDags, 'dags', 'list'], times, env);
    // The first command after install compiles orch's TypeScript into the cache (no target: once per install).
    const cold = median(Array.from({ length: times }, () => {
      rmSync(join(home, 'cache'), { recursive: true, force: true });
      const t0 = performance.now();
      execFileSync(process.execPath, [ORCH, '--dags-folder', twoDags, 'dags', 'list'], { stdio: 'ignore', env: { ...process.env, ...env } });
      return performance.now() - t0;
    }));
    const list100 = timeCommand([ORCH, '--dags-folder', hundred, 'dags', 'list'], quick ? 1 : 3, env);
    const reload = await reloadOne(hundred);
    const rows: BenchRow[] = [
      { figure: 'orch --version', value: version, unit: 'ms', target: { bound: 'max', value: 200 }, comparison: { label: 'node -e 0', value: node } },
      { figure: 'orch dags list, 2 DAGs', value: list2, unit: 'ms', target: { bound: 'max', value: 500 }, comparison: { label: 'node -e 0', value: node } },
      { figure: 'orch dags list, 2 DAGs, first command (empty compile cache)', value: cold, unit: 'ms', comparison: { label: 'node -e 0', value: node } },
      { figure: `orch dags list, ${files} files × 100 tasks`, value: list100, unit: 'ms', target: { bound: 'max', value: (1000 * files) / 100 }, comparison: { label: 'node -e 0', value: node } },
      { figure: `one changed file of ${files} reloaded`, value: reload, unit: 'ms', target: { bound: 'max', value: 100 } },
    ];
    return printTable('Start-up and DAG loading (medians)', rows);
  } finally {
    for (const dir of [home, twoDags, hundred]) rmSync(dir, { recursive: true, force: true });
  }
}

/** A DagBag holding every file: time to pick up one edited file. */
async function reloadOne(folder: string): Promise<number> {
  const { installDagModuleHooks } = createRequire(import.meta.url)('../src/core/dags/dag-modules.cjs') as { installDagModuleHooks(): Promise<void> };
  await installDagModuleHooks();
  const { DagBag } = await import('../src/core/dags/loader.ts');
  const bag = new DagBag(folder, { keepImportWorker: true });
  await bag.refresh();
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    writeFileSync(join(folder, 'wide_0.ts'), wideDagFile(0, 100 + i + 1));
    const t0 = performance.now();
    await bag.refresh();
    samples.push(performance.now() - t0);
  }
  await bag.close();
  return median(samples);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchStartup(process.argv.includes('--quick'));
