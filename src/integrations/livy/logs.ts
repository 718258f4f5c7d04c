/**
 * Reading a session's or batch's log incrementally, each line once.
 *
 * Livy serves one list, `["stdout: ", …stdout, "\nstderr: ", …stderr, "\nYARN Diagnostics: ", …]`,
 * built from rings of ~200 lines per stream, and `total` is that list's current length. So an
 * index is not a stable cursor: new stdout lines are inserted before the stderr section, and
 * once a ring is full old lines fall off the front while `total` stays put. Polling without
 * `from` returns the same tail again and again (the classic loop's bug).
 *
 * The reader remembers the layout it last saw (sections and their line counts) and the last
 * few lines of each section. Each read asks only from the end of the first section (minus a
 * few overlap lines) to the end; the overlap proves nothing shifted. When it did shift (a
 * full ring), one more read of the whole log re-aligns on the remembered lines, and if they
 * are gone, the reader says lines were dropped in between.
 */
import { call, seg } from './http.ts';
import type { Send } from './transport.ts';
import type { LogResponse } from './types.ts';

/** Section headers exactly as Livy writes them (SparkApp.log / LineBufferedProcess). */
const SECTION_HEADERS: ReadonlyMap<string, string> = new Map([
  ['stdout: ', 'stdout'],
  ['\nstderr: ', 'stderr'],
  ['\nYARN Diagnostics: ', 'YARN Diagnostics'],
]);

/** A log line and the section (stream) it came from. */
export interface LogLine {
  stream: string;
  text: string;
}

export interface LogRead {
  /** Lines not returned by an earlier read, in log order. */
  lines: LogLine[];
  /** One note per section whose ring dropped lines since the last read; empty when none. */
  dropped: string[];
  /** The `total` the server reported. */
  total: number;
}

export type LogOwner = 'sessions' | 'batches';

/** A reader's position: per section, how many lines it had seen and the last few of them. */
export type LogPosition = Record<string, { count: number; tail: string[] }>;

interface Section {
  name: string;
  /** Whether the section starts with a header line (a headerless log is one section). */
  header: boolean;
  lines: string[];
}

interface SeenSection {
  count: number;
  /** The last few lines seen, to recognise the position after a shift. */
  tail: string[];
}

export interface LogReaderOptions {
  /** Lines re-read at the end of the first section to prove nothing shifted. */
  overlap?: number;
  /** Lines asked for per request. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** Incremental reader of `GET /{sessions|batches}/{id}/log`. */
export class LogReader {
  private readonly overlap: number;
  private readonly pageSize: number;
  /** Section layout of the last read, in order. */
  private layout: { name: string; header: boolean; count: number }[] = [];
  private readonly seen = new Map<string, SeenSection>();

  constructor(
    private readonly send: Send,
    private readonly owner: LogOwner,
    private readonly id: number,
    options: LogReaderOptions = {},
  ) {
    this.overlap = Math.max(1, options.overlap ?? 5);
    this.pageSize = options.pageSize ?? 1000;
  }

  /** What this reader has seen, per section: store it to continue after a restart. */
  position(): LogPosition {
    return Object.fromEntries([...this.seen].map(([name, seen]) => [name, { count: seen.count, tail: [...seen.tail] }]));
  }

  /** Continue from a position saved by `position()` (e.g. by a process that died), so no line is returned twice. */
  resumeFrom(position: LogPosition): this {
    for (const [name, seen] of Object.entries(position)) this.seen.set(name, { count: seen.count, tail: [...seen.tail] });
    return this;
  }

  /** Fetch what is new since the last read. */
  async read(signal?: AbortSignal): Promise<LogRead> {
    const first = this.layout[0];
    const headerLines = first?.header ? 1 : 0;
    const offset = first ? Math.max(0, first.count - this.overlap) : 0;
    const start = first ? headerLines + offset : 0;
    let window = await this.fetchFrom(start, signal);
    if (window.total < start) {
      // The log shrank below what we saw: a different session now has this id. Start over.
      this.layout = [];
      this.seen.clear();
      window = await this.fetchFrom(0, signal);
      return this.absorb(parseSections(window.lines, undefined), 0, window.total, true)!;
    }
    const sections = parseSections(window.lines, first && start > 0 ? first : undefined);
    const aligned = this.absorb(sections, offset, window.total, false);
    if (aligned) return aligned;
    // The overlap did not match: a full ring shifted. Re-read everything and re-align.
    const full = await this.fetchFrom(0, signal);
    return this.absorb(parseSections(full.lines, undefined), 0, full.total, true)!;
  }

