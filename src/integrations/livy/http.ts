/**
 * Judging responses: a call expects certain statuses, and anything else becomes a
 * LivyHttpError whose message is read from whichever body shape Livy used — `{"msg": …}`,
 * a bare JSON string (`"Statement not found"`, 500s), or an HTML page (Jetty's CSRF
 * rejection, a proxy's error page).
 */
import { LivyHttpError } from './errors.ts';
import type { LivyRequest, LivyResponse, Send } from './transport.ts';

/** Send and return the JSON body; throw LivyHttpError unless the status is one of `expected`. */
export async function call<T>(send: Send, request: LivyRequest, expected: readonly number[] = [200]): Promise<T> {
  const response = await send(request);
  if (!expected.includes(response.status)) throw httpError(request, response);
  return response.json as T;
}

/** The LivyHttpError for a response. */
export function httpError(request: LivyRequest, response: LivyResponse): LivyHttpError {
  return new LivyHttpError(request.method, response.url, response.status, errorMessage(response));
}

/** The human message in an error body, whatever its shape. */
export function errorMessage(response: Pick<LivyResponse, 'json' | 'text' | 'status'>): string {
  const { json, text } = response;
  if (typeof json === 'string') return json;
  if (json && typeof json === 'object' && typeof (json as { msg?: unknown }).msg === 'string') return (json as { msg: string }).msg;
  if (json !== undefined) return JSON.stringify(json).slice(0, 500);
  if (/<html|<body|<title/i.test(text)) return htmlMessage(text);
  return text.trim().slice(0, 500) || `HTTP ${response.status} with an empty body`;
}

/** Jetty puts the reason in `<pre>` and `<title>`; other pages at least have a title. */
function htmlMessage(html: string): string {
  const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(html)?.[1];
  if (pre?.trim()) return decode(pre.trim());
  const title = /<title>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  if (title?.trim()) return decode(title.trim().replace(/^Error \d+\s*/, ''));
  return decode(html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()).slice(0, 500);
}

function decode(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** Encode an id or name for a path segment. */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
