/**
 * The Livy REST client. `LivyClient` bundles the layers: a keep-alive transport per host
 * (transport.ts) wrapped with a per-request timeout (timeout.ts) and retries for idempotent
 * calls (retry.ts), and the call modules on top (sessions, statements, batches, logs, wait,
 * reattach). Each module's functions take a `send`, so they can be used without the class.
 *
 * @example
 * const livy = new LivyClient({ url: 'http://127.0.0.1:8998' });
 * const session = await livy.createSession({ kind: 'sql', name: 'orch-run1-load-1' });
 * await livy.waitForSessionIdle(session.id);
 * const st = await livy.runStatement(session.id, { code: 'SELECT 42', marker: 'run1-load-1' });
 * await livy.deleteSession(session.id);
 * await livy.close();
 */
import type { Dispatcher } from 'undici';
import * as batches from './batches.ts';
import { call } from './http.ts';
import { LogReader, logTail } from './logs.ts';
import type { LogOwner, LogReaderOptions } from './logs.ts';
import * as reattach from './reattach.ts';
import { DEFAULT_RETRY, withRetry } from './retry.ts';
import type { RetryOptions } from './retry.ts';
import * as sessions from './sessions.ts';
import * as statements from './statements.ts';
import type { SubmitStatement } from './statements.ts';
import { DEFAULT_TIMEOUT_MS, withTimeout } from './timeout.ts';
import { createHttpTransport } from './transport.ts';
import type { BasicAuth, Send } from './transport.ts';
import type { CreateBatchRequest, CreateSessionRequest, LivyVersion, Statement } from './types.ts';
import * as wait from './wait.ts';
import type { PollOptions, WaitSessionOptions, WaitStatementOptions } from './wait.ts';

export * from './errors.ts';
export type * from './types.ts';
export { FINAL_SESSION_STATES } from './types.ts';
export { LogReader, logTail } from './logs.ts';
export type { LogLine, LogRead, LogOwner, LogPosition } from './logs.ts';
export { markerComment } from './statements.ts';
export { nextInterval, DEFAULT_POLL, DEFAULT_LOST_AFTER_MS } from './wait.ts';
export type { Outage, PollOptions } from './wait.ts';
export type { Send, LivyRequest, LivyResponse } from './transport.ts';
export type { RetryOptions } from './retry.ts';

export interface LivyClientOptions {
  /** Livy base URL, e.g. `http://master:8998` (a path prefix is kept). */
  url: string;
  /** Extra headers on every request, polls included. */
  headers?: Record<string, string>;
  /** HTTP Basic credentials, sent on every request. */
  auth?: BasicAuth;
  /** `X-Requested-By` value; `orch` by default. */
  requestedBy?: string;
  /** Per-request timeout in ms (30 s by default). */
  timeoutMs?: number;
  /** Retry policy for GET and DELETE. */
  retry?: Partial<RetryOptions>;
  /** Default poll intervals for the wait functions. */
  poll?: Partial<PollOptions>;
  /** A dispatcher to use instead of our own Pool (tests: undici MockAgent). */
  dispatcher?: Dispatcher;
}

/** A Livy server (or `orch engine`) at one URL: every call of the contract, waits and reattach. */
export class LivyClient {
  /** The wrapped primitive, for calls this class does not cover. */
  readonly send: Send;
  readonly url: string;
  private readonly closeTransport: () => Promise<void>;
  private readonly poll: Partial<PollOptions>;
  private readonly timeoutMs: number;