  /**
   * Compare sections read (the first starting at section offset `firstOffset`) with what was
   * seen; return undefined when re-alignment needs the full log.
   */
  private absorb(sections: Section[], firstOffset: number, total: number, full: boolean): LogRead | undefined {
    const result: LogRead = { lines: [], dropped: [], total };
    const updates: [string, SeenSection][] = [];
    const layout: typeof this.layout = [];
    sections.forEach((section, index) => {
      const offset = index === 0 ? firstOffset : 0;
      const count = offset + section.lines.length;
      layout.push({ name: section.name, header: section.header, count });
      const before = this.seen.get(section.name);
      const fresh = before ? newLines(section.lines, offset, before) : section.lines;
      if (fresh === undefined && !full) return;
      if (fresh === undefined) {
        // Our last lines are no longer in the ring: everything there is new, and some is lost.
        result.dropped.push(
          `some ${section.name} lines were dropped: the server keeps only its last ${count} lines and more were written since the last read`,
        );
      }
      for (const text of fresh ?? section.lines) result.lines.push({ stream: section.name, text });
      updates.push([section.name, { count, tail: section.lines.slice(-this.overlap) }]);
    });
    if (updates.length !== sections.length) return undefined;
    for (const [name, seen] of updates) this.seen.set(name, seen);
    this.layout = layout;
    return result;
  }

  /** Read from `start` to the end, page by page. */
  private async fetchFrom(start: number, signal?: AbortSignal): Promise<{ lines: string[]; total: number }> {
    const lines: string[] = [];
    let total = 0;
    for (let page = 0; page < 100; page++) {
      const from = start + lines.length;
      const response = await call<LogResponse>(this.send, {
        method: 'GET',
        path: `/${this.owner}/${seg(this.id)}/log`,
        query: { from, size: this.pageSize },
        signal,
      });
      total = response.total;
      lines.push(...response.log);
      if (response.log.length < this.pageSize || from + response.log.length >= total) break;
    }
    return { lines, total };
  }
}

/**
 * Lines of a section not seen before, given the section's lines from `offset` on; undefined
 * when the remembered tail is not where it should be (the ring shifted or was replaced).
 */
function newLines(lines: string[], offset: number, before: SeenSection): string[] | undefined {
  const { count, tail } = before;
  if (tail.length === 0) return lines.slice(Math.max(0, count - offset));
  // Where the tail should end if nothing shifted: at `count`. Otherwise search backwards.
  for (let end = count - offset; end >= tail.length; end--) {
    if (end > lines.length) continue;
    if (tail.every((line, i) => lines[end - tail.length + i] === line)) return lines.slice(end);
    if (offset > 0) return undefined; // a partial window cannot show a shifted tail
  }
  return undefined;
}

/** Split a window of the log into sections; `continuing` is the section the window starts in. */
function parseSections(lines: readonly string[], continuing: { name: string; header: boolean } | undefined): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined = continuing ? { name: continuing.name, header: continuing.header, lines: [] } : undefined;
  if (current) sections.push(current);
  for (const line of lines) {
    const name = SECTION_HEADERS.get(line);
    if (name !== undefined) {
      current = { name, header: true, lines: [] };
      sections.push(current);
    } else {
      if (!current) {
        current = { name: 'log', header: false, lines: [] };
        sections.push(current);
      }
      current.lines.push(line);
    }
  }
  return sections;
}

/** The last `lines` lines of a log, without section headers (for error messages). */
export async function logTail(send: Send, owner: LogOwner, id: number, lines = 20, signal?: AbortSignal): Promise<string[]> {
  // Livy: no `from` means the tail, `from = max(0, total − size)`.
  const response = await call<LogResponse>(send, { method: 'GET', path: `/${owner}/${seg(id)}/log`, query: { size: lines }, signal });
  return response.log.filter((line) => !SECTION_HEADERS.has(line) && line.trim() !== '');
}
