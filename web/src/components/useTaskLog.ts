import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import type { Bus } from '../lib/bus.ts';
import type { LogLine, LogPage } from '../lib/types.ts';
import type { LogWatch } from './useDagState.ts';

const PAGE = 2000;

/**
 * One try's centralized log: read page by page, then — only while the try runs — followed
 * through the page's event stream. A final log is read once and never asked for again.
 */
export function useTaskLog(base: string, runId: string, taskId: string, tryNumber: number, running: boolean, bus: Bus, onLogWatch: (w: LogWatch | null) => void) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const state = useRef({ cursor: 0, final: false, lastId: -1 });

  const append = (more: LogLine[]) => {
    const fresh = more.filter((l) => l.id > state.current.lastId);
    if (!fresh.length) return;
    state.current.lastId = fresh[fresh.length - 1]!.id;
    setLines((cur) => cur.concat(fresh));
  };

  useEffect(() => {
    let stop = false;
    state.current = { cursor: 0, final: false, lastId: -1 };
    setLines([]); setLoaded(false); setError(null);
    const url = `${base}/tasks/${enc(taskId)}/tries/${tryNumber}/logs`;
    (async () => {
      try {
        for (;;) {
          const page = await api<LogPage>(`${url}?cursor=${state.current.cursor}&limit=${PAGE}`);
          if (stop) return;
          append(page.lines);
          state.current.cursor = page.cursor;
          state.current.final = page.final;
          if (!page.more) break;
        }
        setLoaded(true);
      } catch (e) { if (!stop) setError(errorText(e)); }
    })();
    const off = bus.on((kind, data) => {
      if (kind === 'log' && data.runId === runId && data.taskId === taskId && data.tryNumber === tryNumber) append(data.lines as LogLine[]);
    });
    return () => { stop = true; off(); };
  }, [base, runId, taskId, tryNumber]);

  // Follow live only once the pages are in (so the stream starts at their cursor) and
  // only while the try has not ended.
  useEffect(() => {
    if (loaded && running && !state.current.final) onLogWatch({ runId, taskId, tryNumber, cursor: state.current.cursor });
    else onLogWatch(null);
  }, [loaded, running, runId, taskId, tryNumber]);
  useEffect(() => () => onLogWatch(null), []);

  // The try just ended: read what the stream may not have carried yet, once.
  useEffect(() => {
    if (!loaded || running || state.current.final) return;
    let stop = false;
    const url = `${base}/tasks/${enc(taskId)}/tries/${tryNumber}/logs`;
    (async () => {
      for (;;) {
        const from = Math.max(state.current.cursor, state.current.lastId);
        const page = await api<LogPage>(`${url}?cursor=${from}&limit=${PAGE}`).catch(() => null);
        if (stop || !page) return;
        append(page.lines);
        state.current.cursor = page.cursor;
        state.current.final = page.final;
        if (!page.more) return;
      }
    })();
    return () => { stop = true; };
  }, [loaded, running]);

  return { lines, error, loaded };
}
