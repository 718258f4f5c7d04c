/** One `orch standalone` and one browser per web UI test file. */
import { afterAll, beforeAll, vi } from 'vitest';
import { launch, type Browser } from './browser.ts';
import { killAll, PATIENCE_MS, type OrchProcess } from './cli.ts';
import type { Workspace } from './dags.ts';
import { apiOf, startStandalone, type Standalone } from './standalone.ts';

/**
 * beforeAll/afterAll for a browser test file: `prepare` (e.g. seeding the database), one
 * standalone and one browser for the file, all torn down (and the workspace removed) after.
 */
export function webSuite(ws: Workspace & { cleanup(): void }, prepare: () => void = () => {}): { server: Standalone; browser: Browser } {
  const ctx = {} as { server: Standalone; browser: Browser };
  beforeAll(async () => {
    // expect.poll's own default is 1 s: a busy machine needs the shared patience there too.
    vi.setConfig({ expect: { poll: { timeout: PATIENCE_MS } } });
    // ORCH_TEST_WEB_URL: drive a server already running (e.g. `npx vite web` in front of
    // `orch standalone`) while working on the UI.
    const external = process.env.ORCH_TEST_WEB_URL;
    if (external) ctx.server = { url: external, proc: undefined as unknown as OrchProcess, api: apiOf(external) };
    else {
      prepare();
      ctx.server = await startStandalone(ws);
    }
    ctx.browser = await launch();
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await killAll();
    ws.cleanup();
  });
  return ctx;
}
