/**
 * Input paths of a statement, checked where orch can check them: on a cluster that reads
 * this machine's files (the embedded engine) a missing input fails before anything is
 * submitted — and, through `preflight`, before the cluster is even created — naming the path
 * and the param it came from; `s3://` and other remote URLs get orch's own message instead
 * of the engine's. None of these can succeed on a retry, so none is retried.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OrchError } from '../../errors.ts';
import { LivyStatementFailedError } from '../../integrations/livy/index.ts';
import type { TaskContext } from '../../sdk/index.ts';
import { renderTemplate } from '../template.ts';
import { templateVars } from './code.ts';

export class InputMissingError extends OrchError {
  override readonly retryable = false;
  constructor(readonly taskId: string, readonly path: string, detail: string, options?: ErrorOptions) {
    super('ORCH_INPUT_MISSING', `task '${taskId}': input ${path} does not exist${detail}`, options);
  }
}

export class RemoteInputError extends OrchError {
  override readonly retryable = false;
  constructor(readonly taskId: string, readonly path: string, where: string) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(path)?.[1] ?? 'remote';
    super(
      'ORCH_INPUT_NOT_LOCAL',
      `task '${taskId}': ${path} is not on this machine, and the ${where} reads only local files; run with --backend livy (or emr) for ${scheme}:// data, or copy it here`,
    );
  }
}

const URL_LIKE = /^([a-z][a-z0-9+.-]*):\/\//i;
/** A quoted remote URL in engine (DuckDB) code: `'s3://bucket/x.csv'`. */
const REMOTE_IN_CODE = /'((?:s3[an]?|gs|gcs|abfss?|wasbs?|hdfs):\/\/[^']*)'/i;

/** Fail at once when engine code names a remote URL: the engine would only answer with its `INSTALL httpfs` text. */
export function checkCodeIsLocal(ctx: TaskContext, code: string, where: string): void {
  const remote = REMOTE_IN_CODE.exec(code)?.[1];
  if (remote) throw new RemoteInputError(ctx.taskId, remote, where);
}

/**
 * Check declared inputs for a cluster that reads this machine's files. Inputs that name an
 * XCom cannot be rendered before upstream tasks ran; `preflight` passes `skipXcom`.
 */
export function checkLocalInputs(ctx: TaskContext, inputs: readonly string[], where: string, skipXcom = false): void {
  for (const template of inputs) {
    if (skipXcom && /\{\{\s*xcom\./.test(template)) continue;
    const path = renderTemplate(template, templateVars(ctx, template), `task '${ctx.taskId}' option 'inputs'`);
    const url = URL_LIKE.exec(path);
    if (url && url[1]!.toLowerCase() !== 'file') throw new RemoteInputError(ctx.taskId, path, where);
    const local = resolve(url ? path.slice('file://'.length) : path);
    if (!existsSync(globBase(local))) throw new InputMissingError(ctx.taskId, local, fromParams(ctx, template));
  }
}

/** A failed statement whose error says an input path does not exist, as a non-retryable InputMissingError. */
export function classifyFailure(ctx: TaskContext, err: unknown): unknown {
  if (!(err instanceof LivyStatementFailedError)) return err;
  // DuckDB: `No files found that match the pattern "…"`; Spark: `Path does not exist: file:/…`.
  const path = /No files found that match the pattern "([^"]+)"/.exec(err.evalue)?.[1] ?? /Path does not exist: (\S+)/.exec(err.evalue)?.[1];
  if (!path) return err;
  return new InputMissingError(ctx.taskId, path, ` (${err.ename}: ${err.evalue.split('\n')[0]})`, { cause: err });
}

/** The existing directory a glob pattern lists, or the path itself. */
function globBase(path: string): string {
  const at = path.search(/[*?[{]/);
  return at < 0 ? path : dirname(path.slice(0, at) + 'x');
}

/** `; from params.source = "/x" (set it with --conf …)` for the params an input template names. */
function fromParams(ctx: TaskContext, template: string): string {
  const names = [...template.matchAll(/\{\{\s*params\.([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  if (!names.length) return '';
  const values = names.map((n) => `params.${n} = ${JSON.stringify((ctx.params as Record<string, unknown>)[n])}`).join(', ');
  return ` (from ${values}; pass another with --conf '{"${names[0]}": "…"}')`;
}
