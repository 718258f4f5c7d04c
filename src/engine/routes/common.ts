/**
 * The routes Livy's SessionServlet gives both `/sessions` and `/batches`: list, get, state,
 * log and delete. Written once over a registry so the two cannot drift apart.
 */
import type { FastifyInstance } from 'fastify';
import { intParam, sessionNotFound } from '../http-errors.ts';
import { sliceLog } from '../log-ring.ts';
import type { Registry, Tracked } from '../registry.ts';

type IdParams = { id: string };
type PageQuery = { from?: string; size?: string };

/** Find by id or name, or throw Livy's 404; counts as a heartbeat, as in Livy. */
export function lookup<T extends Tracked>(registry: Registry<T>, idOrName: string): T {
  const item = registry.find(idOrName);
  if (!item) throw sessionNotFound(idOrName);
  item.heartbeat();
  return item;
}

/** Register list/get/state/log/delete on a plugin scope prefixed `/sessions` or `/batches`. */
export function commonRoutes<T extends Tracked>(app: FastifyInstance, registry: Registry<T>): void {
  // Livy: `{from, total, sessions}` (the key is `sessions` for batches too).
  app.get<{ Querystring: PageQuery }>('/', async (request) => {
    const from = intParam(request.query.from, 'from') ?? 0;
    const size = intParam(request.query.size, 'size') ?? 100;
    const all = registry.all();
    return { from, total: all.length, sessions: all.slice(Math.max(0, from), Math.max(0, from + size)) };
  });

  app.get<{ Params: IdParams }>('/:id', async (request) => lookup(registry, request.params.id));

  app.get<{ Params: IdParams }>('/:id/state', async (request) => {
    const item = lookup(registry, request.params.id);
    return { id: item.id, state: item.state };
  });

  app.get<{ Params: IdParams; Querystring: PageQuery }>('/:id/log', async (request) => {
    const item = lookup(registry, request.params.id);
    const from = intParam(request.query.from, 'from');
    const size = intParam(request.query.size, 'size');
    return { id: item.id, ...sliceLog(item.log.lines(), from, size) };
  });

  // Livy waits for the stop to finish before answering; later GETs are 404.
  app.delete<{ Params: IdParams }>('/:id', async (request) => {
    const item = lookup(registry, request.params.id);
    await registry.delete(item);
    return { msg: 'deleted' };
  });
}
