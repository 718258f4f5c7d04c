/** `/sessions/{id}/statements`: submit, list, get and cancel statements of a session. */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.ts';
import { bareError, illegalState, intParam, msgError } from '../http-errors.ts';
import { checkKind, executeSchema, parseBody } from '../requests.ts';
import type { InteractiveSession } from '../session.ts';
import { lookup } from './common.ts';

type Params = { id: string; statementId: string };

/**
 * orch's long poll, not Livy's: `GET …/statements/{sid}?wait=<ms>&state=<state>` answers
 * once the statement has left `state`, or after `wait` ms (at most this). Every statement
 * GET carries this header so that orch's client knows it may ask; Livy ignores neither.
 */
export const LONG_POLL_HEADER = 'x-orch-long-poll-ms';
export const LONG_POLL_MAX_MS = 10_000;

/** Livy's `ensureActive`: reading statements of a session that is gone is a 400 `{"msg"}`. */
function active(session: InteractiveSession): InteractiveSession {
  if (['shutting_down', 'error', 'dead', 'killed', 'success'].includes(session.state)) {
    throw msgError(400, "requirement failed: Session isn't active.");
  }
  return session;
}

/** Fastify plugin for the `/sessions/:id/statements` prefix. */
export const statementRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get<{ Params: Params; Querystring: { from?: string; size?: string } }>('/', async (request) => {
    const session = active(lookup(engine.sessions, request.params.id));
    const all = session.list();
    const from = intParam(request.query.from, 'from') ?? 0;
    const size = intParam(request.query.size, 'size') ?? all.length;
    return { total_statements: all.length, statements: all.slice(Math.max(0, from), Math.max(0, from + size)) };
  });

  // Livy: 201, `Location: /sessions/{id}/statements/{sid}`; 500 unless the session is idle/busy.
  app.post<{ Params: Params }>('/', async (request, reply) => {
    const session = lookup(engine.sessions, request.params.id);
    const body = parseBody(executeSchema, request.body, 'POST /sessions/{id}/statements');
    checkKind(body.kind, 'statement');
    const statement = session.submit(body.code);
    return reply.code(201).header('Location', `/sessions/${session.id}/statements/${statement.id}`).send(statement);
  });

  // Livy: an unknown statement id is a 404 whose body is the bare string "Statement not found".
  app.get<{ Params: Params; Querystring: { wait?: string; state?: string } }>('/:statementId', async (request, reply) => {
    const session = active(lookup(engine.sessions, request.params.id));
    const statement = session.statement(intParam(request.params.statementId, 'statementId') ?? -1);
    if (!statement) throw bareError(404, 'Statement not found');
    const waitMs = Math.min(intParam(request.query.wait, 'wait') ?? 0, LONG_POLL_MAX_MS);
    if (waitMs > 0 && request.query.state === statement.state && !statement.finished) await statement.nextChange(waitMs);
    void reply.header(LONG_POLL_HEADER, String(LONG_POLL_MAX_MS));
    return statement;
  });

  app.post<{ Params: Params }>('/:statementId/cancel', async (request) => {
    const session = lookup(engine.sessions, request.params.id);
    if (session.state !== 'idle' && session.state !== 'busy') throw illegalState(session.state);
    session.cancel(intParam(request.params.statementId, 'statementId') ?? -1);
    return { msg: 'canceled' };
  });
};
