/** `/batches`: run a local `.sql` file as a batch, plus the routes shared with sessions. */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.ts';
import { createBatchSchema, parseBody } from '../requests.ts';
import { commonRoutes } from './common.ts';

/** Fastify plugin for the `/batches` prefix. */
export const batchRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  // Livy: 201, `Location: /batches/{id}`, body the Batch (state `starting`).
  app.post('/', async (request, reply) => {
    const body = parseBody(createBatchSchema, request.body, 'POST /batches');
    const batch = engine.createBatch(body);
    return reply.code(201).header('Location', `/batches/${batch.id}`).send(batch);
  });

  commonRoutes(app, engine.batches);
};
