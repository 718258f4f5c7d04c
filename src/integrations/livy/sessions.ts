/** Interactive sessions: `POST/GET/DELETE /sessions…` (docs/livy-api.md, "Interactive sessions"). */
import { call, httpError, seg } from './http.ts';
import type { Send } from './transport.ts';
import type { CreateSessionRequest, Page, Session, SessionState } from './types.ts';

/** Every field Livy's CreateInteractiveRequest knows; anything else would be a 400. */
const CREATE_FIELDS = [
  'kind', 'proxyUser', 'jars', 'pyFiles', 'files', 'archives', 'driverMemory', 'driverCores',
  'executorMemory', 'executorCores', 'numExecutors', 'queue', 'name', 'conf',
  'heartbeatTimeoutInSecond', 'ttl', 'idleTimeout',
] as const;

/** Copy only known, defined fields: Livy rejects unknown ones, and older Livy rejects `ttl`/`idleTimeout` if sent. */
export function pickFields<K extends string>(request: object, fields: readonly K[]): Record<string, unknown> {
  const source = request as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const field of fields) if (source[field] !== undefined) body[field] = source[field];
  return body;
}

/** Create a session. Livy answers 201 with the session `starting`. Never retried: see retry.ts. */
export function createSession(send: Send, request: CreateSessionRequest, signal?: AbortSignal): Promise<Session> {
  return call<Session>(send, { method: 'POST', path: '/sessions', body: pickFields(request, CREATE_FIELDS), signal }, [201, 200]);
}

/** Get a session by id, or by name (Livy 0.8+ looks up non-numeric segments as names). */
export function getSession(send: Send, idOrName: number | string, signal?: AbortSignal): Promise<Session> {
  return call<Session>(send, { method: 'GET', path: `/sessions/${seg(idOrName)}`, signal });
}

/** The session's state alone: the cheap call to poll. */
export function getSessionState(send: Send, id: number, signal?: AbortSignal): Promise<{ id: number; state: SessionState }> {
  return call(send, { method: 'GET', path: `/sessions/${seg(id)}/state`, signal });
}

/** One page of sessions (`from` 0, `size` 100 by default, as Livy). */
export function listSessions(send: Send, page: { from?: number; size?: number } = {}, signal?: AbortSignal): Promise<Page<Session>> {
  return call<Page<Session>>(send, { method: 'GET', path: '/sessions', query: { from: page.from, size: page.size }, signal });
}

/** Every item of a paged Livy list, page by page (bounded by the `total` Livy reports). */
export async function* allPages<T>(list: (page: { from: number; size: number }) => Promise<Page<T>>): AsyncGenerator<T> {
  const size = 100;
  for (let from = 0, pages = 0; pages < 1000; from += size, pages++) {
    const page = await list({ from, size });
    yield* page.sessions;
    if (page.sessions.length < size || from + size >= page.total) return;
  }
}

/** Every session, page by page. */
export function allSessions(send: Send, signal?: AbortSignal): AsyncGenerator<Session> {
  return allPages((page) => listSessions(send, page, signal));
}

/** Delete a session (Livy stops it first). Resolves false if it was already gone (404). */
export async function deleteSession(send: Send, id: number, signal?: AbortSignal): Promise<boolean> {
  const request = { method: 'DELETE', path: `/sessions/${seg(id)}`, signal } as const;
  const response = await send(request);
  if (response.status === 404) return false;
  if (response.status !== 200) throw httpError(request, response);
  return true;
}
