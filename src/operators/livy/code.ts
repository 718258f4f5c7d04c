/**
 * From a statement task's code variants to the code to submit: pick the first dialect the
 * backend runs, read it (file or inline), render its placeholders. All before any I/O to
 * the cluster, so a missing file or an unknown variable fails the task with nothing opened.
 */
import { existsSync, readFileSync } from 'node:fs';
import { OrchError } from '../../errors.ts';
import { DIALECTS, type CodeSource, type Dialect, type TaskContext } from '../../sdk/index.ts';
import { renderTemplate } from '../template.ts';

export class NoRunnableVariantError extends OrchError {
  override readonly retryable = false;
  constructor(taskId: string, backend: string, runs: readonly Dialect[], has: string[]) {
    super(
      'ORCH_STATEMENT_NO_VARIANT',
      `task '${taskId}' has code for ${has.join(', ') || 'no dialect'}, but the ${backend} runs ${runs.join(', ')}; add code.${runs[0]} or choose another backend`,
    );
  }
}

export class CodeFileMissingError extends OrchError {
  override readonly retryable = false;
  constructor(taskId: string, path: string) {
    super('ORCH_STATEMENT_FILE_MISSING', `task '${taskId}': code file ${path} does not exist`);
  }
}

export interface PreparedCode {
  dialect: Dialect;
  code: string;
  source: string;
}

/** The variant to run and its rendered code. */
export function prepareCode(
  ctx: TaskContext,
  variants: Partial<Record<Dialect, CodeSource | CodeSource[]>>,
  backend: string,
  runs: readonly Dialect[],
  extra: Record<string, unknown> = {},
): PreparedCode {
  const dialect = DIALECTS.find((d) => runs.includes(d) && variants[d] !== undefined);
  if (!dialect) throw new NoRunnableVariantError(ctx.taskId, backend, runs, Object.keys(variants));
  const parts = ([] as CodeSource[]).concat(variants[dialect]!);
  const texts: string[] = [];
  const sources: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      texts.push(part);
      sources.push(`task '${ctx.taskId}' (${dialect} code)`);
    } else {
      if (!existsSync(part.$file)) throw new CodeFileMissingError(ctx.taskId, part.$file);
      texts.push(readFileSync(part.$file, 'utf8'));
      sources.push(part.$file);
    }
  }
  const raw = texts.join('\n');
  // Errors name the file a placeholder is in: render each part on its own.
  const vars = { ...templateVars(ctx, raw), ...extra };
  const code = texts.map((t, i) => renderTemplate(t, vars, sources[i]!)).join('\n');
  return { dialect, source: sources.join(' + '), code };
}

/** What `{{ … }}` may name: Airflow's names for run facts, params, and XComs of this run. */
export function templateVars(ctx: TaskContext, code: string): Record<string, unknown> {
  const iso = (d: Date) => d.toISOString();
  const xcom: Record<string, unknown> = {};
  // Only the XComs the code names are read, so rendering costs nothing for the others.
  for (const m of code.matchAll(/\{\{\s*xcom\.([A-Za-z0-9_-]+)/g)) {
    const taskId = m[1]!;
    const value = ctx.xcom.get(taskId);
    if (value !== undefined) xcom[taskId] = value;
  }
  return {
    params: ctx.params,
    conf: ctx.conf,
    dag_id: ctx.dagId,
    run_id: ctx.runId,
    task_id: ctx.taskId,
    try_number: ctx.tryNumber,
    ds: ctx.ds,
    ds_nodash: ctx.ds.replaceAll('-', ''),
    logical_date: iso(ctx.logicalDate),
    data_interval_start: iso(ctx.dataIntervalStart),
    data_interval_end: iso(ctx.dataIntervalEnd),
    xcom,
  };
}
