/**
 * Every benchmark, one table each, and one closing line: how many targets were met.
 *
 *   npm run bench         # full sizes (several minutes)
 *   npm run bench:quick   # smaller sizes, under two minutes
 *
 * Benchmarks measure; tests never time anything. Run on an idle machine: figures taken
 * while something else is busy say more about that than about orch.
 */
import { cpus, totalmem } from 'node:os';
import { benchConcurrent } from './concurrent.ts';
import { benchLivy } from './livy.ts';
import { benchMovielens } from './movielens.ts';
import { benchScheduler } from './scheduler.ts';
import { benchStartup } from './startup.ts';

const quick = process.argv.includes('--quick');
console.log(`orch benchmarks${quick ? ' (quick)' : ''}: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);

const results = [benchScheduler(quick), await benchStartup(quick), await benchLivy(quick), await benchConcurrent(quick), await benchMovielens(quick)];
const met = results.reduce((n, r) => n + r.met, 0);
const total = results.reduce((n, r) => n + r.total, 0);
console.log(`\n${met} of ${total} targets met`);
