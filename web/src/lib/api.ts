import type { FieldError } from './types.ts';

const TOKEN_KEY = 'orch.token';

export function getToken(): string | null {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fields: FieldError[] = []) {
    super(message);
  }
}

// The App shows the token prompt when any call is refused for want of credentials.
const authListeners = new Set<() => void>();
export function onAuthRequired(fn: () => void): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export function enc(id: string): string { return encodeURIComponent(id); }

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const method = init.method ?? 'GET';
  if (method !== 'GET') {
    // The server's CSRF guard wants this custom header on every mutating call.
    headers['X-Orch-Csrf'] = '1';
    headers['X-Orch-Client'] = 'web';
  }
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`/api/v1${path}`, {
    method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (res.status === 401) authListeners.forEach((fn) => fn());
  const text = await res.text();
  let data: unknown = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* a proxy's HTML error page */ }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; fields?: FieldError[] } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text.slice(0, 200) || res.statusText), err?.fields ?? []);
  }
  return data as T;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
