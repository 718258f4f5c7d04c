/**
 * Everything the engine asks of DuckDB: one database per engine (so sessions share tables the
 * way Spark sessions share a metastore), one connection per session or batch, statements run
 * with at most MAX_RESULT_ROWS rows read, and DuckDB's error text turned into Livy's
 * `ename`/`evalue`/`traceback`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, StatementType } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_RESULT_ROWS } from './format.ts';
import type { TableResult } from './format.ts';

/** Open the engine's database: in memory, spilling to `<home>/tmp`, within `memoryLimit` (see memory.ts). */
export async function openDatabase(home: string, memoryLimit: string): Promise<DuckDBInstance> {
  const tempDirectory = join(home, 'tmp');
  await mkdir(tempDirectory, { recursive: true });
  const options: Record<string, string> = {
    temp_directory: tempDirectory,
    // Never reach for the network to install an extension (httpfs for s3://…): the engine
    // reads local files only, and an install attempt would hang in an offline sandbox.
    autoinstall_known_extensions: 'false',
    memory_limit: memoryLimit,
  };
  return DuckDBInstance.create(':memory:', options);
}

/** Settings every session connection gets: query progress on, printed nowhere. */
export async function prepareConnection(connection: DuckDBConnection): Promise<void> {
  // DuckDB only tracks progress with the progress bar enabled, and only after
  // `progress_bar_time` ms; we want `connection.progress` from the first poll.
  await connection.run('SET enable_progress_bar = true');
  await connection.run('SET enable_progress_bar_print = false');
  await connection.run('SET progress_bar_time = 0');
}

/**
 * Apply `SET SESSION name = 'value'`, for session `conf` keys `duckdb.<name>`. Session scope
 * keeps one session's conf from changing the others; DuckDB refuses engine-wide settings
 * (`threads`, `memory_limit`) here, and says so.
 */
export async function applySetting(connection: DuckDBConnection, name: string, value: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Invalid Input Error: '${name}' is not a DuckDB setting name`);
  await connection.run(`SET SESSION ${name} = '${value.replaceAll("'", "''")}'`);
}

/**
 * Interrupt the connection's query, again and again until `done()`: an interrupt that lands
 * while DuckDB is still parsing or preparing is cleared when execution begins, so a single
 * call can be lost.
 */
export function interruptUntil(connection: DuckDBConnection, done: () => boolean, everyMs = 50): void {
  connection.interrupt();
  const timer = setInterval(() => {
    if (done()) clearInterval(timer);
    else connection.interrupt();
  }, everyMs);
  timer.unref();
}

/** Query progress of the connection's running statement as 0..1, or undefined when unknown. */
export function queryProgress(connection: DuckDBConnection): number | undefined {
  const { percentage } = connection.progress;
  return percentage >= 0 ? Math.min(1, percentage / 100) : undefined;
}

/** What ran, for logging: its position in the code and how many rows it produced (read). */
export interface StatementDone {
  index: number;
  count: number;
  rows: number;
  /** More rows existed than were read. */
  more: boolean;
}

/**
 * Run `code` — one or more statements, in order — and return the last one's result, with at
 * most MAX_RESULT_ROWS rows read. A SELECT is streamed, so `SELECT * FROM huge` reads only
 * what is returned (Livy's `take(1000)`); anything else (CREATE TABLE AS, INSERT, COPY: the
 * heavy transforms) is run to completion, which is also when DuckDB reports query progress.
 */
export async function runSql(
  connection: DuckDBConnection,
  code: string,
  onStatement?: (done: StatementDone) => void,
): Promise<TableResult> {
  if (isBlank(code)) return { names: [], types: [], rows: [], truncated: false };
  const extracted = await connection.extractStatements(code);
  let table: TableResult = { names: [], types: [], rows: [], truncated: false };
  for (let index = 0; index < extracted.count; index++) {
    // Prepared only after the previous statement ran: it may use what that one created.
    const prepared = await extracted.prepare(index);
    try {
      const streamed = prepared.statementType === StatementType.SELECT;
      const reader = streamed
        ? await prepared.streamAndReadUntil(MAX_RESULT_ROWS + 1)
        : await prepared.runAndReadUntil(MAX_RESULT_ROWS + 1);
      const rows = reader.getRowsJson();
      const more = rows.length > MAX_RESULT_ROWS || !reader.done;
      onStatement?.({ index, count: extracted.count, rows: Math.min(rows.length, MAX_RESULT_ROWS), more });
      if (index === extracted.count - 1) {
        table = { names: reader.columnNames(), types: reader.columnTypes(), rows: rows.slice(0, MAX_RESULT_ROWS), truncated: more };
      }
      // A streamed result left unfinished stays pending on the connection, holding buffers;
      // the next query on a connection closes the previous one, so run a trivial one now.
      if (streamed && !reader.done) await connection.run('SELECT 1');
    } finally {
      prepared.destroySync();
    }
  }
  return table;
}

/** Code with nothing but comments, whitespace and semicolons (DuckDB fails on it natively). */
export function isBlank(code: string): boolean {
  return code.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/[\s;]/g, '') === '';
}

/** Livy's error triple for a failed statement. */
export interface StatementError {
  ename: string;
  evalue: string;
  traceback: string[];
}

const S3_HINT =
  "the embedded engine reads local paths only; s3:// paths are read by the 'livy' and 'emr' backends (Spark)";

/**
 * Split DuckDB's message (`Catalog Error: Table … does not exist!\nDid you mean …\n\nLINE 1: …`)
 * into `ename` (`CatalogException`, after DuckDB's C++ class), `evalue` (first line) and
 * `traceback` (the rest), as Spark's `AnalysisException` would appear through Livy.
 */
export function describeError(error: unknown, code: string): StatementError {
  let message = error instanceof Error ? error.message : String(error);
  message = message.replace(/^Failed to extract statements: /, '');
  if (message === 'Error in native callback') message = 'Parser Error: DuckDB found no statement it could run in this code';
  const [first = '', ...rest] = message.split('\n');
  const match = /^([A-Za-z][A-Za-z ]*?) Error: (.*)$/.exec(first);
  const ename = match?.[1] ? exceptionName(match[1]) : 'DuckDBException';
  let evalue = match?.[2] ?? first;
  if (/s3:\/\//i.test(code) || /s3:\/\//i.test(message)) evalue = `${evalue} (${S3_HINT})`;
  return { ename, evalue, traceback: rest.filter((line, i) => line !== '' || (i > 0 && rest[i - 1] !== '')) };
}

/** `Out of Memory` → `OutOfMemoryException`, `IO` → `IOException`, `INTERRUPT` → `InterruptException`. */
function exceptionName(kind: string): string {
  const words = kind.split(' ').map((w) => (w.length <= 2 && w === w.toUpperCase() ? w : w[0]!.toUpperCase() + w.slice(1).toLowerCase()));
  return `${words.join('')}Exception`;
}

/** DuckDB errors after which the database cannot be used any more. */
export function isFatal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /^FATAL Error|database has been invalidated|connection disconnected/i.test(message);
}
