/**
 * What a statement task submits: the first variant the backend runs, its parts joined in
 * order, every placeholder rendered from plain values — checked here for the Spark code
 * of transform_movielens, which no machine in CI can run.
 */
import { describe, expect, it } from 'vitest';
import { DagBag } from '../../src/core/dags/loader.ts';
import { prepareCode } from '../../src/operators/livy/code.ts';
import type { Dialect, TaskContext } from '../../src/sdk/index.ts';
import { REPO } from '../helpers/dags.ts';

const DATASETS = ['movies', 'ratings', 'tags', 'links', 'genome-scores', 'genome-tags'];

function context(taskId: string): TaskContext {
  const date = new Date('2026-11-20T00:00:00.000Z');
  return {
    dagId: 'transform_movielens',
    runId: 'manual__2026-11-20T00:00:00.000Z',
    taskId,
    tryNumber: 1,
    maxTries: 2,
    logicalDate: date,
    dataIntervalStart: date,
    dataIntervalEnd: date,
    ds: '2026-11-20',
    params: { source: 's3://bucket/ml-25m', output: 's3://bucket/out' },
    conf: {},
    signal: new AbortController().signal,
    log: { debug() {}, info() {}, warn() {}, error() {}, external() {} },
    xcom: { pull: () => undefined as never, get: () => undefined, push() {} },
    handles: { record() {}, release() {}, list: () => [], inRun: () => [] },
  };
}

describe('statement code of transform_movielens', () => {
  it.each(DATASETS)('renders the Spark variant for %s: shared helper first, explicit schema, paths filled in', async (name) => {
    const bag = new DagBag(`${REPO}/dags`);
    await bag.refresh();
    const task = bag.get('transform_movielens')!.tasks.get(`transform_${name.replace('-', '_')}`)!;
    const options = task.operator!.options as { code: Partial<Record<Dialect, never>> };
    const out = { output_dir: `s3://bucket/out/${name}`, staging_dir: `s3://bucket/out/${name}.tmp-1` };
    const prepared = prepareCode(context(task.id), options.code, 'livy backend', ['spark', 'pyspark', 'sparksql'], out);
    expect(prepared.dialect).toBe('spark');
    expect(prepared.code).not.toContain('{{');
    expect(prepared.code.indexOf('def csvToParquet')).toBeLessThan(prepared.code.indexOf('val schema = StructType'));
    expect(prepared.code).toContain(`csvToParquet(schema, "s3://bucket/ml-25m/${name}.csv", "s3://bucket/out/${name}.tmp-1", "s3://bucket/out/${name}")`);
  });

  it('keeps imdbId a string and tmdbId a nullable integer in the Spark schema of links', async () => {
    const bag = new DagBag(`${REPO}/dags`);
    await bag.refresh();
    const options = bag.get('transform_movielens')!.tasks.get('transform_links')!.operator!.options as { code: Partial<Record<Dialect, never>> };
    const { code } = prepareCode(context('transform_links'), options.code, 'livy backend', ['spark'], { output_dir: 'o', staging_dir: 's' });
    expect(code).toContain('StructField("imdbId", StringType, nullable = true)');
    expect(code).toContain('StructField("tmdbId", IntegerType, nullable = true)');
  });

  it('runs the DuckDB variant on a backend that runs only duckdb', async () => {
    const bag = new DagBag(`${REPO}/dags`);
    await bag.refresh();
    const options = bag.get('transform_movielens')!.tasks.get('transform_movies')!.operator!.options as { code: Partial<Record<Dialect, never>> };
    const prepared = prepareCode(context('transform_movies'), options.code, 'embedded backend', ['duckdb'], { output_dir: 'o', staging_dir: 's' });
    expect(prepared.dialect).toBe('duckdb');
    expect(prepared.code).toContain(`read_csv('s3://bucket/ml-25m/movies.csv'`);
    expect(prepared.code).toContain(`TO 's' (FORMAT parquet`);
  });
});
