// A statement's output as a table: Livy's application/json (schema.fields + data rows),
// or an array of objects. Anything else is shown as JSON text. Never parsed as HTML.

const MAX_ROWS = 200;

interface Tabular { columns: string[]; rows: unknown[][] }

export function tabular(value: unknown): Tabular | null {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as { schema?: { fields?: { name: string }[] }; data?: unknown[] };
    if (Array.isArray(v.schema?.fields) && Array.isArray(v.data)) {
      return { columns: v.schema!.fields!.map((f) => String(f.name)), rows: v.data.map((r) => (Array.isArray(r) ? r : [r])) };
    }
  }
  if (Array.isArray(value) && value.length > 0 && value.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
    const columns = [...new Set(value.flatMap((r) => Object.keys(r as object)))];
    return { columns, rows: value.map((r) => columns.map((c) => (r as Record<string, unknown>)[c])) };
  }
  return null;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function OutputView({ value }: { value: unknown }) {
  const t = tabular(value);
  if (!t) return <pre class="output-json">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
  return (
    <div class="output-table-wrap">
      <table class="output-table">
        <thead><tr>{t.columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
        <tbody>
          {t.rows.slice(0, MAX_ROWS).map((r, i) => <tr key={i}>{t.columns.map((_, j) => <td key={j} class={r[j] === null ? 'null' : ''}>{cell(r[j])}</td>)}</tr>)}
        </tbody>
      </table>
      <div class="muted small">{t.rows.length} row{t.rows.length === 1 ? '' : 's'}{t.rows.length > MAX_ROWS ? `, first ${MAX_ROWS} shown` : ''}</div>
    </div>
  );
}
