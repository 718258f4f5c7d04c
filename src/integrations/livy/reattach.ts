/**
 * Finding external work again instead of repeating it (docs/adr/0002-reattach-not-repeat.md).
 * Sessions carry a unique `name` (`orch-<run>-<task>-<try>`); statements carry a marker
 * comment (statements.ts). Ids alone are not enough: Livy without recovery restarts ids from
 * 0, so a stored id can later name somebody else's session.
 */
import { LivyHttpError } from './errors.ts';
import { allSessions, getSession } from './sessions.ts';
import { listStatements, markerComment } from './statements.ts';
import type { Send } from './transport.ts';
import type { Session, Statement } from './types.ts';

/** The newest session with this name, found by listing (works on every Livy version). */
export async function findSessionByName(send: Send, name: string, signal?: AbortSignal): Promise<Session | undefined> {
  let found: Session | undefined;
  for await (const session of allSessions(send, signal)) {
    if (session.name === name && (!found || session.id > found.id)) found = session;
  }
  return found;
}

/**
 * The session a task opened earlier: by its stored id if that session still carries the
 * expected name (and appId, when known), else by name; undefined if it is gone.
 */
export async function reattachSession(
  send: Send,
  expected: { name: string; id?: number; appId?: string },
  signal?: AbortSignal,
): Promise<Session | undefined> {
  if (expected.id !== undefined) {
    try {
      const session = await getSession(send, expected.id, signal);
      const sameApp = !expected.appId || !session.appId || session.appId === expected.appId;
      if (session.name === expected.name && sameApp) return session;
    } catch (error) {
      if (!(error instanceof LivyHttpError && error.status === 404)) throw error;
    }
  }
  const byName = await findSessionByName(send, expected.name, signal);
  if (byName && expected.appId && byName.appId && byName.appId !== expected.appId) return undefined;
  return byName;
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
