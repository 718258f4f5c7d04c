/**
 * The engine's HTTP face: a Fastify app speaking Livy's REST contract. It parses every body as
 * JSON whatever the Content-Type (as Livy does), optionally enforces Livy's CSRF rule, and
 * turns every failure into one of Livy's error shapes — bad input never crashes the process.
 */
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authGuard, type EngineAuth } from './auth.ts';
import type { Engine } from './engine.ts';
import { bareError, jettyErrorPage, LivyReplyError } from './http-errors.ts';
import { batchRoutes } from './routes/batches.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { statementRoutes } from './routes/statements.ts';
import { versionRoutes } from './routes/version.ts';

/** Largest request body accepted; bigger code gets a 413 that points to batches. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  /** Who may call it; every route but GET /version answers 401 to anyone else. */
  auth?: EngineAuth;
  /** Livy's `livy.server.csrf-protection.enabled`: POST/DELETE need `X-Requested-By`. */
  csrf: boolean;
  /** Told of every request's start and end (the idle timeout counts requests as activity). */
  activity?: { requestStarted(): void; requestEnded(): void };
}

/** Build the Fastify app over an engine (not yet listening). */
export function createEngineServer(engine: Engine, options: ServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, forceCloseConnections: true });

  // Livy: request bodies are parsed as JSON whatever the Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      // Jackson's JsonParseException → 400 with the parser's message as a bare string.
      done(bareError(400, `Malformed JSON body: ${(error as Error).message}`), undefined);
    }
  });

  const { activity } = options;
  if (activity) {
    app.addHook('onRequest', async (_request, reply) => {
      activity.requestStarted();
      // 'close' comes once per response: after it is sent, or when the client goes away.
      reply.raw.once('close', () => activity.requestEnded());
    });
  }
  if (options.auth) app.addHook('onRequest', authGuard(options.auth));
  if (options.csrf) app.addHook('onRequest', csrfGuard);
  app.setErrorHandler(replyWithLivyError);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ msg: `No route for ${request.method} ${request.url}` });
  });

  void app.register(versionRoutes, { engine });
  void app.register(sessionRoutes, { engine, prefix: '/sessions' });
  void app.register(statementRoutes, { engine, prefix: '/sessions/:id/statements' });
  void app.register(batchRoutes, { engine, prefix: '/batches' });
  return app;
}

/** Livy's CsrfFilter: any method but GET/OPTIONS/HEAD without X-Requested-By → Jetty's 400 page. */
async function csrfGuard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return;
  if (request.headers['x-requested-by'] !== undefined) return;
  const page = jettyErrorPage(400, request.url.split('?')[0] ?? request.url, 'Missing Required Header for CSRF protection.');
  await reply.code(400).type('text/html;charset=utf-8').send(page);
}

function replyWithLivyError(error: FastifyError | LivyReplyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof LivyReplyError) {
    void reply.code(error.status).type('application/json').send(JSON.stringify(error.body));
    return;
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    void reply.code(413).send({
      msg: `request body is larger than ${MAX_BODY_BYTES} bytes; put large SQL in a .sql file and run it as a batch (POST /batches)`,
    });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    void reply.code(status).send({ msg: error.message });
    return;
  }
  // Livy: anything else → 500 with `e.toString()` as a bare string.
  void reply.code(500).type('application/json').send(JSON.stringify(`${error.name}: ${error.message}`));
}
