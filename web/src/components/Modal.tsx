import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

export function Modal({ onClose, label, children }: { onClose: () => void; label: string; children: ComponentChildren }) {
  useEffect(() => {
    const key = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, [onClose]);
  return (
    <div class="modal-back" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="modal card" role="dialog" aria-modal="true" aria-label={label}>{children}</div>
    </div>
  );
}
