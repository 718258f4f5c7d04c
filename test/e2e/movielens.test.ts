/**
 * `orch run transform_movielens` as a user runs it from the repository: the real DAG, the
 * committed sample, a real engine process, real Parquet read back with DuckDB and compared
 * with the CSV text parsed independently. Then the same DAG on the livy backend against an
 * `orch engine` started by hand.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, orch, type CliResult } from '../helpers/cli.ts';
import {
  DATASETS,
  SAMPLE,
  duckdb,
  engineByHand,
  enginePids,
  killEngines,
  listed,
  livySessions,
  parquet,
  parquetTypes,
  processRunning,
  queryDb,
  readCsv,
  repoWorkspace,
  xcomOf,
} from '../helpers/movielens.ts';

const TRANSFORMS = DATASETS.map((d) => `transform_${d.replace('-', '_')}`);

/** The run id from `orch run`'s summary line. */
function runIdOf(r: CliResult): string {
  const m = /^(?:resumed )?run (\S+): (?:success|failed|running)$/m.exec(r.stdout);
  if (!m) throw new Error(`no summary line in:\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return m[1]!;
}

/** Task id → state of one run. */
const states = (db: string, runId: string) =>
  Object.fromEntries(queryDb<{ task_id: string; state: string }>(db, `SELECT task_id, state FROM task_instance WHERE run_id = ?`, runId).map((r) => [r.task_id, r.state]));

const count = async (dir: string) => Number((await duckdb(`SELECT count(*) AS n FROM ${parquet(dir)}`))[0]!.n);

describe('orch run transform_movielens (embedded backend, the committed sample)', () => {
  const ws = repoWorkspace();
  let result: CliResult;
  let runId: string;

  beforeAll(async () => {
    result = await orch(ws, ['run', 'transform_movielens', '--conf', JSON.stringify({ output: ws.out })], { timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`orch run exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    runId = runIdOf(result);
  });

  afterAll(() => {
    killEngines(ws.db);
    ws.cleanup();
  });

  it('exits 0 with every task successful and prints where the Parquet went', () => {
    expect(result.stdout).toContain(`run ${runId}: success`);
    expect(states(ws.db, runId)).toEqual(
      Object.fromEntries(['create_cluster', 'wait_for_cluster', ...TRANSFORMS, 'terminate_cluster'].map((t) => [t, 'success'])),
    );
    const printed = /^output: ([^\n]+(?:\n {8}[^\n]+)*)/m.exec(result.stdout)?.[1]?.split('\n').map((l) => l.trim());
    expect(printed?.sort()).toEqual(DATASETS.map((d) => join(ws.out, d)).sort());
  });

  it('prints nothing on stderr: no warning from a library it does not use (the AWS SDK loads for EMR only)', () => {
    expect(result.stderr).toBe('');
  });

  it('writes one Parquet directory per dataset, and nothing else (no staging left)', () => {
    expect(listed(ws.out)).toEqual([...DATASETS].sort());
    for (const d of DATASETS) expect(readdirSync(join(ws.out, d)).every((f) => f.endsWith('.parquet')), d).toBe(true);
  });

  it("writes as many rows to each dataset as its CSV has data rows", async () => {
    for (const d of DATASETS) expect(await count(join(ws.out, d)), d).toBe(readCsv(SAMPLE, d).rows.length);
  });

  it('writes an explicit schema: ids INTEGER, imdbId VARCHAR, tmdbId nullable INTEGER, timestamps BIGINT', async () => {
    expect(await parquetTypes(join(ws.out, 'movies'))).toEqual({ movieId: 'INTEGER', title: 'VARCHAR', genres: 'VARCHAR' });
    expect(await parquetTypes(join(ws.out, 'links'))).toEqual({ movieId: 'INTEGER', imdbId: 'VARCHAR', tmdbId: 'INTEGER' });
    expect(await parquetTypes(join(ws.out, 'ratings'))).toEqual({ userId: 'INTEGER', movieId: 'INTEGER', rating: 'DOUBLE', timestamp: 'BIGINT' });
    expect(await parquetTypes(join(ws.out, 'tags'))).toEqual({ userId: 'INTEGER', movieId: 'INTEGER', tag: 'VARCHAR', timestamp: 'BIGINT' });
    expect(await parquetTypes(join(ws.out, 'genome-scores'))).toEqual({ movieId: 'INTEGER', tagId: 'INTEGER', relevance: 'DOUBLE' });
    expect(await parquetTypes(join(ws.out, 'genome-tags'))).toEqual({ tagId: 'INTEGER', tag: 'VARCHAR' });
    const files = readdirSync(join(ws.out, 'links')).map((f) => join(ws.out, 'links', f));
    const tmdb = await duckdb(`SELECT DISTINCT repetition_type FROM parquet_schema('${files[0]}') WHERE name = 'tmdbId'`);
    expect(tmdb).toEqual([{ repetition_type: 'OPTIONAL' }]);
  });

  it('keeps titles byte for byte: commas, doubled quotes, non-ASCII, trailing spaces', async () => {
    const csv = readCsv(SAMPLE, 'movies').rows;
    const rows = await duckdb(`SELECT movieId, title, genres FROM ${parquet(join(ws.out, 'movies'))} ORDER BY movieId`);
    expect(rows.map((r) => [String(r.movieId), r.title, r.genres])).toEqual([...csv].sort((a, b) => Number(a[0]) - Number(b[0])));
    // The sample really has each quirk, so the comparison above covers them.
    const titles = csv.map((r) => r[1]!);
    expect(titles).toContain('American President, The (1995)');
    expect(titles).toContain('11\'09"01 - September 11 (2002)');
    expect(titles.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
    expect(titles.some((t) => t.endsWith(' '))).toBe(true);
  });

  it('keeps tags byte for byte, quotes included ("""artsy""" is "artsy")', async () => {
    for (const [d, cols] of [['tags', 'userId, movieId, tag, timestamp'], ['genome-tags', 'tagId, tag']] as const) {
      const csv = readCsv(SAMPLE, d).rows;
      const rows = await duckdb(`SELECT ${cols} FROM ${parquet(join(ws.out, d))}`);
      const asText = rows.map((r) => Object.values(r).map(String).join('\u0000')).sort();
      expect(asText, d).toEqual(csv.map((r) => r.join('\u0000')).sort());
    }
    const artsy = await duckdb(`SELECT count(*) AS n FROM ${parquet(join(ws.out, 'tags'))} WHERE tag = '"artsy"'`);
    expect(Number(artsy[0]!.n)).toBeGreaterThan(0);
  });

  it('keeps imdbId a 7-character zero-padded string and reads an empty tmdbId as null', async () => {
    const csv = readCsv(SAMPLE, 'links').rows;
    const rows = await duckdb(`SELECT movieId, imdbId, tmdbId FROM ${parquet(join(ws.out, 'links'))} ORDER BY movieId`);
    const expected = [...csv].sort((a, b) => Number(a[0]) - Number(b[0])).map(([m, imdb, tmdb]) => [Number(m), imdb, tmdb === '' ? null : Number(tmdb)]);
    expect(rows.map((r) => [r.movieId, r.imdbId, r.tmdbId])).toEqual(expected);
    expect(csv.some((r) => r[1]!.startsWith('0'))).toBe(true);
    expect(csv.some((r) => r[2] === '')).toBe(true);
  });

  it('keeps numbers exact: ratings, Unix-second timestamps, 17-digit relevance', async () => {
    const ratings = await duckdb(`SELECT userId, movieId, rating, timestamp FROM ${parquet(join(ws.out, 'ratings'))}`);
    const asText = (r: Record<string, unknown>) => [r.userId, r.movieId, Number(r.rating).toFixed(1), String(r.timestamp)].join(',');
    expect(ratings.map(asText).sort()).toEqual(readCsv(SAMPLE, 'ratings').rows.map((r) => r.join(',')).sort());
    const scores = await duckdb(`SELECT movieId, tagId, relevance FROM ${parquet(join(ws.out, 'genome-scores'))}`);
    const key = (m: unknown, t: unknown) => `${m}/${t}`;
    const relevance = new Map(scores.map((r) => [key(r.movieId, r.tagId), r.relevance]));
    for (const [m, t, rel] of readCsv(SAMPLE, 'genome-scores').rows) expect(relevance.get(key(m, t)), `${m}/${t}`).toBe(Number(rel));
  });

  it('stops the engine it started: the pid recorded by create_cluster is gone', () => {
    const cluster = xcomOf<{ backend: string; pid: number }>(ws.db, runId, 'create_cluster');
    expect(cluster).toMatchObject({ backend: 'embedded', pid: expect.any(Number) });
    expect(enginePids(ws.db)).toEqual([cluster!.pid]);
    expect(processRunning(cluster!.pid)).toBe(false);
  });
});

