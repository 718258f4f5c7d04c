/**
 * The HTTP API (docs/http-api.md) and the web UI, as one Fastify instance over the store
 * and DAG bag a command opened. Serves nothing by itself: the command listens.
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { SCHEDULER_BEAT_STALE_MS } from '../core/presence.ts';
import { orchVersion } from '../util/version.ts';
import { installAuth } from './auth.ts';
import { ChangeFeed } from './change-feed.ts';
import { serverContext, type ServerOptions } from './context.ts';
import { watchDags } from './dag-watch.ts';
import { installErrorHandler } from './errors.ts';
import { dagRoutes } from './routes/dags.ts';
import { eventRoutes } from './routes/events.ts';
import { logRoutes } from './routes/logs.ts';
import { runRoutes } from './routes/runs.ts';
import { taskRoutes } from './routes/tasks.ts';
import * as S from './schemas.ts';
import { DEFAULT_WEB_DIST, staticRoutes } from './static.ts';

export type { ServerOptions } from './context.ts';

/** How often the server itself trims the change log (also done by schedulers). */
const PRUNE_MS = 60_000;

/** Build the server: routes, auth, the change feed and the DAG watcher (stopped by `close()`). */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { store, logger } = options;
  const app = Fastify({
    logger: false,
    // Unknown body fields are errors that name them, not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: true } },
    // Open event streams must not keep close() waiting.
    forceCloseConnections: true,
  });
  const feed = new ChangeFeed(store.db.name, options.feedPollMs ?? 25, logger);
  const ctx = serverContext(options, feed);
  const stopWatch = watchDags(options.dagBag, {
    refreshMs: options.dagRefreshMs ?? 0,
    watchMs: options.dagWatchMs ?? 1_000,
    onChange: () => feed.broadcastDags(),
    logger,
  });
  const pruner = setInterval(() => {
    try {
      store.changes.prune();
    } catch {
      // A read-only or busy database: a scheduler prunes, or the next round does.
    }
  }, PRUNE_MS);
  pruner.unref();
  app.addHook('preClose', async () => {
    stopWatch();
    clearInterval(pruner);
    feed.close();
  });

  installErrorHandler(app, store.db.name, logger);
  // A POST with no body at all means "no options" (`{}`), as `curl -X POST` sends it.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET' && request.method !== 'HEAD') request.body = {};
  });
  installAuth(app, options.auth);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'orch', version: orchVersion(), description: "orch's HTTP API; see docs/http-api.md" },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } } },
    },
  });

  app.get('/api/v1/health', { schema: { summary: 'is the server up, does it need auth, does a scheduler run triggered runs', tags: ['health'], response: S.answers(S.health) } }, async () => {
    const beat = store.changes.lastBeat();
    return {
      status: 'ok',
      version: orchVersion(),
      authRequired: options.auth !== undefined,
      schedulerAlive: beat !== null && Date.now() - Date.parse(beat) < SCHEDULER_BEAT_STALE_MS,
      database: store.db.name,
    };
  });
  dagRoutes(app, ctx);
  runRoutes(app, ctx);
  taskRoutes(app, ctx);
  logRoutes(app, ctx);
  eventRoutes(app, ctx);
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await staticRoutes(app, options.webDist ?? DEFAULT_WEB_DIST);
  return app;
}
