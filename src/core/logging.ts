/**
 * orch's process log (pino): readable lines on a terminal, JSON otherwise. Task lines go
 * to SQLite per try (see task-context.ts) and are echoed here at debug level.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; default: when stderr is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

/** A logger writing to stderr (stdout is kept for command output). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.ORCH_LOG_LEVEL ?? 'info';
  const destination = options.destination ?? process.stderr;
  const usePretty = options.pretty ?? (process.stderr.isTTY === true && !process.env.ORCH_LOG_JSON);
  if (!usePretty) return pino({ level, base: { pid: process.pid } }, destination as pino.DestinationStream);
  return pino(
    { level },
    pretty({ destination: destination as NodeJS.WritableStream & { fd?: number }, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }),
  );
}

/** A logger that drops everything, for tests and `--quiet`. */
export const silentLogger: Logger = pino({ level: 'silent' });
