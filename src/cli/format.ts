/** Small helpers for printing: aligned tables, durations, timestamps. */

/** Columns padded to their widest cell; the header row is upper-cased. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

/** 950 → "0.9s", 75_000 → "1m15s". */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Duration between two ISO timestamps, or '' when not started. */
export function span(start: string | null, end: string | null, now = Date.now()): string {
  if (!start) return '';
  return duration((end ? Date.parse(end) : now) - Date.parse(start));
}

export function shortTime(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '';
}
