/** `/sessions`: create a `sql` session, plus the routes shared with batches. */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.ts';
import { checkKind, createSessionSchema, parseBody } from '../requests.ts';
import { commonRoutes } from './common.ts';

/** Fastify plugin for the `/sessions` prefix. */
export const sessionRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  // Livy: 201, `Location: /sessions/{id}`, body the Session (state `starting`).
  app.post('/', async (request, reply) => {
    const body = parseBody(createSessionSchema, request.body, 'POST /sessions');
    checkKind(body.kind, 'session');
    const session = engine.createSession(body);
    return reply.code(201).header('Location', `/sessions/${session.id}`).send(session);
  });

  commonRoutes(app, engine.sessions);
};
