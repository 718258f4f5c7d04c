export function ms(a: string | null | undefined): number | null {
  if (!a) return null;
  const t = Date.parse(a);
  return Number.isNaN(t) ? null : t;
}

export function duration(msec: number | null): string {
  if (msec === null || msec < 0) return '';
  if (msec < 1000) return `${Math.round(msec)}ms`;
  const s = msec / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60), rs = Math.floor(s % 60);
  if (m < 60) return `${m}m ${String(rs).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Duration from start to end, or to now while it runs. */
export function span(start: string | null, end: string | null, now = Date.now()): number | null {
  const s = ms(start);
  if (s === null) return null;
  return (ms(end) ?? now) - s;
}

export function dateTime(iso: string | null | undefined): string {
  const t = ms(iso);
  if (t === null) return '—';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function timeOfDay(iso: string | null | undefined): string {
  return dateTime(iso).slice(11);
}

export function relative(iso: string | null | undefined, now = Date.now()): string {
  const t = ms(iso);
  if (t === null) return '';
  const d = t - now;
  const txt = duration(Math.abs(d));
  return d >= 0 ? `in ${txt}` : `${txt} ago`;
}
