/**
 * Request bodies the engine accepts, validated the way Livy's Jackson mapping does: every
 * field of Livy's create requests is known (and the Spark-only ones are accepted and ignored,
 * so one DAG runs on every backend), an unknown field is a 400 with a bare-string body, and
 * kinds other than `sql` get a 400 that says where they can run.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { bareError, msgError } from './http-errors.ts';

const strings = z.array(z.string());
/** Jackson coerces `"2"` to an int; so do we. */
const int = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
/** Livy's `conf` is a string map; Jackson turns numbers and booleans into strings. */
const conf = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const sparkResources = {
  proxyUser: z.string().nullish(),
  jars: strings.optional(),
  pyFiles: strings.optional(),
  files: strings.optional(),
  archives: strings.optional(),
  driverMemory: z.string().optional(),
  driverCores: int.optional(),
  executorMemory: z.string().optional(),
  executorCores: int.optional(),
  numExecutors: int.optional(),
  queue: z.string().optional(),
  name: z.string().nullish(),
  conf: conf.optional(),
};

/** `POST /sessions` (Livy's CreateInteractiveRequest, 0.9 fields included). */
export const createSessionSchema = z.strictObject({
  kind: z.string().optional(),
  ...sparkResources,
  heartbeatTimeoutInSecond: int.optional(),
  ttl: z.string().nullish(),
  idleTimeout: z.string().nullish(),
});
export type CreateSessionBody = z.infer<typeof createSessionSchema>;

/** `POST /sessions/{id}/statements` (Livy's ExecuteRequest). */
export const executeSchema = z.strictObject({ code: z.string(), kind: z.string().nullish() });

/** `POST /batches` (Livy's CreateBatchRequest). */
export const createBatchSchema = z.strictObject({
  file: z.string(),
  className: z.string().optional(),
  args: strings.optional(),
  ...sparkResources,
});
export type CreateBatchBody = z.infer<typeof createBatchSchema>;

/** Parse a body against a schema, throwing Livy's 400 (bare string, like Jackson's) on failure. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, route: string): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const known = schema instanceof z.ZodObject ? Object.keys(schema.shape).join(', ') : '';
  if (issue.code === 'unrecognized_keys') {
    throw bareError(400, `Unrecognized field "${issue.keys[0]}": ${route} accepts only ${known}`);
  }
  const field = issue.path.join('.') || '(body)';
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) throw bareError(400, `Missing required field "${field}" in ${route}`);
  throw bareError(400, `Cannot deserialize field "${field}" of ${route}: ${issue.message}`);
}

const SPARK_KINDS = new Set(['spark', 'scala', 'pyspark', 'python', 'sparkr', 'r', 'shared']);
const OTHER_BACKENDS = "the 'livy' backend (your Livy server) or the 'emr' backend run spark, pyspark, sparkr and shared";

/**
 * The engine runs kind `sql` only. Livy's default kind is `shared`, so a missing kind is
 * refused too, with the same explanation; anything outside Livy's kinds is "Invalid kind".
 */
export function checkKind(kind: string | null | undefined, what: 'session' | 'statement'): void {
  if (kind === 'sql' || (what === 'statement' && (kind === undefined || kind === null))) return;
  if (kind === undefined || kind === null) {
    throw msgError(400, `kind is required: Livy's default kind 'shared' needs Spark. The embedded engine runs kind 'sql', in DuckDB's SQL dialect; ${OTHER_BACKENDS}.`);
  }
  if (SPARK_KINDS.has(kind)) {
    throw msgError(400, `The embedded engine runs kind 'sql' only, in DuckDB's SQL dialect; kind '${kind}' needs Spark: ${OTHER_BACKENDS}.`);
  }
  throw msgError(400, `Invalid kind: ${kind} (Livy's kinds are spark, pyspark, sparkr, sql, shared; the embedded engine runs sql)`);
}

/**
 * Check a batch `file` and return its local path. The engine runs `.sql` files from local
 * disk; object-store paths and Spark artifacts (jars, Python) need a Spark backend.
 */
export function batchFilePath(file: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(file)?.[1]?.toLowerCase();
  if (scheme && scheme !== 'file') {
    throw msgError(400, `file '${file}': the embedded engine reads local paths only; ${scheme}:// paths are read by the 'livy' and 'emr' backends (Spark).`);
  }
  const path = resolve(scheme === 'file' ? file.slice('file://'.length) : file);
  if (!path.toLowerCase().endsWith('.sql')) {
    throw msgError(400, `file '${file}': the embedded engine runs .sql files (DuckDB SQL) as batches; jars and Python or R files run on the 'livy' or 'emr' backend.`);
  }
  return path;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** Livy's time strings (`ttl`, `idleTimeout`): `500ms`, `30s`, `10m`, `2h`, `1d`; a bare number is ms. */
export function parseDuration(text: string, field: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|min|h|d)?\s*$/i.exec(text);
  if (!match) throw msgError(400, `${field}: invalid time '${text}' (use e.g. 30s, 10m, 2h)`);
  return Number(match[1]) * (UNITS[(match[2] ?? 'ms').toLowerCase()] ?? 1);
}
