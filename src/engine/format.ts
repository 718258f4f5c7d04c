/**
 * Turns a DuckDB result into the statement output Livy's `sql` interpreter produces:
 * `application/json: {schema, data}` with a Spark-style schema, plus a `text/plain` table in
 * the format of Spark's `Dataset.show()` so a task log reads the same on every backend.
 */
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBType, Json } from '@duckdb/node-api';

/** Livy's `livy.repl.sql.max-result` (1000): a `sql` statement returns at most this many rows. */
export const MAX_RESULT_ROWS = 1000;

/** Spark's StructField JSON, as Livy's SQLInterpreter emits it. */
export interface SchemaField {
  name: string;
  type: SparkType;
  nullable: boolean;
  metadata: Record<string, never>;
}
export type SparkType = string | { type: string; [key: string]: unknown };

/** Rows of one result, already cut to at most MAX_RESULT_ROWS. */
export interface TableResult {
  names: string[];
  types: DuckDBType[];
  rows: Json[][];
  /** More rows existed than were read. */
  truncated: boolean;
}

/** Livy's `ok` output for a statement. */
export interface OkOutput {
  status: 'ok';
  execution_count: number;
  data: {
    'text/plain': string;
    'application/json': { schema: { type: 'struct'; fields: SchemaField[] }; data: Json[][] };
  };
}

/** Livy's `error` output (the statement itself still ends `available`). */
export interface ErrorOutput {
  status: 'error';
  execution_count: number;
  ename: string;
  evalue: string;
  traceback: string[];
}

export type Output = OkOutput | ErrorOutput;

/** Build the `ok` output for a result. */
export function okOutput(executionCount: number, table: TableResult): OkOutput {
  const fields = table.names.map((name, i) => ({
    name,
    type: sparkType(table.types[i]),
    nullable: true,
    metadata: {},
  }));
  const data = table.rows.map((row) => row.map((value, i) => jsonValue(value, table.types[i])));
  return {
    status: 'ok',
    execution_count: executionCount,
    data: {
      'text/plain': showTable(table.names, data, table.truncated),
      'application/json': { schema: { type: 'struct', fields }, data },
    },
  };
}

/** Map a DuckDB type to the type name Spark would put in the schema JSON. */
export function sparkType(type: DuckDBType | undefined): SparkType {
  if (!type) return 'null';
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return 'boolean';
    case DuckDBTypeId.TINYINT: return 'byte';
    case DuckDBTypeId.SMALLINT: case DuckDBTypeId.UTINYINT: return 'short';
    case DuckDBTypeId.INTEGER: case DuckDBTypeId.USMALLINT: return 'integer';
    case DuckDBTypeId.BIGINT: case DuckDBTypeId.UINTEGER: return 'long';
    case DuckDBTypeId.UBIGINT: return 'decimal(20,0)';
    case DuckDBTypeId.HUGEINT: case DuckDBTypeId.UHUGEINT: return 'decimal(38,0)';
    case DuckDBTypeId.FLOAT: return 'float';
    case DuckDBTypeId.DOUBLE: return 'double';
    case DuckDBTypeId.DECIMAL: return `decimal(${type.width},${type.scale})`;
    case DuckDBTypeId.VARCHAR: case DuckDBTypeId.ENUM: case DuckDBTypeId.UUID: return 'string';
    case DuckDBTypeId.BLOB: return 'binary';
    case DuckDBTypeId.DATE: return 'date';
    case DuckDBTypeId.TIMESTAMP: case DuckDBTypeId.TIMESTAMP_S: case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS: case DuckDBTypeId.TIMESTAMP_TZ: return 'timestamp';
    case DuckDBTypeId.LIST: case DuckDBTypeId.ARRAY:
      return { type: 'array', elementType: sparkType(type.valueType), containsNull: true };
    case DuckDBTypeId.MAP:
      return { type: 'map', keyType: sparkType(type.keyType), valueType: sparkType(type.valueType), valueContainsNull: true };
    case DuckDBTypeId.STRUCT:
      return {
        type: 'struct',
        fields: type.entryNames.map((name, i) => ({ name, type: sparkType(type.entryTypes[i]), nullable: true, metadata: {} })),
      };
    default:
      // No Spark equivalent (INTERVAL, TIME, BIT, UNION…): name the DuckDB type rather than guess.
      return type.toString().toLowerCase();
  }
}

const NUMERIC_AS_STRING = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL,
]);

/**
 * DuckDB's JSON conversion sends 64-bit integers and decimals as strings (they may not fit a
 * double); Spark's JSON sends numbers. Use a number whenever it round-trips exactly.
 */
function jsonValue(value: Json, type: DuckDBType | undefined): Json {
  if (typeof value === 'string' && type && NUMERIC_AS_STRING.has(type.typeId)) {
    const n = Number(value);
    if (Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(value))) return n;
  }
  return value;
}

/** Spark's `show()` layout: `+---+` borders, right-aligned cells cut to 20 characters. */
export function showTable(names: readonly string[], rows: readonly Json[][], truncated: boolean): string {
  if (names.length === 0) return '';
  const cells = rows.map((row) => row.map(cellText));
  const widths = names.map((name, c) => Math.max(3, name.length, ...cells.map((row) => (row[c] ?? '').length)));
  const border = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`;
  const line = (values: readonly string[]) => `|${values.map((v, c) => v.padStart(widths[c] ?? 0)).join('|')}|`;
  const out = [border, line(names), border, ...cells.map(line), border];
  if (truncated) out.push(`only showing top ${rows.length} rows`);
  return out.join('\n');
}

function cellText(value: Json): string {
  let text: string;
  if (value === null) text = 'null';
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return text.length > 20 ? `${text.slice(0, 17)}...` : text;
}
