/**
 * The web UI: the files Vite built into web/dist. Hashed files under /assets/ never change
 * (cached for a year); index.html is revalidated every time, and answers every GET that is
 * not an API route, so the UI's own paths survive a reload.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { RouteNotFoundError } from './errors.ts';

/** What the browser may load: only this origin's scripts; styles inline too (the UI sets style attributes). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The built UI of this checkout. */
export const DEFAULT_WEB_DIST = new URL('../../web/dist', import.meta.url).pathname;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>orch</title>
<p>The orch web UI has not been built: <code>web/dist</code> is missing. Build it (see README, "Web UI"), then reload.
<p>The API works without it: <a href="/api/v1/health">/api/v1/health</a>, <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
`;

export async function staticRoutes(app: FastifyInstance, webDist: string): Promise<void> {
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (!request.url.startsWith('/api/')) void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    return payload;
  });
  const built = existsSync(join(webDist, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: webDist,
      prefix: '/',
      index: ['index.html'],
      cacheControl: false,
      setHeaders(reply, path) {
        void reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.setNotFoundHandler(async (request, reply) => {
    if (request.url.startsWith('/api/') || (request.method !== 'GET' && request.method !== 'HEAD')) throw new RouteNotFoundError(request.method, request.url);
    // A missing script or style must not come back as HTML.
    if (request.url.startsWith('/assets/')) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    if (!built) return reply.code(request.url === '/' ? 200 : 404).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
}
