/**
 * Option parsers for commander. They throw InvalidArgumentError, so a bad value is a usage
 * error (`error ORCH_USAGE: …`, the command's usage line, exit 2), never a stack trace.
 */
import { InvalidArgumentError } from 'commander';
import { durationMs, type Duration } from '../sdk/index.ts';

/** A non-negative whole number, e.g. `--port 8998`. */
export const integer = (flag: string) => (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got '${v}'`);
  return Number(v);
};

/** A whole number from 1, e.g. `--try 2`. */
export const positive = (flag: string) => (v: string): number => {
  const n = integer(flag)(v);
  if (n < 1) throw new InvalidArgumentError(`${flag} must be 1 or more, got '${v}'`);
  return n;
};

/** One of a fixed set of words, e.g. `--scale small`. */
export const oneOf = (flag: string, allowed: string[]) => (v: string): string => {
  if (!allowed.includes(v)) throw new InvalidArgumentError(`${flag} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v;
};

/** A duration such as `10m` or `2h`, in milliseconds. */
export const duration = (flag: string) => (v: string): number => {
  try {
    return durationMs(v as Duration);
  } catch (err) {
    throw new InvalidArgumentError(`${flag}: ${(err as Error).message}`);
  }
};

/** `--port`: what the OS can listen on, checked here so it is a usage error rather than a failed start. */
export function port(v: string): number {
  const n = integer('--port')(v);
  if (n > 65535) throw new InvalidArgumentError(`--port must be from 0 to 65535 (0 picks a free one), got '${v}'`);
  return n;
}
