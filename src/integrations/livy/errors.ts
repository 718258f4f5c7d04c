/**
 * What can go wrong talking to Livy, one class per thing a caller acts on differently. Each
 * has a stable `code` and carries its context as readonly fields.
 */
import { OrchError } from '../../errors.ts';

/** Livy answered with a status outside 2xx. `message` is read from any of Livy's body shapes. */
export class LivyHttpError extends OrchError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    /** The server's message: `{"msg"}`, a bare JSON string, or the text of an HTML page. */
    readonly serverMessage: string,
  ) {
    super('ORCH_LIVY_HTTP', `Livy ${method} ${url} answered ${status}: ${serverMessage}${hintFor(status, serverMessage)}`);
  }
}

function hintFor(status: number, message: string): string {
  if (/CSRF/i.test(message)) return ' (the server enforces CSRF protection and did not see X-Requested-By; a proxy may strip it)';
  if (/too many sessions/i.test(message)) return ' (the server is at its session limit: delete idle sessions, or raise it — `orch engine --max-sessions`)';
  if (status === 401) return ' (set basic auth or headers for this Livy connection)';
  if (status === 403) return ' (the Livy user may not access this session; check proxyUser and the server ACLs)';
  if (status === 404) return ' (it may have been deleted, timed out, or the server restarted)';
  return '';
}

/** No HTTP answer at all: refused, reset, DNS, TLS. For a POST, the request may still have been applied. */
export class LivyConnectionError extends OrchError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      'ORCH_LIVY_UNREACHABLE',
      `cannot reach Livy for ${method} ${url}: ${reason}` +
        (method === 'POST' ? ' — the request may or may not have been applied; look the session or statement up before retrying' : ''),
      options,
    );
  }
}

/** One request took longer than its timeout. */
export class LivyTimeoutError extends OrchError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super('ORCH_LIVY_TIMEOUT', `Livy ${method} ${url} did not answer within ${timeoutMs} ms (raise the Livy request timeout if the server is just slow)`);
  }
}

/** A session reached a final state (`error`, `dead`, `killed`, `success`) while we needed it. */
export class LivySessionDeadError extends OrchError {
  constructor(
    readonly sessionId: number,
    readonly state: string,
    readonly logTail: string[],
  ) {
    super(
      'ORCH_LIVY_SESSION_DEAD',
      `Livy session ${sessionId} is ${state}` +
        (logTail.length ? `; its last log lines:\n${logTail.map((l) => `  ${l}`).join('\n')}` : '; its log is empty') +
        '\nCheck the session conf (memory, queue, jars) and the cluster; the task can be retried.',
    );
  }
}

/** A batch ended `dead`, `killed` or `error`. */
export class LivyBatchFailedError extends OrchError {
  constructor(
    readonly batchId: number,
    readonly state: string,
    readonly logTail: string[],
  ) {
    super(
      'ORCH_LIVY_BATCH_FAILED',
      `Livy batch ${batchId} ended ${state}` + (logTail.length ? `; its last log lines:\n${logTail.map((l) => `  ${l}`).join('\n')}` : ''),
    );
  }
}

/** The statement ran and failed: Livy's `output.status == "error"` (state `available`). */
export class LivyStatementFailedError extends OrchError {
  constructor(
    readonly ename: string,
    readonly evalue: string,
    readonly traceback: string[],
    readonly sessionId?: number,
    readonly statementId?: number,
  ) {
    super(
      'ORCH_LIVY_STATEMENT_FAILED',
      `${ename}: ${evalue}` + (traceback.length ? `\n${traceback.map((l) => `  ${l.replace(/\n$/, '')}`).join('\n')}` : ''),
    );
  }
}

/** The statement ended `cancelled` (by us or by someone else). */
export class LivyStatementCancelledError extends OrchError {
  constructor(
    readonly sessionId: number,
    readonly statementId: number,
  ) {
    super('ORCH_LIVY_STATEMENT_CANCELLED', `Livy statement ${statementId} of session ${sessionId} was cancelled`);
  }
}

/**
 * While waiting, the session or the server went away: connection refused after retries, a
 * timeout, or the session answering 404. Its work's outcome is unknown.
 */
export class LivySessionLostError extends OrchError {
  constructor(
    readonly sessionId: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      'ORCH_LIVY_SESSION_LOST',
      `lost Livy session ${sessionId}: ${reason}. The outcome of its running work is unknown; ` +
        'check that the Livy server (or `orch engine`) is up, then retry the task',
      options,
    );
  }
}

/** Every code above, for docs/errors.md. */
export const LIVY_ERROR_CODES = [
  'ORCH_LIVY_HTTP',
  'ORCH_LIVY_UNREACHABLE',
  'ORCH_LIVY_TIMEOUT',
  'ORCH_LIVY_SESSION_DEAD',
  'ORCH_LIVY_BATCH_FAILED',
  'ORCH_LIVY_STATEMENT_FAILED',
  'ORCH_LIVY_STATEMENT_CANCELLED',
  'ORCH_LIVY_SESSION_LOST',
] as const;
