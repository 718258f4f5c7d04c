/** A run's conf checked against the DAG's params schema, before anything is created. */
import { z } from 'zod';
import { ConfParseError, ParamsValidationError } from '../../errors.ts';
import type { DagDefinition } from '../dags/definition.ts';
import { closest } from '../../util/suggest.ts';

/** Parse `--conf` text into an object; the error says where the JSON breaks. No `--conf` is `{}`; an empty one is an error. */
export function parseConf(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  // An empty shell variable must not pass for "no --conf": `orch run` without one resumes any interrupted run.
  if (text.trim() === '') throw new ConfParseError(`it is empty (an unset shell variable?); give a JSON object such as '{"key": "value"}' or '{}', or leave --conf out`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const { message, pos } = whereJsonBreaks(text, (err as Error).message);
    const line = text.slice(0, pos).split('\n').length;
    const column = pos - text.lastIndexOf('\n', pos - 1);
    const near = pos >= text.length ? 'at the end' : `near ${JSON.stringify(text.slice(Math.max(0, pos - 10), pos + 10))}`;
    throw new ConfParseError(`${message} — at line ${line}, column ${column} (character ${pos + 1}), ${near}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfParseError(`expected an object like {"key": "value"}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/**
 * The 0-based position where JSON.parse gave up on `text`, and its message without the
 * text it quotes. Node 20 leaves the position out of some messages ("Unexpected token '}',
 * … is not valid JSON"); parsing is left to right, so the shortest prefix that fails other
 * than by ending early ends at the bad character, and a binary search finds it.
 */
function whereJsonBreaks(text: string, message: string): { message: string; pos: number } {
  const stated = /at position (\d+)/.exec(message);
  if (stated) return { message: message.replace(/( in JSON)? at position \d+.*$/s, ''), pos: Number(stated[1]) };
  const failsBefore = (end: number): boolean => {
    try {
      JSON.parse(text.slice(0, end));
      return false;
    } catch (err) {
      const m = (err as Error).message;
      const at = /at position (\d+)/.exec(m);
      return at ? Number(at[1]) < end : !/end of JSON input/.test(m);
    }
  };
  if (!failsBefore(text.length)) return { message: 'Unexpected end of JSON input', pos: text.length };
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsBefore(mid)) hi = mid;
    else lo = mid + 1;
  }
  return { message: `Unexpected token ${JSON.stringify(text[lo - 1])}`, pos: lo - 1 };
}

/**
 * The params a run gets: schema defaults overlaid with `conf`. A conf key the schema
 * does not know is rejected (a misspelled param must not silently fall back to its default).
 */
export function resolveParams(dag: DagDefinition, conf: Record<string, unknown>): Record<string, unknown> {
  if (!dag.params) return { ...conf };
  const known = Object.keys(dag.params.shape);
  const unknown = Object.keys(conf).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new ParamsValidationError(
      dag.id,
      unknown.map((k) => {
        const hint = closest(k, known);
        return { path: k, message: `not a param of this DAG${hint ? ` (did you mean '${hint}'?)` : ''}; params: ${known.join(', ')}` };
      }),
    );
  }
  const res = dag.params.safeParse(conf);
  if (!res.success) {
    throw new ParamsValidationError(
      dag.id,
      res.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return res.data as Record<string, unknown>;
}

/** A DAG's params as JSON Schema (draft 2020-12) of what a conf may hold, defaults included; null when zod cannot say. */
export function paramsJsonSchema(schema: z.ZodType): Record<string, unknown> | null {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return null;
  }
}
