import { useState } from 'preact/hooks';
import { setToken } from '../lib/api.ts';

export function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('');
  return (
    <div class="modal-back">
      <form class="modal card" onSubmit={(e) => { e.preventDefault(); setToken(value.trim()); onDone(); }}>
        <h2>Sign in</h2>
        <p class="muted">This orch server needs an API token (<code>web.auth.token</code> or <code>ORCH_WEB_TOKEN</code>). It is kept for this browser tab only.</p>
        <div class="field">
          <label for="token">Token</label>
          <input id="token" type="password" autoFocus value={value} onInput={(e) => setValue(e.currentTarget.value)} style="width:100%" />
        </div>
        <div class="actions"><button class="btn primary" type="submit" disabled={!value.trim()}>Continue</button></div>
      </form>
    </div>
  );
}
