/**
 * A transform that fails: a DAG of transform_movielens' shape whose tags transform has a
 * broken duckdb variant (it writes part of its output, then fails). Only that task fails,
 * the cluster is still terminated, and the tags dataset that was there before is untouched.
 * And a run that cannot work at all — its source is missing — fails before it starts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, orch } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SAMPLE, SDK_OPERATORS, STATEMENTS, duckdb, enginePids, killEngines, listed, processRunning, queryDb, repoWorkspace, xcomOf } from '../helpers/movielens.ts';

let ws: Workspace;
let db: DbView;
let out: string;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  out = join(ws.root, 'out');
  mkdirSync(out);
  // Writes half its rows to the staging directory, then fails.
  const broken = join(ws.root, 'broken-tags.duckdb.sql');
  writeFileSync(
    broken,
    `COPY (
       SELECT range AS userId, CASE WHEN range < 200000 THEN 'fine' ELSE error('tags.csv row ' || range || ' is corrupt') END AS tag
       FROM range(400000)
     ) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true, ROW_GROUP_SIZE 10000);\n`,
  );
  const variants = (name: string, duckdbFile = join(STATEMENTS, `${name}.duckdb.sql`)) =>
    `{ spark: codeFile(${JSON.stringify(join(STATEMENTS, `${name}.scala`))}), duckdb: codeFile(${JSON.stringify(duckdbFile)}) }`;
  ws.writeDag(
    'broken_movielens',
    `${SDK_OPERATORS}
     const d = dag({
       id: 'broken_movielens',
       maxActiveTasks: 3,
       params: z.object({ source: z.string().default(${JSON.stringify(SAMPLE)}), output: z.string() }),
     });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'broken' }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const transform = (name: string, code: any) => d.task({
       id: 'transform_' + name.replace('-', '_'),
       upstream: [ready],
       retries: 1,
       retryDelay: '100ms',
       operator: livy.statement({ cluster: create, output: '{{ params.output }}/' + name, code }),
     });
     const transforms = [
       transform('movies', ${variants('movies')}),
       transform('links', ${variants('links')}),
       transform('tags', ${variants('tags', broken)}),
       transform('genome-tags', ${variants('genome-tags')}),
     ];
     d.task({ id: 'terminate_cluster', upstream: transforms, operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

describe('a transform whose statement fails', () => {
  it('fails only its own task, still terminates the cluster, and leaves the previous dataset untouched', async () => {
    // A good tags dataset from an earlier run.
    await duckdb(`COPY (SELECT 1 AS userId, 'from the last good run' AS tag) TO '${join(out, 'tags')}' (FORMAT parquet, PER_THREAD_OUTPUT true)`);
    const before = Object.fromEntries(readdirSync(join(out, 'tags')).map((f) => [f, readFileSync(join(out, 'tags', f))]));
    expect(Object.keys(before)).not.toHaveLength(0);

    const r = await orch(ws, ['run', 'broken_movielens', '--conf', JSON.stringify({ output: out })], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const runId = /^run (\S+): failed$/m.exec(r.stdout)?.[1];
    expect(runId, r.stdout).toBeDefined();
    expect(r.stdout).toMatch(/✗ transform_tags: .*tags\.csv row \d+ is corrupt/);

    // Only the broken task failed (after its retry); the others and the teardown succeeded.
    expect(db.runs('broken_movielens')).toEqual([expect.objectContaining({ runId, state: 'failed' })]);
    expect(db.tasks('broken_movielens', runId)).toEqual({
      create_cluster: { state: 'success', tryNumber: 1 },
      wait_for_cluster: { state: 'success', tryNumber: 1 },
      transform_movies: { state: 'success', tryNumber: 1 },
      transform_links: { state: 'success', tryNumber: 1 },
      transform_tags: { state: 'failed', tryNumber: 2 },
      transform_genome_tags: { state: 'success', tryNumber: 1 },
      terminate_cluster: { state: 'success', tryNumber: 1 },
    });
    for (const attempt of [1, 2]) {
      const log = db.logs('broken_movielens', runId!, 'transform_tags', attempt).join('\n');
      expect(log).toMatch(/submitted statement \d+/);
      expect(log).toMatch(/deleted Livy session \d+/);
      expect(log).not.toMatch(/published/);
    }

    // The good datasets were published; the failed one is exactly what it was; no staging is left.
    expect(listed(out)).toEqual(['genome-tags', 'links', 'movies', 'tags']);
    expect(Object.fromEntries(readdirSync(join(out, 'tags')).map((f) => [f, readFileSync(join(out, 'tags', f))]))).toEqual(before);
    expect(await duckdb(`SELECT tag FROM read_parquet('${join(out, 'tags')}/*.parquet')`)).toEqual([{ tag: 'from the last good run' }]);

    // The engine is gone: terminate_cluster stopped the pid create_cluster recorded.
    const { pid } = xcomOf<{ pid: number }>(ws.db, runId!, 'create_cluster')!;
    expect(enginePids(ws.db)).toEqual([pid]);
    expect(processRunning(pid)).toBe(false);
    expect(queryDb(ws.db, `SELECT kind, external_id FROM external_handle WHERE kind LIKE 'livy-%' AND released_at IS NULL`)).toEqual([]);
  });
});

describe('transform_movielens with a source folder that does not exist', () => {
  it('fails before any cluster is created, naming the missing path, with no try spent', async () => {
    const repo = repoWorkspace();
    try {
      const source = join(repo.out, 'no-such-download');
      const r = await orch(repo, ['run', 'transform_movielens', '--conf', JSON.stringify({ source, output: join(repo.out, 'parquet') })]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toMatch(/^run \S+: failed \(preflight check failed\)$/m);
      expect(r.stdout).toContain(`✗ transform_movies: task 'transform_movies': input ${source}/movies.csv does not exist (from params.source = "${source}"`);
      expect(r.stdout).toContain(`✗ transform_genome_tags: task 'transform_genome_tags': input ${source}/genome-tags.csv does not exist`);
      // Nothing started: no engine, not a single try.
      expect(enginePids(repo.db)).toEqual([]);
      expect(existsSync(join(repo.home, 'engines'))).toBe(false);
      expect(queryDb(repo.db, 'SELECT count(*) AS n FROM task_try')).toEqual([{ n: 0 }]);
      expect(queryDb(repo.db, `SELECT task_id AS taskId, state FROM task_instance WHERE task_id IN ('create_cluster', 'terminate_cluster') ORDER BY task_id`)).toEqual([
        { taskId: 'create_cluster', state: 'skipped' },
        { taskId: 'terminate_cluster', state: 'skipped' },
      ]);
    } finally {
      repo.cleanup();
    }
  });
});
