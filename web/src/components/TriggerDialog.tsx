import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, enc, errorText } from '../lib/api.ts';
import { checkConf, fieldsOf, initialValues, toConf, toFormValue, type FieldSpec, type FormValues } from '../lib/params.ts';
import type { DagDetail, Run } from '../lib/types.ts';
import { Modal } from './Modal.tsx';

interface Props { dagId: string; onClose: () => void; onTriggered: (run: Run) => void }

export function TriggerDialog({ dagId, onClose, onTriggered }: Props) {
  const [dag, setDag] = useState<DagDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  useEffect(() => { api<DagDetail>(`/dags/${enc(dagId)}`).then(setDag, (e) => setLoadError(errorText(e))); }, [dagId]);
  return (
    <Modal onClose={onClose} label={`Trigger ${dagId}`}>
      <h2>Trigger <span class="mono">{dagId}</span></h2>
      {loadError && <div class="error-box">{loadError}</div>}
      {!dag && !loadError && <p class="muted">Loading…</p>}
      {dag && <TriggerForm dag={dag} onClose={onClose} onTriggered={onTriggered} />}
    </Modal>
  );
}

function TriggerForm({ dag, onClose, onTriggered }: { dag: DagDetail; onClose: () => void; onTriggered: (run: Run) => void }) {
  const fields = useMemo(() => fieldsOf(dag.paramsSchema), [dag]);
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const switchTo = (next: 'form' | 'json') => {
    if (next === mode) return;
    if (next === 'json') {
      setJson(JSON.stringify(toConf(fields, values).conf, null, 2));
      setJsonError(null);
    } else {
      const parsed = parseJson(json);
      if ('error' in parsed) { setJsonError(parsed.error); return; }
      const v = { ...values };
      for (const f of fields) if (f.name in parsed.value) v[f.name] = toFormValue(f, parsed.value[f.name]);
      setValues(v);
    }
    setErrors({});
    setMode(next);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setServerError(null);
    let conf: Record<string, unknown>;
    if (mode === 'json') {
      const parsed = parseJson(json);
      if ('error' in parsed) { setJsonError(parsed.error); return; }
      setJsonError(null);
      conf = parsed.value;
      const errs = checkConf(fields, conf);
      setErrors(errs);
      if (Object.keys(errs).length) return;
    } else {
      const res = toConf(fields, values);
      setErrors(res.errors);
      if (Object.keys(res.errors).length) return;
      conf = res.conf;
    }
    setBusy(true);
    try {
      const run = await api<Run>(`/dags/${enc(dag.dagId)}/runs`, { method: 'POST', body: { conf } });
      onClose();
      onTriggered(run);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const byField: Record<string, string> = {};
        const other: string[] = [];
        for (const f of err.fields) {
          const top = f.path.split('.')[0] ?? '';
          if (fields.some((x) => x.name === top)) byField[top] = f.message;
          else other.push(`${f.path || '(conf)'}: ${f.message}`);
        }
        setErrors(byField);
        setServerError(other.length ? other.join('\n') : null);
      } else setServerError(errorText(err));
    } finally { setBusy(false); }
  };

  return (
    <form onSubmit={submit} noValidate>
      {dag.description && <p class="muted" style="margin-top:0">{dag.description}</p>}
      <div style="display:flex;align-items:center;gap:10px;margin:10px 0">
        <span class="seg" role="tablist">
          <button type="button" class={mode === 'form' ? 'on' : ''} onClick={() => switchTo('form')}>Form</button>
          <button type="button" class={mode === 'json' ? 'on' : ''} onClick={() => switchTo('json')}>JSON conf</button>
        </span>
        {fields.length === 0 && mode === 'form' && <span class="muted small">This DAG takes no params.</span>}
      </div>
      {mode === 'form' ? fields.map((f) => (
        <Field key={f.name} f={f} value={values[f.name] ?? ''} error={errors[f.name]}
          onChange={(v) => { setValues({ ...values, [f.name]: v }); setErrors(({ [f.name]: _gone, ...rest }) => rest); }} />
      )) : (
        <div class="field">
          <label for="conf-json">Conf (JSON object)</label>
          <textarea id="conf-json" class="json" spellcheck={false} value={json}
            onInput={(e) => { setJson(e.currentTarget.value); setJsonError(null); }} />
          {jsonError && <div class="err" data-error="json">{jsonError}</div>}
          {Object.entries(errors).map(([k, m]) => <div key={k} class="err" data-error-for={k}>{k}: {m}</div>)}
        </div>
      )}
      {serverError && <div class="error-box">{serverError}</div>}
      <div class="actions">
        <button type="button" class="btn" onClick={onClose}>Cancel</button>
        <button type="submit" class="btn primary" disabled={busy}>{busy ? 'Triggering…' : 'Trigger'}</button>
      </div>
    </form>
  );
}

function parseJson(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    const v: unknown = JSON.parse(text || '{}');
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'The conf must be a JSON object ({ … })' };
    return { value: v as Record<string, unknown> };
  } catch (e) { return { error: `JSON syntax error: ${errorText(e)}` }; }
}

function Field({ f, value, error, onChange }: { f: FieldSpec; value: string | boolean; error: string | undefined; onChange: (v: string | boolean) => void }) {
  const id = `param-${f.name}`;
  const s = f.schema;
  let input;
  if (f.kind === 'boolean') {
    input = <label class="check"><input id={id} name={f.name} type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} /> {s.title ?? 'enabled'}</label>;
  } else if (f.kind === 'enum') {
    input = (
      <select id={id} name={f.name} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)}>
        {!f.required && <option value="">—</option>}
        {(s.enum ?? []).map((o) => <option key={JSON.stringify(o)} value={JSON.stringify(o)}>{String(o)}</option>)}
      </select>
    );
  } else {
    input = <input id={id} name={f.name} type={f.kind === 'number' || f.kind === 'integer' ? 'number' : 'text'}
      step={f.kind === 'integer' ? 1 : 'any'} value={String(value)} aria-invalid={!!error}
      placeholder={f.kind === 'json' ? 'JSON value' : ''} onInput={(e) => onChange(e.currentTarget.value)} />;
  }
  return (
    <div class={`field ${error ? 'invalid' : ''}`} data-field={f.name}>
      <label for={id}>{f.name}{f.required && <span class="req">*</span>} <span class="muted small">{f.kind}</span></label>
      {input}
      {error && <div class="err" data-error-for={f.name}>{error}</div>}
      {s.description && <div class="help">{s.description}</div>}
    </div>
  );
}
