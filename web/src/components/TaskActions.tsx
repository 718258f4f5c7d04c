import { useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import { isFinished } from '../lib/states.ts';
import type { RunDetail } from '../lib/types.ts';
import { ConfirmButton } from './ConfirmButton.tsx';

export function TaskActions({ run, taskId, onDone }: { run: RunDetail; taskId: string; onDone: () => void }) {
  const [downstream, setDownstream] = useState(true);
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const base = `/dags/${enc(run.dagId)}/runs/${enc(run.runId)}`;
  const act = async (fn: () => Promise<string>) => {
    setErr(null); setMsg(null);
    try { setMsg(await fn()); onDone(); } catch (e) { setErr(errorText(e)); }
  };
  const clear = () => act(async () => {
    const r = await api<{ cleared: string[] }>(`${base}/clear`, { method: 'POST', body: { taskIds: [taskId], downstream } });
    return `Cleared ${r.cleared.length} task${r.cleared.length === 1 ? '' : 's'}: ${r.cleared.join(', ')}`;
  });
  const mark = (state: 'success' | 'failed') => act(async () => {
    const r = await api<{ marked: string[]; runState: string }>(`${base}/tasks/${enc(taskId)}/mark`, { method: 'POST', body: { state, downstream: false } });
    return `Marked ${state}: ${r.marked.join(', ') || 'nothing changed'} · run ${r.runState}`;
  });
  const cancel = () => act(async () => {
    const r = await api<{ outcome: string }>(`${base}/cancel`, { method: 'POST', body: {} });
    return `Cancel: ${r.outcome}`;
  });
  return (
    <section class="tp-actions"><h3>Actions</h3>
      <div class="row">
        <ConfirmButton label="Clear" confirm={`Clear ${taskId}${downstream ? ' and downstream' : ''}?`} onConfirm={clear} />
        <label class="small check"><input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.currentTarget.checked)} /> + downstream</label>
      </div>
      <div class="row">
        <ConfirmButton label="Mark success" confirm="Mark this task success?" onConfirm={() => mark('success')} />
        <ConfirmButton label="Mark failed" confirm="Mark this task failed?" danger onConfirm={() => mark('failed')} />
        {!isFinished(run.state) && <ConfirmButton label="Cancel run" confirm="Cancel the whole run?" danger onConfirm={cancel} />}
      </div>
      {msg && <div class="small muted">{msg}</div>}
      {err && <div class="err">{err}</div>}
    </section>
  );
}
