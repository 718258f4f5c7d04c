/**
 * Who may use the engine. It runs any SQL it is sent with the files of the user running it,
 * so beyond loopback it refuses to start without auth: a bearer token, or HTTP basic. Secrets
 * come from files or the environment (never argv, which `ps` shows), never reach a log, and
 * are compared in constant time. `GET /version` stays open, for health checks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface EngineAuth {
  token?: string;
  username?: string;
  password?: string;
}

/** Where the secrets may come from: flags name files; the environment may hold them. */
export interface AuthSources {
  tokenFile?: string;
  authUser?: string;
  authPasswordFile?: string;
}

/** A bad auth setting (a missing or empty secret file): the engine does not start. */
export class EngineAuthError extends Error {
  readonly code: string;
  constructor(code: 'ORCH_ENGINE_AUTH_REQUIRED' | 'ORCH_ENGINE_AUTH_INVALID', message: string) {
    super(message);
    this.code = code;
  }
}

const MIN_TOKEN = 16;
const MIN_PASSWORD = 8;

/** The auth the flags and environment configure; undefined for none. */
export function resolveEngineAuth(sources: AuthSources, env: NodeJS.ProcessEnv = process.env): EngineAuth | undefined {
  const token = sources.tokenFile ? readSecret(sources.tokenFile, '--token-file') : env.ORCH_ENGINE_TOKEN;
  const username = sources.authUser ?? env.ORCH_ENGINE_USER;
  const password = sources.authPasswordFile ? readSecret(sources.authPasswordFile, '--auth-password-file') : env.ORCH_ENGINE_PASSWORD;
  if (token !== undefined && token.length < MIN_TOKEN) throw new EngineAuthError('ORCH_ENGINE_AUTH_INVALID', `the engine's token must be at least ${MIN_TOKEN} characters (e.g. \`openssl rand -hex 32\`)`);
  if ((username === undefined) !== (password === undefined)) {
    throw new EngineAuthError('ORCH_ENGINE_AUTH_INVALID', 'basic auth needs both a user (--auth-user or ORCH_ENGINE_USER) and a password (--auth-password-file or ORCH_ENGINE_PASSWORD)');
  }
  if (password !== undefined && password.length < MIN_PASSWORD) throw new EngineAuthError('ORCH_ENGINE_AUTH_INVALID', `the engine's password must be at least ${MIN_PASSWORD} characters`);
  if (token === undefined && username === undefined) return undefined;
  return { token, username, password };
}

function readSecret(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EngineAuthError('ORCH_ENGINE_AUTH_INVALID', `${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw new EngineAuthError('ORCH_ENGINE_AUTH_INVALID', `${flag} ${file} is empty`);
  return secret;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuse to serve beyond loopback without auth. */
export function requireAuthBeyondLoopback(host: string, auth: EngineAuth | undefined): void {
  if (auth || isLoopbackHost(host)) return;
  throw new EngineAuthError(
    'ORCH_ENGINE_AUTH_REQUIRED',
    `--host ${host} is reachable from other machines, and the engine runs any SQL it is sent with your files; ` +
      'give it auth: --token-file <file> (or ORCH_ENGINE_TOKEN), or --auth-user <name> with --auth-password-file <file> (or ORCH_ENGINE_USER and ORCH_ENGINE_PASSWORD); or listen on 127.0.0.1',
  );
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** An onRequest hook: every route but `GET /version` needs the token or the basic credentials. */
export function authGuard(auth: EngineAuth): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    if ((request.method === 'GET' || request.method === 'HEAD') && request.url.split('?')[0] === '/version') return;
    const header = request.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (auth.token && scheme?.toLowerCase() === 'bearer' && same(value, auth.token)) return;
    if (auth.username && scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Both compared, whatever the first gives: the time taken says nothing about which was wrong.
      const userOk = same(decoded.slice(0, Math.max(colon, 0)), auth.username);
      const passwordOk = same(decoded.slice(colon + 1), auth.password ?? '');
      if (colon >= 0 && userOk && passwordOk) return;
    }
    const challenge = [auth.token ? 'Bearer realm="orch engine"' : '', auth.username ? 'Basic realm="orch engine"' : ''].filter(Boolean).join(', ');
    await reply
      .code(401)
      .header('www-authenticate', challenge)
      .send({ msg: `authentication required: send ${auth.token ? 'Authorization: Bearer <token>' : ''}${auth.token && auth.username ? ' or ' : ''}${auth.username ? 'HTTP basic credentials' : ''}` });
  };
}
