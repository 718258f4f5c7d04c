/**
 * A small DAG of TypeScript function tasks: params with defaults, fan-out under a cap,
 * XCom between tasks, retries, and a teardown that runs whatever happened.
 * Try: orch run example_etl --conf '{"parts": 4}'
 */
import { dag, z } from 'orch/sdk';

const d = dag({
  id: 'example_etl',
  description: 'extract → transform parts in parallel (3 at a time) → load → cleanup',
  schedule: '@daily',
  startDate: '2026-01-01',
  maxActiveTasks: 3,
  params: z.object({
    parts: z.number().int().min(1).max(6).default(6),
    delayMs: z.number().int().min(0).default(100),
  }),
  defaultArgs: { retries: 1, retryDelay: '1s' },
  tags: ['example'],
});

const extract = d.task({
  id: 'extract',
  run: (ctx) => {
    ctx.log.info(`extracting ${ctx.params.parts} parts for ${ctx.ds}`);
    return Array.from({ length: ctx.params.parts }, (_, i) => i + 1);
  },
});

const parts = [1, 2, 3, 4, 5, 6].map((n) =>
  d.task({
    id: `transform_${n}`,
    upstream: [extract],
    run: async (ctx) => {
      const wanted = ctx.xcom.pull<number[]>('extract');
      if (!wanted.includes(n)) return null;
      await new Promise((resolve) => setTimeout(resolve, ctx.params.delayMs));
      ctx.log.info(`part ${n} done`);
      return n * n;
    },
  }),
);

const load = d.task({
  id: 'load',
  upstream: parts,
  run: (ctx) => {
    const total = parts.reduce((sum, p) => sum + (ctx.xcom.pull<number | null>(p.id) ?? 0), 0);
    ctx.log.info(`loaded total ${total}`);
    return total;
  },
});

d.task({ id: 'cleanup', upstream: [load], triggerRule: 'all_done', run: (ctx) => ctx.log.info('cleaned up') });

export default d;
