/**
 * Every error orch shows a user, in one place. Each class has a stable `code` (listed in
 * docs/errors.md, checked by a test) and a message that says what to do next.
 */

import { closest } from './util/suggest.ts';

const didYouMean = (word: string, known: string[]) => {
  const hint = closest(word, known);
  return hint ? ` Did you mean '${hint}'?` : '';
};

export class OrchError extends Error {
  readonly code: string;
  /** False when trying again cannot help (bad code, bad template): the task fails without retries. */
  readonly retryable: boolean = true;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A DAG file could not be imported: it threw, hung, or did not export a DAG. */
export class DagImportError extends OrchError {
  constructor(
    readonly file: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('ORCH_DAG_IMPORT', `${file}: ${detail}`, options);
  }
}

/** A DAG file imported, but what it defines is not a valid DAG. */
export class DagValidationError extends OrchError {
  constructor(
    code: DagValidationCode,
    readonly file: string,
    readonly dagId: string | undefined,
    detail: string,
  ) {
    super(code, `${file}${dagId ? ` (DAG '${dagId}')` : ''}: ${detail}`);
  }
}

export type DagValidationCode =
  | 'ORCH_DAG_CYCLE'
  | 'ORCH_DAG_DUPLICATE_ID'
  | 'ORCH_TASK_DUPLICATE_ID'
  | 'ORCH_TASK_UNKNOWN_UPSTREAM'
  | 'ORCH_DAG_BAD_SCHEDULE'
  | 'ORCH_TASK_BAD_TRIGGER_RULE'
  | 'ORCH_DAG_BAD_OPTION';

export class UnknownDagError extends OrchError {
  constructor(
    readonly dagId: string,
    readonly known: string[],
    /** Load errors of a file that defines this id, when that is why it is missing. */
    readonly loadErrors: string[] = [],
  ) {
    super(
      'ORCH_DAG_NOT_FOUND',
      loadErrors.length
        ? `DAG '${dagId}' failed to load:\n  ${loadErrors.join('\n  ')}`
        : `DAG '${dagId}' not found.${didYouMean(dagId, known)} Known DAGs: ${known.length ? known.join(', ') : '(none — is the DAGs folder right?)'}`,
    );
  }
}

export class UnknownTaskError extends OrchError {
  constructor(dagId: string, taskId: string, known: string[]) {
    super('ORCH_TASK_NOT_FOUND', `DAG '${dagId}' has no task '${taskId}'.${didYouMean(taskId, known)} Its tasks: ${known.join(', ')}`);
  }
}

export class UnknownRunError extends OrchError {
  constructor(dagId: string, runId: string) {
    super('ORCH_RUN_NOT_FOUND', `DAG '${dagId}' has no run '${runId}'. See: orch runs list --dag ${dagId}`);
  }
}

/** `orch run` was told to stop (SIGTERM, Ctrl-C) before its run started: nothing was created or left behind. */
export class RunNotStartedError extends OrchError {
  constructor(dagId: string) {
    super('ORCH_RUN_NOT_STARTED', `stopped before a run of ${dagId} started; nothing was created`);
  }
}

/** `--conf` is not valid JSON or not an object. */
export class ConfParseError extends OrchError {
  constructor(detail: string) {
    super('ORCH_CONF_INVALID_JSON', `--conf is not a JSON object: ${detail}`);
  }
}

/** A run's conf does not satisfy the DAG's params schema. */
export class ParamsValidationError extends OrchError {
  constructor(
    readonly dagId: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(
      'ORCH_PARAMS_INVALID',
      `params of DAG '${dagId}' rejected: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
}

export class TaskTimeoutError extends OrchError {
  constructor(readonly taskId: string, readonly timeoutMs: number) {
    super('ORCH_TASK_TIMEOUT', `task '${taskId}' exceeded its executionTimeout of ${timeoutMs} ms and was aborted`);
  }
}

export class TaskCancelledError extends OrchError {
  constructor(readonly taskId: string, reason: string) {
    super('ORCH_TASK_CANCELLED', `task '${taskId}' was stopped: ${reason}`);
  }
}

export class PoolNotFoundError extends OrchError {
  constructor(readonly pool: string, readonly taskId: string) {
    super(
      'ORCH_POOL_NOT_FOUND',
      `task '${taskId}' uses pool '${pool}', which is not defined. Add it under "pools" in orch.config.json.`,
    );
  }
}

export class ConfigError extends OrchError {
  constructor(readonly file: string, detail: string) {
    super('ORCH_CONFIG_INVALID', `${file}: ${detail}`);
  }
}

/** A task's operator type has no implementation in this orch. */
export class UnknownOperatorError extends OrchError {
  override readonly retryable = false;
  constructor(readonly operator: string, readonly taskId: string) {
    super('ORCH_OPERATOR_UNKNOWN', `task '${taskId}' uses operator '${operator}', which this orch does not provide`);
  }
}

/** The XCom a task asked for does not exist. */
export class XComNotFoundError extends OrchError {
  constructor(readonly taskId: string, readonly key: string) {
    super('ORCH_XCOM_NOT_FOUND', `no XCom '${key}' from task '${taskId}' in this run (did it run and return a value?)`);
  }
}

/**
 * The signal reason when this process stops following a try without ending it: a drain
 * (`orch scheduler` on SIGTERM), a lost lease, a database that can no longer be written.
 * The try stays `running` in the store and the next owner resumes it, so an operator that
 * sees this reason must leave its external work (a Livy statement, a session, a batch, a
 * cluster) running and recorded: no cancel, no delete, no handle released.
 */
export class TaskDetachedError extends OrchError {
  constructor(readonly taskId: string, reason: string) {
    super('ORCH_TASK_DETACHED', `task '${taskId}' was detached: ${reason}; the next orch process resumes it`);
  }
}

/** True when the try behind `signal` was detached rather than stopped (see TaskDetachedError). */
export function isDetached(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof TaskDetachedError;
}

/**
 * The orch database (SQLite) cannot be used: it cannot be written (read-only, full disk,
 * I/O error), is not a database, or cannot be opened. The message names the file, the
 * cause and what to do.
 */
export class DatabaseError extends OrchError {
  constructor(
    code: 'ORCH_DB_UNWRITABLE' | 'ORCH_DB_CORRUPT' | 'ORCH_DB_UNOPENABLE' | 'ORCH_DB_TOO_NEW' | 'ORCH_DB_LOCKED',
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** `orch logs --try N` (or a log URL) names a try the task has not had. */
export class TryNotFoundError extends OrchError {
  constructor(taskId: string, tries: number, asked: number) {
    super(
      'ORCH_TRY_NOT_FOUND',
      tries === 0
        ? `task '${taskId}' has not run yet, so it has no try ${asked}`
        : `task '${taskId}' has ${tries} tr${tries === 1 ? 'y' : 'ies'}; --try must be 1..${tries}, got ${asked}`,
    );
  }
}
