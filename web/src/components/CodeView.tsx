import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, errorText } from '../lib/api.ts';
import { highlight } from '../lib/highlight.ts';
import type { DagSource, SourceFile } from '../lib/types.ts';

export function CodeView({ dagId }: { dagId: string }) {
  const [src, setSrc] = useState<DagSource | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sel, setSel] = useState(0);
  useEffect(() => { api<DagSource>(`/dags/${enc(dagId)}/source`).then(setSrc, (e) => setError(errorText(e))); }, [dagId]);
  const files: SourceFile[] = src ? [src.file, ...src.statementFiles] : [];
  const file = files[sel];
  // highlight.js escapes the source, so this HTML holds no markup from the file itself.
  const html = useMemo(() => (file ? highlight(file.text, file.language) : ''), [file]);
  if (error) return <div class="error-box">{error}</div>;
  if (!src) return <p class="muted">Loading…</p>;
  return (
    <div class="code-view">
      <div class="card code-files">
        {files.map((f, i) => (
          <button key={f.path} class={`code-file ${i === sel ? 'on' : ''}`} onClick={() => setSel(i)}>
            <span class="mono small">{f.path}</span>
            <span class="muted small">{i === 0 ? 'DAG file' : f.tasks?.join(', ')}</span>
          </button>
        ))}
      </div>
      {file && (
        <div class="card code-main">
          <div class="code-head"><span class="mono small">{file.path}</span><span class="muted small">{file.language} · {file.text.split('\n').length} lines</span></div>
          <pre class="code hljs"><code dangerouslySetInnerHTML={{ __html: html }} /></pre>
        </div>
      )}
    </div>
  );
}
