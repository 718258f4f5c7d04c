/**
 * Who may call the API: credentials (bearer token or basic auth) when configured, a CSRF
 * header and a same-origin check on every mutating call, and — without auth — only
 * loopback Host names, so a page that rebinds its own DNS name to 127.0.0.1 gets nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebAuth } from '../core/config.ts';
import { AuthRequiredError, CsrfError, HostRefusedError } from './errors.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for 127.0.0.0/8, ::1 and localhost (with or without a port). */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return LOOPBACK_NAMES.has(name.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Compare secrets in constant time (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/** Whether the request carries the configured credentials. */
function authorized(request: FastifyRequest, auth: WebAuth): boolean {
  const header = request.headers.authorization ?? '';
  if ('token' in auth) {
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    // EventSource cannot set headers: the event stream also takes ?token=.
    const query = request.url.split('?')[0] === '/api/v1/events' ? (request.query as { token?: string }).token : undefined;
    const given = bearer ?? query;
    return given !== undefined && sameSecret(given, auth.token);
  }
  const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
  if (!basic) return false;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both compared, always: which one was wrong must not show in the timing.
  const user = sameSecret(decoded.slice(0, colon), auth.username);
  const pass = sameSecret(decoded.slice(colon + 1), auth.password);
  return user && pass;
}

/** The CSRF rule: a custom header no cross-site form can send, and no foreign Origin. */
function checkCsrf(request: FastifyRequest): void {
  if (request.headers['x-orch-csrf'] !== '1') {
    throw new CsrfError(`${request.method} needs the header X-Orch-Csrf: 1 (it shows the call comes from a script of this origin, not a cross-site form)`);
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host.toLowerCase() !== (request.headers.host ?? '').toLowerCase()) {
    throw new CsrfError(`Origin ${origin} is not this server (${request.headers.host ?? 'no Host'}); calls that change state are taken only from its own pages`);
  }
}

/** Install the checks as the first hook of every request. */
export function installAuth(app: FastifyInstance, auth: WebAuth | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!auth) {
      const host = request.headers.host ?? '';
      if (!isLoopbackHost(host)) throw new HostRefusedError(host);
    }
    const path = request.url.split('?')[0]!;
    if (auth && path.startsWith('/api/') && path !== '/api/v1/health' && !authorized(request, auth)) {
      if (!('token' in auth)) void reply.header('www-authenticate', 'Basic realm="orch", charset="UTF-8"');
      throw new AuthRequiredError(
        'token' in auth
          ? 'this orch web server needs a token: send Authorization: Bearer <token> (?token= on /api/v1/events)'
          : 'this orch web server needs basic auth (the username and password it was started with)',
      );
    }
    if (MUTATING.has(request.method)) checkCsrf(request);
  });
}
