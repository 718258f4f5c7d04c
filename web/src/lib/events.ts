import { useEffect, useRef, useState } from 'preact/hooks';
import { getToken } from './api.ts';

export type EventHandlers = Partial<Record<'dag' | 'run' | 'task' | 'try' | 'handle' | 'log' | 'dags', (data: any) => void>> & {
  /** The stream (re)opened: after a new filter the caller may need to catch up once. */
  open?: () => void;
};

const KINDS = ['dag', 'run', 'task', 'try', 'handle', 'log', 'dags'] as const;

/**
 * One EventSource for the page. It is reopened only when the filter changes; on a dropped
 * connection the browser reconnects by itself and sends Last-Event-ID, so the server
 * replays what was missed.
 */
export function useEvents(params: Record<string, string | number | null | undefined> | null, handlers: EventHandlers): boolean {
  const ref = useRef(handlers);
  ref.current = handlers;
  const [connected, setConnected] = useState(false);
  const q = new URLSearchParams();
  if (params) for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const token = getToken();
  if (token) q.set('token', token);
  const key = params ? q.toString() : null;

  useEffect(() => {
    if (key === null) return;
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      es = new EventSource(`/api/v1/events${key ? `?${key}` : ''}`);
      let opened = false;
      es.onopen = () => {
        setConnected(true);
        // The first open of this EventSource: Last-Event-ID replays cover its own
        // reconnects, not a fresh stream, so the caller catches up once.
        if (!opened) { opened = true; ref.current.open?.(); }
      };
      es.onerror = () => {
        setConnected(false);
        // The browser gives up for good on an HTTP error (e.g. a server restart that
        // answered 503): start a new stream a little later.
        if (es?.readyState === EventSource.CLOSED) { es.close(); retry = setTimeout(connect, 3000); }
      };
      for (const kind of KINDS) {
        es.addEventListener(kind, (ev) => {
          let data: unknown;
          try { data = JSON.parse((ev as MessageEvent).data); } catch { return; }
          ref.current[kind]?.(data);
        });
      }
    };
    connect();
    return () => { clearTimeout(retry); es?.close(); setConnected(false); };
  }, [key]);
  return connected;
}
