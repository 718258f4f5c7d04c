/**
 * A task may throw anything: an Error, a string, undefined, a plain object, an object with
 * a null prototype (which has no toString), an Error from another realm (a worker, a vm
 * context). These turn any thrown value into an Error and a one-line text without ever
 * throwing themselves: a try whose failure cannot be described must still end as failed.
 */
import { inspect, types } from 'node:util';

/** The best one-line description of a thrown value; never throws. */
export function describeThrown(value: unknown): string {
  try {
    if (types.isNativeError(value) || value instanceof Error) {
      const { message, name } = value as Error;
      if (typeof message === 'string' && message) return message;
      return typeof name === 'string' && name ? name : 'Error';
    }
    if (typeof value === 'string') return value || 'threw an empty string';
    if (value === undefined || value === null) return `threw ${String(value)}`;
    if (typeof value !== 'object' && typeof value !== 'function') return `threw ${String(value)}`;
    // Keep an object's fields: they are often the whole story (`{ code: 'E42', detail: … }`).
    const json = safeJson(value);
    if (json !== undefined && json !== '{}') return `threw ${json}`;
    return `threw ${inspect(value, { depth: 2, breakLength: Infinity })}`;
  } catch {
    return 'threw a value that cannot be described';
  }
}

/** An Error for any thrown value: Errors pass through, anything else is wrapped (kept as `thrown`). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  const error = new Error(describeThrown(value));
  Object.defineProperty(error, 'thrown', { value, enumerable: false });
  return error;
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    return undefined;
  }
}

/** An error's stack, or undefined; reading `stack` formats the message, which can throw. */
export function safeStack(err: unknown): string | undefined {
  try {
    const stack = (err as { stack?: unknown } | null)?.stack;
    return typeof stack === 'string' ? stack : undefined;
  } catch {
    return undefined;
  }
}
