/**
 * orch's process log (pino): one readable line per event on a terminal, JSON lines
 * otherwise (for files and log shippers); `ORCH_LOG_FORMAT=pretty|json` forces either.
 * Task lines go to SQLite per try (see task-context.ts) and are echoed here at debug level.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

// Loaded only for a terminal: most commands never print a log line, and it is slow to load.
const loadPretty = (): typeof import('pino-pretty') => createRequire(import.meta.url)('pino-pretty');

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; default: when the destination is a terminal (see logFormat). */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

/**
 * 'pretty' or 'json' for a log written to `destination`: ORCH_LOG_FORMAT when set, else
 * pretty exactly when a person is watching (the stream is a terminal).
 */
export function logFormat(destination: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): 'pretty' | 'json' {
  const forced = env.ORCH_LOG_FORMAT?.toLowerCase();
  if (forced === 'pretty' || forced === 'json') return forced;
  if (env.ORCH_LOG_JSON) return 'json';
  return (destination as { isTTY?: boolean }).isTTY === true ? 'pretty' : 'json';
}

/** A logger writing to stderr (stdout is kept for command output). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.ORCH_LOG_LEVEL ?? 'info';
  const destination = options.destination ?? process.stderr;
  const usePretty = options.pretty ?? logFormat(destination) === 'pretty';
  if (!usePretty) return pino({ level, base: { pid: process.pid } }, destination as pino.DestinationStream);
  return pino(
    { level },
    loadPretty()({
      destination: destination as NodeJS.WritableStream & { fd?: number },
      sync: true,
      colorize: (destination as { isTTY?: boolean }).isTTY === true,
      ignore: 'pid,hostname',
      translateTime: 'HH:MM:ss.l',
      // One line per event (its fields as compact JSON after the message); only error stacks span lines.
      singleLine: true,
    }),
  );
}

/** A logger that drops everything, for tests and `--quiet`. */
export const silentLogger: Logger = pino({ level: 'silent' });