  constructor(options: LivyClientOptions) {
    const transport = createHttpTransport(options);
    this.url = options.url;
    this.send = withRetry(withTimeout(transport.send, options.timeoutMs ?? DEFAULT_TIMEOUT_MS), { ...DEFAULT_RETRY, ...options.retry });
    this.closeTransport = transport.close;
    this.poll = options.poll ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `GET /version`: also the cheapest "is this a Livy server" check. */
  version(signal?: AbortSignal): Promise<LivyVersion> {
    return call<LivyVersion>(this.send, { method: 'GET', path: '/version', signal });
  }

  /** Create a session (never retried). */
  createSession(request: CreateSessionRequest, signal?: AbortSignal) { return sessions.createSession(this.send, request, signal); }
  /** Get a session by id or name. */
  getSession(idOrName: number | string, signal?: AbortSignal) { return sessions.getSession(this.send, idOrName, signal); }
  /** A session's state. */
  getSessionState(id: number, signal?: AbortSignal) { return sessions.getSessionState(this.send, id, signal); }
  /** One page of sessions. */
  listSessions(page?: { from?: number; size?: number }, signal?: AbortSignal) { return sessions.listSessions(this.send, page, signal); }
  /** Delete a session; false if it was already gone. */
  deleteSession(id: number, signal?: AbortSignal) { return sessions.deleteSession(this.send, id, signal); }

  /** Submit a statement (never retried); give a `marker` to be able to find it again. */
  submitStatement(sessionId: number, statement: SubmitStatement, signal?: AbortSignal) { return statements.submitStatement(this.send, sessionId, statement, signal); }
  /** Get a statement. */
  getStatement(sessionId: number, statementId: number, signal?: AbortSignal) { return statements.getStatement(this.send, sessionId, statementId, signal); }
  /** The statements Livy keeps for a session. */
  listStatements(sessionId: number, page?: { from?: number; size?: number }, signal?: AbortSignal) { return statements.listStatements(this.send, sessionId, page, signal); }
  /** Cancel a statement (also delete the session if the work must stop: LIVY-786). */
  cancelStatement(sessionId: number, statementId: number, signal?: AbortSignal) { return statements.cancelStatement(this.send, sessionId, statementId, signal); }

  /** Submit a batch (never retried). */
  createBatch(request: CreateBatchRequest, signal?: AbortSignal) { return batches.createBatch(this.send, request, signal); }
  /** Get a batch. */
  getBatch(idOrName: number | string, signal?: AbortSignal) { return batches.getBatch(this.send, idOrName, signal); }
  /** A batch's state. */
  getBatchState(id: number, signal?: AbortSignal) { return batches.getBatchState(this.send, id, signal); }
  /** One page of batches. */
  listBatches(page?: { from?: number; size?: number }, signal?: AbortSignal) { return batches.listBatches(this.send, page, signal); }
  /** Kill and forget a batch; false if it was already gone. */
  deleteBatch(id: number, signal?: AbortSignal) { return batches.deleteBatch(this.send, id, signal); }

  /** An incremental reader of a session's (or batch's) log. */
  logReader(owner: LogOwner, id: number, options?: LogReaderOptions): LogReader { return new LogReader(this.send, owner, id, options); }
  /** The last lines of a log, without section headers. */
  logTail(owner: LogOwner, id: number, lines?: number, signal?: AbortSignal) { return logTail(this.send, owner, id, lines, signal); }

  /** Wait for `idle`; throws LivySessionDeadError / LivySessionLostError. */
  waitForSessionIdle(id: number, options: WaitSessionOptions = {}) { return wait.waitForSessionIdle(this.send, id, this.withPoll(options)); }
  /** Wait for a statement's output; throws on error output, cancel, dead or lost session. */
  waitForStatement(sessionId: number, statementId: number, options: WaitStatementOptions = {}) {
    // A held poll must end well before the request times out, or the wait would read as an outage.
    const longPollMs = Math.min(options.longPollMs ?? wait.DEFAULT_LONG_POLL_MS, Math.floor(this.timeoutMs / 4));
    return wait.waitForStatement(this.send, sessionId, statementId, { ...this.withPoll(options), longPollMs });
  }
  /** Wait for a batch to succeed; throws LivyBatchFailedError otherwise. */
  waitForBatch(id: number, options: WaitSessionOptions = {}) { return wait.waitForBatch(this.send, id, this.withPoll(options)); }

  /** Submit and wait: the statement with its `ok` output. */
  async runStatement(sessionId: number, statement: SubmitStatement, options: WaitStatementOptions = {}): Promise<Statement> {
    const submitted = await this.submitStatement(sessionId, statement, options.signal);
    return this.waitForStatement(sessionId, submitted.id, options);
  }

  /** Find a session again by stored id + name (ids are reused after a Livy restart). */
  reattachSession(expected: reattach.Expected, signal?: AbortSignal) { return reattach.reattachSession(this.send, expected, signal); }
  /** The newest session with this name. */
  findSessionByName(name: string, signal?: AbortSignal) { return reattach.findSessionByName(this.send, name, signal); }
  /** Find a batch again by stored id + name, by listing (works on every Livy version). */
  reattachBatch(expected: reattach.Expected, signal?: AbortSignal) { return reattach.reattachBatch(this.send, expected, signal); }
  /** The newest batch with this name, by listing. */
  findBatchByName(name: string, signal?: AbortSignal) { return reattach.findBatchByName(this.send, name, signal); }
  /** Create a named session; a lost answer is resolved by name, never by a second POST. */
  createSessionOnce(request: CreateSessionRequest & { name: string }, signal?: AbortSignal) { return reattach.createSessionOnce(this.send, request, signal); }
  /** Submit a named batch; a lost answer is resolved by name, never by a second POST. */
  createBatchOnce(request: CreateBatchRequest & { name: string }, signal?: AbortSignal) { return reattach.createBatchOnce(this.send, request, signal); }
  /** Submit a statement with a marker; a lost answer is resolved by the marker, never by a second POST. */
  submitStatementOnce(sessionId: number, statement: SubmitStatement & { marker: string }, signal?: AbortSignal) { return reattach.submitStatementOnce(this.send, sessionId, statement, signal); }
  /** The newest statement carrying this marker. */
  findStatementByMarker(sessionId: number, marker: string, signal?: AbortSignal) { return reattach.findStatementByMarker(this.send, sessionId, marker, signal); }

  /** Close the connection pool. */
  close(): Promise<void> {
    return this.closeTransport();
  }

  private withPoll<O extends { poll?: Partial<PollOptions> }>(options: O): O {
    return { ...options, poll: { ...this.poll, ...options.poll } };
  }
}
