/**
 * Statements of an interactive session (docs/livy-api.md, "Statements"). The client can put a
 * marker comment at the top of the code it submits, so that after a crash — or a POST whose
 * answer was lost — the statement can be found again instead of being run twice.
 */
import { call, httpError, seg } from './http.ts';
import type { Send } from './transport.ts';
import type { Statement, StatementList } from './types.ts';

export interface SubmitStatement {
  code: string;
  /** Per-statement kind (Livy 0.5+, for `shared` sessions); omitted when unset. */
  kind?: string;
  /** A unique marker to find this statement again (see reattach.ts). */
  marker?: string;
  /** Kind of the session, to choose the marker's comment syntax when `kind` is unset. */
  sessionKind?: string;
}

/** The comment line carrying a marker, in the syntax of the code's language. */
export function markerComment(marker: string, kind: string | undefined): string {
  if (/[\r\n]/.test(marker)) throw new TypeError(`a statement marker must be one line, got ${JSON.stringify(marker)}`);
  const prefix = kind === 'sql' ? '--' : kind && ['pyspark', 'python', 'sparkr', 'r'].includes(kind) ? '#' : '//';
  return `${prefix} orch:marker=${marker}`;
}

/** Submit code. Livy answers 201 with the statement (usually `waiting`). Never retried. */
export function submitStatement(send: Send, sessionId: number, statement: SubmitStatement, signal?: AbortSignal): Promise<Statement> {
  const code = statement.marker
    ? `${markerComment(statement.marker, statement.kind ?? statement.sessionKind)}\n${statement.code}`
    : statement.code;
  const body: Record<string, unknown> = { code };
  if (statement.kind !== undefined) body.kind = statement.kind;
  return call<Statement>(send, { method: 'POST', path: `/sessions/${seg(sessionId)}/statements`, body, signal }, [201, 200]);
}

/** Get one statement; an unknown id is a 404 whose body is the bare string "Statement not found". */
export function getStatement(send: Send, sessionId: number, statementId: number, signal?: AbortSignal): Promise<Statement> {
  return call<Statement>(send, { method: 'GET', path: `/sessions/${seg(sessionId)}/statements/${seg(statementId)}`, signal });
}

/** The header by which `orch engine` offers its long poll on statement GETs (its value: the longest wait, ms). */
export const LONG_POLL_HEADER = 'x-orch-long-poll-ms';

/**
 * Get one statement; with `wait`, ask a server that offers orch's long poll to answer only
 * once the statement has left `wait.state` (or after `wait.ms`). Also says whether, and for
 * how long, the server offers that wait. Real Livy offers none and is never asked.
 */
export async function pollStatement(
  send: Send,
  sessionId: number,
  statementId: number,
  wait: { state: string; ms: number } | undefined,
  signal?: AbortSignal,
): Promise<{ statement: Statement; longPollMs: number | undefined }> {
  const request = { method: 'GET' as const, path: `/sessions/${seg(sessionId)}/statements/${seg(statementId)}`, query: wait ? { wait: wait.ms, state: wait.state } : undefined, signal };
  const response = await send(request);
  if (response.status !== 200) throw httpError(request, response);
  const offered = Number(response.headers?.[LONG_POLL_HEADER]);
  return { statement: response.json as Statement, longPollMs: Number.isFinite(offered) && offered > 0 ? offered : undefined };
}

/** The statements Livy still keeps (the last 100). */
export function listStatements(send: Send, sessionId: number, page: { from?: number; size?: number } = {}, signal?: AbortSignal): Promise<StatementList> {
  return call<StatementList>(send, {
    method: 'GET',
    path: `/sessions/${seg(sessionId)}/statements`,
    query: { from: page.from, size: page.size },
    signal,
  });
}

/**
 * Ask Livy to cancel a statement (200 `{"msg":"canceled"}`). Cancel does not always stop
 * driver-side code (LIVY-786): a caller that must stop the work also deletes the session.
 */
export async function cancelStatement(send: Send, sessionId: number, statementId: number, signal?: AbortSignal): Promise<void> {
  await call(send, { method: 'POST', path: `/sessions/${seg(sessionId)}/statements/${seg(statementId)}/cancel`, signal });
}
