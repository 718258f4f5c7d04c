/**
 * Error replies in the shapes Livy sends, so a client meets every shape against the engine:
 * `{"msg": "..."}` (ResponseMessage), a bare JSON string (Jackson errors, "Statement not
 * found", 500s with `e.toString()`), and Jetty's HTML error page (the CSRF filter).
 */

/** Thrown by route code; the server's error handler turns it into the reply. */
export class LivyReplyError extends Error {
  constructor(
    readonly status: number,
    readonly body: { msg: string } | string,
  ) {
    super(typeof body === 'string' ? body : body.msg);
  }
}

/** A reply with body `{"msg": text}`. */
export function msgError(status: number, text: string): LivyReplyError {
  return new LivyReplyError(status, { msg: text });
}

/** A reply whose body is the bare JSON string `"text"`. */
export function bareError(status: number, text: string): LivyReplyError {
  return new LivyReplyError(status, text);
}

/** Livy: unknown session id or name → 404 `{"msg":"Session '<id>' not found."}` (batches too). */
export function sessionNotFound(idOrName: string): LivyReplyError {
  return msgError(404, `Session '${idOrName}' not found.`);
}

/** Livy: a statement posted to a session that is not running → 500, `e.toString()` as a string. */
export function illegalState(state: string): LivyReplyError {
  return bareError(500, `java.lang.IllegalStateException: Session is in state ${state}`);
}

/** Jetty's error page, as Livy's CsrfFilter (`response.sendError(400, …)`) produces it. */
export function jettyErrorPage(status: number, path: string, reason: string): string {
  return [
    '<html>',
    '<head>',
    '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
    `<title>Error ${status} ${reason}</title>`,
    '</head>',
    `<body><h2>HTTP ERROR ${status}</h2>`,
    `<p>Problem accessing ${escapeHtml(path)}. Reason:`,
    `<pre>    ${reason}</pre></p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** Parse an integer query parameter; Livy's `.toInt` failing is a 400 `{"msg"}`. */
export function intParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw msgError(400, `${name}: For input string: "${String(value)}" (expected an integer)`);
}
