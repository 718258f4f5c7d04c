/**
 * A session's log, kept the way Livy keeps it: one bounded ring of lines per output stream,
 * served as a single list split into sections (`stdout: ` … `\nstderr: ` …). Livy builds that
 * list in `SparkApp.log()` from `livy.spark.logs.size` (200) lines per stream, and the log
 * endpoint slices it with `SessionServlet.serializeLogs`. Because new stdout lines are inserted
 * before the stderr section and old lines fall off the front, an index into this list is not a
 * stable cursor — clients must track `total` and the sections (see
 * src/integrations/livy/logs.ts). The engine reproduces this exactly so that the client is
 * tested against the real shape.
 */

/** Livy's default ring size per stream (`livy.spark.logs.size`). */
export const DEFAULT_LINES_PER_STREAM = 200;

/** Header lines Livy puts before each section; clients recognise sections by them. */
export const STDOUT_HEADER = 'stdout: ';
export const STDERR_HEADER = '\nstderr: ';

/** A fixed-capacity ring of lines; the oldest line is dropped when it is full. */
export class LineRing {
  private readonly buffer: string[] = [];
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be ≥ 1, got ${capacity}`);
  }

  /** Append one line, dropping the oldest when full. */
  push(line: string): void {
    this.buffer.push(line);
    if (this.buffer.length > this.capacity) {
      this.buffer.shift();
      this.droppedCount++;
    }
  }

  /** The lines currently held, oldest first. */
  lines(): readonly string[] {
    return this.buffer;
  }

  /** How many lines fell off the front so far (for the engine's own diagnostics). */
  get dropped(): number {
    return this.droppedCount;
  }
}

/** The log of one session or batch: a stdout ring and a stderr ring. */
export class SessionLog {
  private readonly stdout: LineRing;
  private readonly stderr: LineRing;

  constructor(linesPerStream: number = DEFAULT_LINES_PER_STREAM) {
    this.stdout = new LineRing(linesPerStream);
    this.stderr = new LineRing(linesPerStream);
  }

  /** Write an informational line (multi-line text becomes several lines) to stdout. */
  info(text: string): void {
    for (const line of stamp('INFO', text)) this.stdout.push(line);
  }

  /** Write raw lines (e.g. a result table) to stdout, without a timestamp. */
  raw(text: string): void {
    for (const line of text.split('\n')) this.stdout.push(line);
  }

  /** Write an error or warning to stderr, as Spark's log4j console appender would. */
  error(text: string, level: 'ERROR' | 'WARN' = 'ERROR'): void {
    for (const line of stamp(level, text)) this.stderr.push(line);
  }

  /** The list Livy serves: `["stdout: ", …stdout, "\nstderr: ", …stderr]`. */
  lines(): string[] {
    return [STDOUT_HEADER, ...this.stdout.lines(), STDERR_HEADER, ...this.stderr.lines()];
  }

  /** The last `n` lines of the served list (Livy puts the last 10 in the session JSON). */
  tail(n: number): string[] {
    const all = this.lines();
    return all.slice(Math.max(0, all.length - n));
  }
}

function stamp(level: string, text: string): string[] {
  const ts = new Date().toISOString();
  return text.split('\n').map((line, i) => (i === 0 ? `${ts} ${level} ${line}` : `    ${line}`));
}

/** One page of a log, in the response shape of `GET /sessions/{id}/log`. */
export interface LogPage {
  from: number;
  total: number;
  log: string[];
}

/**
 * Slice a log exactly as Livy's `serializeLogs` does: `size` defaults to 100 and a negative
 * size means all lines; a missing or negative `from` means the tail (`max(0, total − size)`);
 * the response carries `total` (not `size`, whatever the docs say).
 */
export function sliceLog(lines: readonly string[], from: number | undefined, size: number | undefined): LogPage {
  let effectiveSize = size ?? 100;
  let effectiveFrom = from ?? -1;
  if (effectiveSize < 0) effectiveSize = lines.length;
  if (effectiveFrom < 0) effectiveFrom = Math.max(0, lines.length - effectiveSize);
  // Livy: `lines.view(from, until)` clamps both ends, so a `from` past the end gives [].
  return { from: effectiveFrom, total: lines.length, log: lines.slice(effectiveFrom, effectiveFrom + effectiveSize) };
}
