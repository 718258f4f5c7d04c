/**
 * livy.statement's preflight, called as the scheduler calls it when a run starts (try 0, no
 * XCom): where the cluster will read this machine's files, a missing input fails the run
 * before any cluster exists, naming the path and the param, and is not retried.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { backendsFrom } from '../../src/operators/cluster/backends.ts';
import { statementOperator } from '../../src/operators/livy/statement.ts';
import type { TaskContext } from '../../src/sdk/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { failure } from '../integrations/livy/support.ts';
import { createRun, taskContext } from './support.ts';

let ws: Workspace;
let store: Store;

beforeEach(() => {
  ws = workspace();
  store = openStore(ws.db);
});
afterEach(() => {
  store.close();
  ws.cleanup();
});

/** The preflight of a movies-like statement declaring `inputs`, on the backend `env` selects. */
async function preflight(params: Record<string, unknown>, inputs: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const full = { ORCH_HOME: ws.home, ...env };
  const op = statementOperator(backendsFrom(loadConfig({}, full, ws.root), full));
  const run = createRun(store, ['transform_movies'], params, `manual__${++runs}`);
  const ctx: TaskContext = taskContext(store, run, 'transform_movies', { tryNumber: 0 });
  await op.preflight!(ctx, { cluster: 'create_cluster', inputs, code: { duckdb: 'SELECT 1' } });
}
let runs = 0;

const MOVIES = ['{{ params.source }}/movies.csv'];

describe('livy.statement preflight on the embedded backend', () => {
  it('names the missing input and the param it came from, and is not retryable', async () => {
    // Reproduces issue 7 (14): a wrong source cost six transforms × two tries of DuckDB's "No files found".
    const source = join(ws.root, 'no-such-download');
    const error = await failure(preflight({ source }, MOVIES));
    expect(error).toMatchObject({ code: 'ORCH_INPUT_MISSING', retryable: false });
    expect(error.message).toBe(
      `task 'transform_movies': input ${source}/movies.csv does not exist (from params.source = ${JSON.stringify(source)}; pass another with --conf '{"source": "…"}')`,
    );
  });

  it('passes when every input exists, a glob checking its folder', async () => {
    const source = join(ws.root, 'download');
    mkdirSync(source);
    writeFileSync(join(source, 'movies.csv'), 'movieId,title,genres\r\n');
    await preflight({ source }, [...MOVIES, '{{ params.source }}/*.csv', 'file://{{ params.source }}/movies.csv']);
    expect((await failure(preflight({ source }, ['{{ params.source }}/nested/*.csv']))).code).toBe('ORCH_INPUT_MISSING');
  });

  it("rejects an s3:// input with orch's own one-line message", async () => {
    const error = await failure(preflight({ source: 's3://bucket/ml-25m' }, MOVIES));
    expect(error).toMatchObject({ code: 'ORCH_INPUT_NOT_LOCAL', retryable: false });
    expect(error.message).toBe(
      "task 'transform_movies': s3://bucket/ml-25m/movies.csv is not on this machine, and the embedded backend reads only local files; run with --backend livy (or emr) for s3:// data, or copy it here",
    );
  });

  it('skips inputs that name an XCom, which do not exist before the run', async () => {
    await preflight({}, ['{{ xcom.create_cluster.livyUrl }}/x.csv']);
  });
});

describe('livy.statement preflight on a remote backend', () => {
  it('checks nothing: the cluster reads its own files (and s3://)', async () => {
    const env = { ORCH_BACKEND: 'livy', ORCH_LIVY_URL: 'http://livy.example:8998' };
    await preflight({ source: join(ws.root, 'not-here') }, MOVIES, env);
    await preflight({ source: 's3://bucket/ml-25m' }, MOVIES, env);
  });
});
