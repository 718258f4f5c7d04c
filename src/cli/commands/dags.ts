/** `orch dags list|show`, `orch pause`, `orch unpause`. */
import type { Command } from 'commander';
import { describeTasks } from '../../core/dags/definition.ts';
import { paramsJsonSchema } from '../../core/runs/params.ts';
import { table } from '../format.ts';
import { openContext } from '../context.ts';
import type { GlobalOptions } from '../main.ts';

export function registerDagCommands(program: Command, global: () => GlobalOptions): void {
  const dags = program.command('dags').description('list and inspect DAGs');

  dags
    .command('list')
    .description('DAGs in the DAGs folder, with their load errors')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await openContext(global());
      try {
        ctx.requireDagsFolder();
        const list = ctx.dagBag.list().map((d) => ({
          dagId: d.id,
          schedule: d.schedule,
          paused: ctx.store.dags.isPaused(d.id),
          tasks: d.tasks.size,
          file: d.file,
          description: d.description ?? null,
          tags: d.tags,
        }));
        const errors = ctx.dagBag.errors();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dagsFolder: ctx.config.dagsFolder, dags: list, errors }, null, 2)}\n`);
          return;
        }
        if (list.length === 0) process.stdout.write(`No DAGs in ${ctx.config.dagsFolder}\n`);
        else
          process.stdout.write(
            `${table(
              ['dag_id', 'schedule', 'paused', 'tasks', 'file'],
              list.map((d) => [d.dagId, d.schedule ?? 'none', d.paused ? 'yes' : 'no', String(d.tasks), d.file]),
            )}\n`,
          );
        if (errors.length) {
          process.stdout.write(`\nLoad errors (${errors.length}):\n`);
          for (const e of errors) process.stdout.write(`  [${e.code}] ${e.message}\n`);
        }
      } finally {
        ctx.close();
      }
    });

  dags
    .command('show <dag>')
    .description("a DAG's tasks and edges")
    .option('--json', 'print JSON')
    .action(async (dagId: string, opts: { json?: boolean }) => {
      const ctx = await openContext(global());
      try {
        const dag = ctx.requireDag(dagId);
        const tasks = describeTasks(dag);
        const edges = tasks.flatMap((t) => t.upstream.map((u) => ({ from: u, to: t.taskId })));
        if (opts.json) {
          const params = dag.params ? paramsJsonSchema(dag.params) : null;
          process.stdout.write(
            `${JSON.stringify(
              {
                dagId: dag.id,
                description: dag.description ?? null,
                file: dag.file,
                schedule: dag.schedule,
                startDate: dag.startDate?.toISOString() ?? null,
                catchup: dag.catchup,
                maxActiveTasks: dag.maxActiveTasks,
                maxActiveRuns: dag.maxActiveRuns,
                tags: dag.tags,
                params,
                tasks,
                edges,
              },
              null,
              2,
            )}\n`,
          );
          return;
        }
        process.stdout.write(`${dag.id}${dag.description ? ` — ${dag.description}` : ''}\n`);
        process.stdout.write(`file ${dag.file} · schedule ${dag.schedule ?? 'none'} · maxActiveTasks ${dag.maxActiveTasks} · maxActiveRuns ${dag.maxActiveRuns}\n\n`);
        process.stdout.write(
          `${table(
            ['task', 'operator', 'upstream', 'trigger rule', 'retries', 'pool'],
            tasks.map((t) => [t.taskId, t.operator, t.upstream.join(', ') || '-', t.triggerRule, String(t.retries), t.pool]),
          )}\n\nedges:\n`,
        );
        for (const e of edges) process.stdout.write(`  ${e.from} → ${e.to}\n`);
      } finally {
        ctx.close();
      }
    });

  for (const [name, paused] of [['pause', true], ['unpause', false]] as const) {
    program
      .command(`${name} <dag>`)
      .description(paused ? 'stop the scheduler from creating and starting runs of a DAG' : 'let the scheduler run a DAG again')
      .action(async (dagId: string) => {
        const ctx = await openContext(global());
        try {
          const dag = ctx.requireDag(dagId);
          ctx.store.dags.setPaused(dag.id, paused);
          process.stdout.write(`${dag.id} is ${paused ? 'paused' : 'unpaused'}\n`);
        } finally {
          ctx.close();
        }
      });
  }
}
