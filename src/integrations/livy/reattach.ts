/**
 * Finding external work again instead of repeating it (docs/adr/0002-reattach-not-repeat.md).
 * Sessions and batches carry a unique `name` (`orch-<dag>-<run>-<task>-<try>`); statements carry a
 * marker comment (statements.ts). Ids alone are not enough: Livy without recovery restarts ids
 * from 0, so a stored id can later name somebody else's session or batch. Names are matched
 * by listing, which every Livy version supports (`GET /batches/{name}` needs Livy 0.8+).
 */
import { allBatches, createBatch, getBatch } from './batches.ts';
import { LivyConnectionError, LivyHttpError, LivyTimeoutError } from './errors.ts';
import { allSessions, createSession, getSession } from './sessions.ts';
import { listStatements, markerComment, submitStatement } from './statements.ts';
import type { SubmitStatement } from './statements.ts';
import type { Send } from './transport.ts';
import type { Batch, CreateBatchRequest, CreateSessionRequest, Session, Statement } from './types.ts';

interface Named {
  id: number;
  name?: string | null;
  appId?: string | null;
}

/** What a caller stored about something it created: its name, and its id and appId if known. */
export interface Expected {
  name: string;
  id?: number;
  appId?: string;
}

/** The newest item of `items` with this name. */
async function newestNamed<T extends Named>(items: AsyncIterable<T>, name: string): Promise<T | undefined> {
  let found: T | undefined;
  for await (const item of items) if (item.name === name && (!found || item.id > found.id)) found = item;
  return found;
}

/** By stored id if that one still carries the expected name (and appId), else by name. */
async function reattach<T extends Named>(expected: Expected, get: (id: number) => Promise<T>, byName: () => Promise<T | undefined>): Promise<T | undefined> {
  const sameApp = (item: T) => !expected.appId || !item.appId || item.appId === expected.appId;
  if (expected.id !== undefined) {
    try {
      const item = await get(expected.id);
      if (item.name === expected.name && sameApp(item)) return item;
    } catch (error) {
      if (!(error instanceof LivyHttpError && error.status === 404)) throw error;
    }
  }
  const found = await byName();
  return found && sameApp(found) ? found : undefined;
}

/** True when a POST failed in a way that leaves unknown whether the server applied it. */
export function maybeApplied(error: unknown, signal?: AbortSignal): boolean {
  return (error instanceof LivyConnectionError || error instanceof LivyTimeoutError) && !signal?.aborted;
}

/** The newest session with this name, found by listing (works on every Livy version). */
export function findSessionByName(send: Send, name: string, signal?: AbortSignal): Promise<Session | undefined> {
  return newestNamed(allSessions(send, signal), name);
}

/** The newest batch with this name, found by listing (works on every Livy version). */
export function findBatchByName(send: Send, name: string, signal?: AbortSignal): Promise<Batch | undefined> {
  return newestNamed(allBatches(send, signal), name);
}

/** The session a task opened earlier, checked by name (and appId); undefined if it is gone. */
export function reattachSession(send: Send, expected: Expected, signal?: AbortSignal): Promise<Session | undefined> {
  return reattach(expected, (id) => getSession(send, id, signal), () => findSessionByName(send, expected.name, signal));
}

/** The batch a task submitted earlier, checked by name (and appId); undefined if it is gone. */
export function reattachBatch(send: Send, expected: Expected, signal?: AbortSignal): Promise<Batch | undefined> {
  return reattach(expected, (id) => getBatch(send, id, signal), () => findBatchByName(send, expected.name, signal));
}

/**
 * POST once: when the answer is lost (connection cut, timeout) the server may have applied it
 * anyway, so `lookup` (by unique name or marker) decides before the error is given up on.
 */
async function postOnce<T>(post: () => Promise<T>, lookup: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T> {
  try {
    return await post();
  } catch (error) {
    if (!maybeApplied(error, signal)) throw error;
    const found = await lookup();
    if (found) return found;
    throw error;
  }
}

/** Create a named session; a lost answer is resolved by finding the session by name, never by POSTing again. */
export function createSessionOnce(send: Send, request: CreateSessionRequest & { name: string }, signal?: AbortSignal): Promise<Session> {
  return postOnce(() => createSession(send, request, signal), () => findSessionByName(send, request.name, signal), signal);
}

/** Submit a named batch; a lost answer is resolved by finding the batch by name. */
export function createBatchOnce(send: Send, request: CreateBatchRequest & { name: string }, signal?: AbortSignal): Promise<Batch> {
  return postOnce(() => createBatch(send, request, signal), () => findBatchByName(send, request.name, signal), signal);
}

/** Submit a statement with a marker; a lost answer is resolved by finding the marker. */
export function submitStatementOnce(send: Send, sessionId: number, statement: SubmitStatement & { marker: string }, signal?: AbortSignal): Promise<Statement> {
  return postOnce(() => submitStatement(send, sessionId, statement, signal), () => findStatementByMarker(send, sessionId, statement.marker, signal), signal);
}

/**
 * The newest statement of a session whose code starts with the marker comment the client
 * added. Livy keeps only the last 100 statements, so an old one may be gone (undefined).
 */
export async function findStatementByMarker(
  send: Send,
  sessionId: number,
  marker: string,
  signal?: AbortSignal,
): Promise<Statement | undefined> {
  const { statements } = await listStatements(send, sessionId, {}, signal);
  const suffix = markerComment(marker, 'sql').slice(2); // " orch:marker=<m>", whatever the comment prefix
  let found: Statement | undefined;
  for (const statement of statements) {
    const firstLine = (statement.code.split('\n', 1)[0] ?? '').trimEnd();
    if (firstLine.endsWith(suffix) && (!found || statement.id > found.id)) found = statement;
  }
  return found;
}
