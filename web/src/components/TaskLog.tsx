import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getToken } from '../lib/api.ts';
import { timeOfDay } from '../lib/format.ts';
import type { LogLine } from '../lib/types.ts';

const MAX_SHOWN = 5000;

/**
 * The log, filtered in the browser. Every message is a text node (JSX children), so a
 * line holding markup shows as the characters it is. It sticks to the bottom only while
 * the reader is there.
 */
export function TaskLog({ lines, downloadUrl, loading, error }: { lines: LogLine[]; downloadUrl: string; loading: boolean; error: string | null }) {
  const [text, setText] = useState('');
  const [level, setLevel] = useState('');
  const [source, setSource] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  const sources = useMemo(() => [...new Set(lines.map((l) => l.source))].sort(), [lines]);
  const levels = useMemo(() => [...new Set(lines.map((l) => l.level))], [lines]);
  const shown = useMemo(() => {
    const q = text.toLowerCase();
    const out = lines.filter((l) => (!level || l.level === level) && (!source || l.source === source) && (!q || l.message.toLowerCase().includes(q)));
    return out.length > MAX_SHOWN ? out.slice(-MAX_SHOWN) : out;
  }, [lines, text, level, source]);
  const matched = lines.length;

  useLayoutEffect(() => {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [shown]);

  // A link cannot carry the bearer token: with auth on, fetch the file and hand it over.
  const download = async (e: MouseEvent) => {
    const token = getToken();
    if (!token) return;
    e.preventDefault();
    const res = await fetch(downloadUrl, { headers: { Authorization: `Bearer ${token}` } });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = downloadUrl.split('/').slice(-4, -2).join('-') + '.log';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  return (
    <div class="log">
      <div class="log-tools">
        <input type="search" placeholder="Filter log…" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="filter log" />
        <select value={level} onChange={(e) => setLevel(e.currentTarget.value)} aria-label="level">
          <option value="">all levels</option>{levels.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
        <select value={source} onChange={(e) => setSource(e.currentTarget.value)} aria-label="source">
          <option value="">all sources</option>{sources.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <a class="btn small" href={downloadUrl} download onClick={download} title="The whole log, whatever the filter">⤓ Download</a>
      </div>
      <div class="log-lines mono" ref={box} data-testid="log"
        onScroll={(e) => { const el = e.currentTarget; atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24; }}>
        {shown.map((l) => (
          <div key={l.id} class={`log-line lv-${l.level} src-${l.source}`}>
            <span class="log-ts">{timeOfDay(l.ts)}</span>
            <span class="log-src">{l.source}</span>
            <span class="log-msg">{l.message}</span>
          </div>
        ))}
        {!loading && lines.length === 0 && !error && <div class="muted">No log lines.</div>}
        {loading && <div class="muted">Loading log…</div>}
        {error && <div class="err">{error}</div>}
      </div>
      <div class="muted small log-count">{shown.length === matched ? `${matched} lines` : `${shown.length} of ${matched} lines`}</div>
    </div>
  );
}
