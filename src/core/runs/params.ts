/** A run's conf checked against the DAG's params schema, before anything is created. */
import { ConfParseError, ParamsValidationError } from '../../errors.ts';
import type { DagDefinition } from '../dags/definition.ts';
import { closest } from '../../util/suggest.ts';

/** Parse `--conf` text into an object; the error says where the JSON breaks. */
export function parseConf(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const where = pos ? ` — near character ${Number(pos[1]) + 1}: ${JSON.stringify(text.slice(Math.max(0, Number(pos[1]) - 10), Number(pos[1]) + 10))}` : '';
    throw new ConfParseError(`${msg}${where}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfParseError(`expected an object like {"key": "value"}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
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
