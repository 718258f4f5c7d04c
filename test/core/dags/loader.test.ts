import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagBag } from '../../../src/core/dags/loader.ts';
import { SDK, workspace, type Workspace } from '../../helpers/dags.ts';

const GOOD = `
const d = dag({ id: 'good', schedule: '@daily', startDate: '2026-01-01' });
const a = d.task({ id: 'a', run: () => 1 });
d.task({ id: 'b', upstream: [a], run: () => 2 });
export default d;`;

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
  ws.writeDag('good', GOOD);
});
afterEach(() => ws.cleanup());

/** Load the workspace with the default import limit (30 s), and `limitsMs` for single files. */
async function load(limitsMs: Record<string, number> = {}): Promise<DagBag> {
  const bag = new DagBag(ws.dags, { importTimeoutsMs: limitsMs });
  await bag.refresh();
  return bag;
}

const errorFor = (bag: DagBag, file: string) => bag.errors().filter((e) => e.file.endsWith(file));

describe('DAG loader', () => {
  it('loads a valid DAG with its tasks and edges', async () => {
    const bag = await load();
    const dag = bag.get('good')!;
    expect([...dag.tasks.keys()]).toEqual(['a', 'b']);
    expect(dag.downstream.get('a')).toEqual(['b']);
    expect(dag.schedule).toBe('@daily');
    expect(bag.errors()).toEqual([]);
  });

  it('reports a cycle with its path, and still loads the other DAGs', async () => {
    ws.writeDag('cycle', `
      const d = dag({ id: 'cyclic' });
      d.task({ id: 'a', upstream: ['c'], run: () => 1 });
      d.task({ id: 'b', upstream: ['a'], run: () => 1 });
      d.task({ id: 'c', upstream: ['b'], run: () => 1 });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'cycle.ts');
    expect(err?.code).toBe('ORCH_DAG_CYCLE');
    expect(err?.message).toContain('cycle.ts');
    expect(err?.message).toMatch(/a → b → c → a|b → c → a → b|c → a → b → c/);
    expect(bag.ids()).toEqual(['good']);
  });

  it('reports a duplicate task id', async () => {
    ws.writeDag('dup_task', `
      const d = dag({ id: 'dup_task' });
      d.task({ id: 'a', run: () => 1 });
      d.task({ id: 'a', run: () => 2 });
      export default d;`);
    const bag = await load();
    expect(errorFor(bag, 'dup_task.ts').map((e) => e.code)).toEqual(['ORCH_TASK_DUPLICATE_ID']);
    expect(errorFor(bag, 'dup_task.ts')[0]!.message).toContain("'a'");
    expect(bag.ids()).toEqual(['good']);
  });

  it('reports a DAG id defined in two files, naming both files', async () => {
    ws.writeDag('copy', GOOD);
    const bag = await load();
    const errs = bag.errors().filter((e) => e.code === 'ORCH_DAG_DUPLICATE_ID');
    expect(errs).toHaveLength(2);
    expect(errs[0]!.message).toMatch(/copy\.ts|good\.ts/);
    expect(bag.get('good')).toBeUndefined();
  });

  it('reports an unknown dependency with a suggestion', async () => {
    ws.writeDag('unknown_dep', `
      const d = dag({ id: 'unknown_dep' });
      d.task({ id: 'extract', run: () => 1 });
      d.task({ id: 'load', upstream: ['extrct'], run: () => 1 });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'unknown_dep.ts');
    expect(err?.code).toBe('ORCH_TASK_UNKNOWN_UPSTREAM');
    expect(err?.message).toContain("task 'load' depends on 'extrct'");
    expect(err?.message).toContain("did you mean 'extract'");
    expect(bag.ids()).toEqual(['good']);
  });

  it('reports a bad cron expression', async () => {
    ws.writeDag('bad_cron', `
      const d = dag({ id: 'bad_cron', schedule: '61 * * * *', startDate: '2026-01-01' });
      d.task({ id: 'a', run: () => 1 });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'bad_cron.ts');
    expect(err?.code).toBe('ORCH_DAG_BAD_SCHEDULE');
    expect(err?.message).toContain("'61 * * * *'");
    expect(bag.ids()).toEqual(['good']);
  });

  it('reports an unknown trigger rule with a suggestion', async () => {
    ws.writeDag('bad_rule', `
      const d = dag({ id: 'bad_rule' });
      // @ts-expect-error the editor flags it too
      d.task({ id: 'a', triggerRule: 'all_sucess', run: () => 1 });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'bad_rule.ts');
    expect(err?.code).toBe('ORCH_TASK_BAD_TRIGGER_RULE');
    expect(err?.message).toContain("did you mean 'all_success'");
  });

  it('reports a misspelled option by name, with a suggestion', async () => {
    ws.writeDag('typo', `
      const d = dag({ id: 'typo' });
      // @ts-expect-error the editor flags it too
      d.task({ id: 'a', retires: 2, run: () => 1 });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'typo.ts');
    expect(err?.code).toBe('ORCH_DAG_BAD_OPTION');
    expect(err?.message).toContain("unknown task option 'retires' (did you mean 'retries'?)");
  });

  it('reports a file that throws at import, with the line, and still loads the others', async () => {
    ws.writeDag('throws', `throw new Error('cannot reach the config service');`);
    const bag = await load();
    const [err] = errorFor(bag, 'throws.ts');
    expect(err?.code).toBe('ORCH_DAG_IMPORT');
    expect(err?.message).toContain('cannot reach the config service');
    expect(err?.message).toMatch(/\(line \d+\)/);
    expect(bag.ids()).toEqual(['good']);
  });

  it('gives up on a file that hangs at import after its own limit, while a slower file and the others still load', async () => {
    ws.writeDag('hangs', `while (true) {}`);
    ws.writeDag('waits', `await new Promise(() => {});`);
    // Needs longer than the hanging files are given: with one limit for every file it vanished.
    ws.writeDag('slow', `
      await new Promise((r) => setTimeout(r, 1_500));
      const d = dag({ id: 'slow' });
      d.task({ id: 'a', run: () => 1 });
      export default d;`);
    const bag = await load({ 'hangs.ts': 1_000, 'waits.ts': 1_000 });
    for (const file of ['hangs.ts', 'waits.ts']) {
      const [err] = errorFor(bag, file);
      expect(err?.code).toBe('ORCH_DAG_IMPORT');
      expect(err?.message).toContain('did not finish within 1 s');
      expect(err?.message).toContain(`"dagImportTimeouts": { "${file}": <seconds> }`);
    }
    expect(bag.ids()).toEqual(['good', 'slow']);
  });

  it('reports a file that ends the import worker with process.exit(), and still loads the others', async () => {
    ws.writeDag('exits', `process.exit(3);`);
    // Files are imported in name order, one worker at a time: good.ts needs a new worker.
    const bag = await load();
    const [err] = errorFor(bag, 'exits.ts');
    expect(err?.code).toBe('ORCH_DAG_IMPORT');
    expect(err?.message).toContain('ended the import worker (exit code 3); a DAG file must not call process.exit()');
    expect(bag.ids()).toEqual(['good']);
  });

  it('refuses Livy tasks on an EMR cluster created without Livy, naming both tasks', async () => {
    ws.writeDag('no_livy', `
      import { cluster, livy } from ${JSON.stringify(SDK)};
      const d = dag({ id: 'no_livy' });
      const create = d.task({ id: 'create', operator: cluster.create({ emr: { applications: ['Spark', 'Hadoop'] } }) });
      d.task({ id: 'job', upstream: [create], operator: livy.statement({ cluster: create, code: { spark: '1' } }) });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'no_livy.ts');
    expect(err?.code).toBe('ORCH_DAG_BAD_OPTION');
    expect(err?.message).toContain("task 'job' runs through Livy on the cluster of 'create', whose emr.applications (Spark, Hadoop) leave Livy out; add 'Livy'");
  });

  it('reports a params schema that zod rejects on first use, and still loads the others', async () => {
    ws.writeDag('bad_params', `
      const d = dag({ id: 'bad_params', params: z.object({ name: 3 as never }) });
      d.task({ id: 'a', run: () => 1 });
      export default d;`);
    const bag = await load();
    const [err] = errorFor(bag, 'bad_params.ts');
    expect(err?.code).toBe('ORCH_DAG_BAD_OPTION');
    expect(err?.message).toContain('params is not a valid zod schema');
    expect(bag.ids()).toEqual(['good']);
  });

  it('reports a file that exports no DAG', async () => {
    ws.writeDag('helper', `export const x = 1;`);
    const bag = await load();
    expect(errorFor(bag, 'helper.ts')[0]?.message).toContain('exports no DAG');
  });

  it.each([
    ['a new import worker per scan', false],
    ['the import worker kept between scans (scheduler, web)', true],
  ])('picks up added, edited and removed files on refresh, without a restart, with %s', async (_, keepImportWorker) => {
    const bag = new DagBag(ws.dags, { keepImportWorker });
    await bag.refresh();
    const extra = ws.writeDag('extra', `
      const d = dag({ id: 'extra' });
      d.task({ id: 'one', run: () => 1 });
      export default d;`);
    await bag.refresh();
    expect(bag.ids()).toEqual(['extra', 'good']);

    writeFileSync(join(ws.dags, 'extra.ts'), (await import('node:fs')).readFileSync(extra, 'utf8').replace(`d.task({ id: 'one', run: () => 1 });`, `d.task({ id: 'one', run: () => 1 });\nd.task({ id: 'two', run: () => 2 });`));
    await bag.refresh();
    expect([...bag.get('extra')!.tasks.keys()]).toEqual(['one', 'two']);

    rmSync(extra);
    await bag.refresh();
    expect(bag.ids()).toEqual(['good']);
    await bag.close();
  });

  it('treats a missing DAGs folder as empty', async () => {
    const bag = new DagBag(join(ws.root, 'nope'));
    await bag.refresh();
    expect(bag.ids()).toEqual([]);
  });
});
