/**
 * Every error the API answers with has one shape, `{ error: { code, message, fields? } }`,
 * and a status that says whose fault it is (docs/http-api.md, "Errors").
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { OrchError, ParamsValidationError } from '../errors.ts';
import type { Logger } from '../core/logging.ts';
import { databaseFailure } from '../core/database-failure.ts';

export interface FieldIssue {
  path: string;
  message: string;
}

/** A request the API cannot take as it is; `fields` names the inputs at fault. */
export class BadRequestError extends OrchError {
  constructor(
    message: string,
    readonly fields: FieldIssue[] = [],
  ) {
    super('ORCH_BAD_REQUEST', message);
  }
}

/** No credentials, or wrong ones, on a route that needs them. */
export class AuthRequiredError extends OrchError {
  constructor(message = 'this orch web server needs credentials: send Authorization: Bearer <token> (or basic auth)') {
    super('ORCH_AUTH_REQUIRED', message);
  }
}

/** A mutating call without the CSRF header, or from another site's page. */
export class CsrfError extends OrchError {
  constructor(message: string) {
    super('ORCH_CSRF', message);
  }
}

/** Without auth, only loopback host names are served (a DNS-rebinding page must not reach the API). */
export class HostRefusedError extends OrchError {
  constructor(host: string) {
    super('ORCH_HOST_REFUSED', `Host '${host}' is not a loopback name; without auth this server answers only 127.0.0.1, localhost and [::1]`);
  }
}

/** A path that names nothing the API serves. */
export class RouteNotFoundError extends OrchError {
  constructor(method: string, url: string) {
    super('ORCH_ROUTE_NOT_FOUND', `no such API route: ${method} ${url.split('?')[0]} (see /api/v1/openapi.json)`);
  }
}

const STATUS: Record<string, number> = {
  ORCH_AUTH_REQUIRED: 401,
  ORCH_CSRF: 403,
  ORCH_HOST_REFUSED: 403,
  ORCH_DAG_NOT_FOUND: 404,
  ORCH_RUN_NOT_FOUND: 404,
  ORCH_TASK_NOT_FOUND: 404,
  ORCH_TRY_NOT_FOUND: 404,
  ORCH_ROUTE_NOT_FOUND: 404,
};

/** The HTTP status for an orch error code: 4xx for the caller's faults, 503 for an unusable database. */
export function statusOf(code: string): number {
  if (STATUS[code]) return STATUS[code];
  if (/^ORCH_DB_/.test(code)) return 503;
  return 400;
}

/** The error body for `err`, and its status. */
export function errorReply(err: unknown): { status: number; body: { error: { code: string; message: string; fields?: FieldIssue[] } } } {
  const validation = (err as FastifyError).validation;
  if (validation) {
    const where = (err as FastifyError).validationContext ?? 'body';
    const fields = validation.map((v) => ({ path: fieldPath(where, v), message: v.message ?? 'is not valid' }));
    const message = `bad request: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`;
    return { status: 400, body: { error: { code: 'ORCH_BAD_REQUEST', message, fields } } };
  }
  if (err instanceof ParamsValidationError) return { status: 400, body: { error: { code: err.code, message: err.message, fields: err.issues } } };
  if (err instanceof BadRequestError) return { status: 400, body: { error: { code: err.code, message: err.message, ...(err.fields.length ? { fields: err.fields } : {}) } } };
  if (err instanceof OrchError) return { status: statusOf(err.code), body: { error: { code: err.code, message: err.message } } };
  // Fastify's own 4xx (bad JSON, an unsupported content type, a body too large).
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    return { status, body: { error: { code: 'ORCH_BAD_REQUEST', message: (err as Error).message, fields: [{ path: 'body', message: (err as Error).message }] } } };
  }
  return { status: 500, body: { error: { code: 'ORCH_INTERNAL', message: `internal error: ${(err as Error)?.message ?? String(err)}` } } };
}

/** `/conf/output` in the body → `conf.output`; a missing or unknown property is named itself. */
function fieldPath(where: string, v: { instancePath: string; params: Record<string, unknown> }): string {
  const base = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const named = (v.params.missingProperty ?? v.params.additionalProperty) as string | undefined;
  const path = named ? (base ? `${base}.${named}` : named) : base;
  return path || where;
}

/** Answer every error in the one shape; an SQLite failure becomes the ORCH_DB_* error that names the file. */
export function installErrorHandler(app: FastifyInstance, dbFile: string, logger: Logger | undefined): void {
  app.setErrorHandler((thrown, request, reply) => {
    const err = databaseFailure(thrown, dbFile) ?? thrown;
    const { status, body } = errorReply(err);
    if (status >= 500) logger?.error({ err: thrown, url: request.url }, body.error.message);
    void reply.code(status).header('cache-control', 'no-store').send(body);
  });
}