describe('orch run transform_movielens --backend livy, against an orch engine started by hand', () => {
  const ws = repoWorkspace();

  afterEach(async () => {
    await killAll();
  });

  afterAll(() => ws.cleanup());

  it('writes the six datasets, leaves the engine running and no session open', async () => {
    const engine = await engineByHand(ws);
    const r = await orch(ws, ['run', 'transform_movielens', '--backend', 'livy', '--conf', JSON.stringify({ output: ws.out })], {
      timeoutMs: 120_000,
      env: { ORCH_LIVY_URL: engine.url },
    });
    if (r.code !== 0) throw new Error(`orch run --backend livy exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const runId = runIdOf(r);
    expect(xcomOf(ws.db, runId, 'create_cluster')).toMatchObject({ backend: 'livy', livyUrl: engine.url });
    expect(Object.values(states(ws.db, runId)).every((s) => s === 'success')).toBe(true);
    expect(listed(ws.out)).toEqual([...DATASETS].sort());
    for (const d of DATASETS) expect(await count(join(ws.out, d)), d).toBe(readCsv(SAMPLE, d).rows.length);

    // The livy backend does not own the server: it is still up, with nothing left open.
    expect(engine.proc.child.exitCode).toBeNull();
    expect(processRunning(engine.proc.child.pid!)).toBe(true);
    expect(await livySessions(engine.url)).toMatchObject({ total: 0, sessions: [] });
  });
});

describe('orch run transform_movielens --backend livy, against an orch engine that requires a token', () => {
  const ws = repoWorkspace();
  const tokenFile = join(ws.out, '..', 'engine-token');

  afterEach(async () => {
    await killAll();
  });

  afterAll(() => ws.cleanup());

  it('runs with ORCH_LIVY_TOKEN, and without it fails naming the 401', async () => {
    const token = 'b'.repeat(40);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const engine = await engineByHand(ws, ['--token-file', tokenFile]);
    const run = (env: Record<string, string>) =>
      orch(ws, ['run', 'transform_movielens', '--backend', 'livy', '--conf', JSON.stringify({ output: ws.out })], { timeoutMs: 120_000, env: { ORCH_LIVY_URL: engine.url, ...env } });

    const denied = await run({});
    expect(denied.code).not.toBe(0);
    expect(denied.stdout).toMatch(/answered 401: authentication required/);

    const r = await run({ ORCH_LIVY_TOKEN: token });
    if (r.code !== 0) throw new Error(`orch run --backend livy exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    expect(listed(ws.out)).toEqual([...DATASETS].sort());
    expect(await livySessions(engine.url, { authorization: `Bearer ${token}` })).toMatchObject({ total: 0, sessions: [] });
  });
});
