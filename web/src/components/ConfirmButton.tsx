import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A button that asks "sure?" in place before it acts: destructive actions get a second click. */
export function ConfirmButton({ label, confirm, onConfirm, danger, disabled, children }: {
  label: string; confirm: string; onConfirm: () => Promise<void> | void; danger?: boolean; disabled?: boolean; children?: ComponentChildren;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return <button type="button" class={`btn small ${danger ? 'danger' : ''}`} disabled={disabled} onClick={() => setAsking(true)}>{label}</button>;
  }
  return (
    <span class="confirm">
      <span class="small">{confirm}</span>
      {children}
      <button type="button" class={`btn small ${danger ? 'danger' : 'primary'}`} disabled={busy}
        onClick={async () => { setBusy(true); try { await onConfirm(); } finally { setBusy(false); setAsking(false); } }}>Yes, {label.toLowerCase()}</button>
      <button type="button" class="btn small" onClick={() => setAsking(false)}>No</button>
    </span>
  );
}
