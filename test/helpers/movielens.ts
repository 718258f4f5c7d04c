/**
 * For the MovieLens pipeline tests: a workspace rooted at the repository (the real dags/),
 * an RFC 4180 parser that owes nothing to DuckDB (to check what the pipeline wrote against
 * the CSV text), a real Parquet reader, and what a run leaves behind on this machine:
 * engine processes, Livy sessions, staging directories.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../../src/util/process.ts';
import { spawnOrch, type OrchProcess } from './cli.ts';
import { REPO, SDK, type Workspace } from './dags.ts';

export const SAMPLE = join(REPO, 'data/movielens-sample');
export const STATEMENTS = join(REPO, 'scala-statements');
/** Dataset (output directory) → the CSV file it is converted from. */
export const DATASETS = ['movies', 'ratings', 'tags', 'links', 'genome-scores', 'genome-tags'] as const;

/** `import { cluster, codeFile, livy } …` for a workspace DAG (writeDag imports only `dag` and `z`). */
export const SDK_OPERATORS = `import { cluster, codeFile, livy } from ${JSON.stringify(SDK)};`;

/**
 * The repository as the user's working directory (its dags/, its data/), with a temp
 * ORCH_HOME and a temp `out` folder for `--conf '{"output": …}'`.
 */
export function repoWorkspace(): Workspace & { out: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'orch-e2e-'));
  const home = join(tmp, 'home');
  const out = join(tmp, 'out');
  mkdirSync(out);
  return {
    root: REPO,
    dags: join(REPO, 'dags'),
    home,
    db: join(home, 'orch.db'),
    out,
    writeDag() {
      throw new Error('repoWorkspace: write test DAGs in a workspace(), not into the repository');
    },
    cleanup: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

/** RFC 4180: records end in CRLF, fields may be quoted, `""` is a quote inside quotes. Strict. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) throw new Error('CSV: unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        field += text[i];
      }
      i++; // the closing quote
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`CSV: quote inside an unquoted field at offset ${i}`);
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
    } else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else if (i >= text.length) {
      throw new Error('CSV: the last record does not end with CRLF');
    } else {
      throw new Error(`CSV: expected a comma or CRLF at offset ${i}, found ${JSON.stringify(text.slice(i, i + 10))}`);
    }
  }
  return records;
}

/** One CSV file of a MovieLens folder: header and data rows as text, parsed by parseCsv. */
export function readCsv(dir: string, dataset: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(join(dir, `${dataset}.csv`), 'utf8'));
  if (!header) throw new Error(`${dir}/${dataset}.csv is empty`);
  return { header, rows };
}

/** Run one query in a fresh in-memory DuckDB (to read Parquet back); values as JS (BIGINT → bigint). */
export async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The Parquet files of a dataset directory, as a read_parquet argument. */
/** An output folder's entries as `ls` shows them, sorted: the hidden swap locks (`.<dataset>.lock`) left out. */
export const listed = (dir: string) => readdirSync(dir).filter((name) => !name.startsWith('.')).sort();

export const parquet = (dir: string) => `read_parquet('${join(dir, '*.parquet').replaceAll("'", "''")}')`;

/** Column name → DuckDB type of a Parquet dataset. */
export async function parquetTypes(dir: string): Promise<Record<string, string>> {
  const rows = await duckdb(`DESCRIBE SELECT * FROM ${parquet(dir)}`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

/** True while `pid` is a live process (an exited, unreaped zombie counts as gone). */
export const processRunning = pidAlive;

/** Query the workspace's orch.db read-only (opened and closed per call, as another process sees it). */
export function queryDb<T = Record<string, unknown>>(dbFile: string, sql: string, ...args: unknown[]): T[] {
  if (!existsSync(dbFile)) return [];
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

/** An XCom value (return_value) of one task, parsed. */
export function xcomOf<T = any>(dbFile: string, runId: string, taskId: string): T | undefined {
  const [row] = queryDb<{ value: string }>(dbFile, `SELECT value FROM xcom WHERE run_id = ? AND task_id = ? AND key = 'return_value'`, runId, taskId);
  return row ? (JSON.parse(row.value) as T) : undefined;
}

/** Pids of every engine the embedded backend recorded starting in this ORCH_HOME. */
export function enginePids(dbFile: string): number[] {
  return queryDb<{ data: string }>(dbFile, `SELECT data FROM external_handle WHERE kind = 'cluster'`)
    .map((r) => Number((JSON.parse(r.data) as { pid?: unknown }).pid))
    .filter((pid) => pid > 0);
}

/** For afterEach: SIGKILL any engine a (failed) test left running. */
export function killEngines(dbFile: string): void {
  for (const pid of new Set(enginePids(dbFile))) {
    if (!processRunning(pid)) continue;
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.split('\0').includes('engine')) process.kill(pid, 'SIGKILL');
  }
}

/** Start `orch engine --port 0` by hand, as a user would (with `args`, e.g. --token-file), and return its URL once it listens. */
export async function engineByHand(ws: Workspace, args: string[] = []): Promise<{ url: string; proc: OrchProcess }> {
  const proc = spawnOrch(ws, ['engine', '--port', '0', ...args]);
  const listening = /orch engine listening on (http:\/\/\S+)/;
  await proc.waitForOutput(listening, 'the engine to listen');
  return { url: listening.exec(proc.stdout + proc.stderr)![1]!, proc };
}

/** GET /sessions on a Livy server: how many sessions it has open. */
export async function livySessions(url: string, headers: Record<string, string> = {}): Promise<{ total: number; sessions: { id: number; name: string | null; state: string }[] }> {
  const response = await fetch(`${url}/sessions`, { headers, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${url}/sessions: ${response.status} ${await response.text()}`);
  return (await response.json()) as never;
}
