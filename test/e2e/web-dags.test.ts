/**
 * The web UI against a real `orch standalone` on a temporary dags folder: a log line that
 * holds markup shows as text, and a 200-task DAG with 25 runs renders its graph and grid.
 */
import { describe, expect, it } from 'vitest';
import { screenshot } from '../helpers/browser.ts';
import { workspace } from '../helpers/dags.ts';
import { webSuite } from '../helpers/web.ts';
import { countIs, RUNS, seedWideRuns, WIDE, writeWideDag } from '../helpers/wide-dag.ts';

const XSS = '<img src=x onerror=alert(1)>';
const ws = workspace();

ws.writeDag('xss_log', `
const d = dag({ id: 'xss_log', description: 'logs markup' });
d.task({ id: 'say', run: (ctx) => { ctx.log.info(${JSON.stringify(XSS)}); console.log(${JSON.stringify(`stdout ${XSS}`)}); return [{ html: ${JSON.stringify(XSS)} }]; } });
export default d;`);

writeWideDag(ws);

describe('web UI: markup in logs, a 200-task DAG', () => {
  const ctx = webSuite(ws, () => { seedWideRuns(ws.db); });

  it('shows a log line holding <img onerror> as text, never as an element', async () => {
    const { server, browser: b } = ctx;
    const run = await server.api<{ runId: string }>('/dags/xss_log/runs', { method: 'POST', body: { conf: {} } });
    const { page } = b;
    await page.goto(`${server.url}/dags/xss_log/graph?run=${encodeURIComponent(run.runId)}&task=say`);
    const panel = page.locator('[data-task-panel="say"]');
    await panel.waitFor();
    const log = panel.locator('[data-testid=log]');
    await expect.poll(() => log.textContent()).toContain(XSS);
    await expect.poll(() => panel.locator('[data-task-state]').getAttribute('data-task-state')).toBe('success');
    await expect.poll(() => log.textContent()).toContain(`stdout ${XSS}`);
    expect(await page.locator('.log-msg', { hasText: XSS }).first().isVisible()).toBe(true);
    expect(await log.locator('img').count()).toBe(0);
    // The return value is an array of objects: a table whose cell is text too.
    await expect.poll(() => panel.locator('[data-testid=output] td').first().textContent()).toBe(XSS);
    expect(await page.locator('img').count()).toBe(0);
    expect(b.dialogs).toEqual([]);
    await screenshot(page, 'xss-log');
  });

  it('renders the grid of 200 tasks × 25 runs and the graph of 200 tasks', async () => {
    const { page } = ctx.browser;
    await page.goto(`${ctx.server.url}/dags/wide_200/grid`);
    await page.waitForFunction(countIs, ['.grid .cell', WIDE * RUNS] as const);
    expect(await page.locator('.grid .grid-run').count()).toBe(RUNS);
    expect(await page.locator('.grid .cell.st-failed').count()).toBeGreaterThan(0);
    await screenshot(page, 'grid-200');

    // Tab switches inside the app: fetch, (dagre layout,) render. How fast: bench/web-render.ts.
    const show = async (tab: string, sel: string, n: number) => {
      await page.locator('.tabs a', { hasText: tab }).click();
      await page.waitForFunction(countIs, [sel, n] as const);
    };
    await show('Graph', 'svg.graph g.node', WIDE);
    expect(await page.locator('svg.graph .edges path').count()).toBe(WIDE - 1);
    // The newest run is shown: its node colours come from its task states.
    await expect.poll(() => page.locator('g.node.st-success').count()).toBeGreaterThan(100);
    await screenshot(page, 'graph-200');
    await show('Grid', '.grid .cell', WIDE * RUNS);

    // Clicking a cell opens the task panel of that run and task.
    await page.locator('.grid .cell[data-task="task_007"]').first().click();
    await page.locator('[data-task-panel="task_007"]').waitFor();
    expect(page.url()).toMatch(/task=task_007/);
  });
});
