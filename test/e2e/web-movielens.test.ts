/**
 * The web UI against a real `orch standalone` on the repository's dags/: trigger
 * transform_movielens through the form, watch the graph go green live, read a transform's
 * statement, Livy lines and output table in its task panel.
 */
import { describe, expect, it } from 'vitest';
import { screenshot } from '../helpers/browser.ts';
import { repoWorkspace } from '../helpers/movielens.ts';
import { webSuite } from '../helpers/web.ts';

const ws = repoWorkspace();

describe('web UI: transform_movielens', () => {
  const ctx = webSuite(ws);

  it('lists the DAG, rejects a bad param beside its field, triggers with a changed param and follows the run live', async () => {
    const { server, browser: b } = ctx;
    const { page } = b;
    await page.goto(`${server.url}/dags`);
    await page.locator('tr[data-dag="transform_movielens"]').waitFor();
    await page.locator('tr[data-dag="transform_movielens"] button', { hasText: 'Trigger' }).click();
    const output = page.locator('#param-output');
    await output.waitFor();
    expect(await output.inputValue()).toBe('out/movielens-parquet');

    // Client-side check: an empty output breaks its minLength, shown beside the field.
    await output.fill('');
    await page.locator('.modal button[type=submit]').click();
    await expect.poll(() => page.locator('[data-error-for="output"]').textContent()).toMatch(/minLength|empty/i);
    await screenshot(page, 'trigger-dialog');

    // Raw JSON conf mode: a syntax error is shown, and the form comes back as it was.
    await page.locator('.modal .seg button', { hasText: 'JSON conf' }).click();
    await page.locator('#conf-json').fill('{"output": ');
    await page.locator('.modal button[type=submit]').click();
    await expect.poll(() => page.locator('[data-error="json"]').textContent()).toMatch(/JSON syntax error/);
    await page.locator('#conf-json').fill('{"output": ""}');
    await page.locator('.modal .seg button', { hasText: 'Form' }).click();
    await output.waitFor();

    await output.fill(ws.out);
    await page.locator('.modal button[type=submit]').click();
    await page.waitForURL(/\/dags\/transform_movielens\/graph\?run=/);
    // A marker that a reload would wipe: every change below must arrive without one.
    await page.evaluate(() => { (globalThis as { __noReload?: boolean }).__noReload = true; });
    const node = (id: string) => page.locator(`g.node[data-task="${id}"]`);
    await node('terminate_cluster').waitFor();

    // The states the graph shows as the run goes: it must pass through a non-final state
    // for some node and end with every node green, all while the page stays loaded.
    const seen = new Set<string>();
    await expect.poll(async () => {
      const states = await page.locator('g.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
      states.forEach((s) => seen.add(s ?? ''));
      return states.every((s) => s === 'success') && states.length === 9;
    }, { interval: 250 }).toBe(true);
    expect([...seen].some((s) => s === 'running' || s === 'queued' || s === 'none')).toBe(true);
    expect(await page.evaluate(() => (globalThis as { __noReload?: boolean }).__noReload)).toBe(true);
    await expect.poll(() => page.locator('[data-run-state]').getAttribute('data-run-state')).toBe('success');
    await screenshot(page, 'graph-view');

    // The transform's panel: its statement (code lines), Livy lines in its log, its output table.
    await node('transform_movies').click();
    const panel = page.locator('[data-task-panel="transform_movies"]');
    await panel.waitFor();
    await expect.poll(() => panel.locator('[data-testid=statement]').textContent()).toMatch(/\S/);
    await expect.poll(() => panel.locator('.log-line.src-livy').count()).toBeGreaterThan(0);
    await expect.poll(() => panel.locator('.log-line.src-code').count()).toBeGreaterThan(0);
    await expect.poll(() => panel.locator('[data-testid=output] table tbody tr').count()).toBeGreaterThan(0);
    expect(await panel.locator('[data-handle="livy-session"]').count()).toBeGreaterThan(0);
    expect(page.url()).toContain('task=transform_movies');
    await screenshot(page, 'task-panel');

    // The log filter narrows the lines shown; the download link is the whole log.
    const before = await panel.locator('.log-line').count();
    await panel.locator('select[aria-label=source]').selectOption('code');
    await expect.poll(() => panel.locator('.log-line').count()).toBeLessThan(before);
    expect(await panel.locator('a[download]').getAttribute('href')).toMatch(/\/tries\/1\/logs\/download$/);

    // Grid and Gantt of the same run.
    await page.locator('.tabs a', { hasText: 'Grid' }).click();
    await expect.poll(() => page.locator('.grid .cell').count()).toBe(9);
    await screenshot(page, 'grid-movielens');
    await page.locator('.tabs a', { hasText: 'Gantt' }).click();
    await expect.poll(() => page.locator('.gantt-bar').count()).toBeGreaterThanOrEqual(9);
    expect(await page.locator('.gantt-label', { hasText: 'wait_for_cluster' }).count()).toBe(1);
    await screenshot(page, 'gantt');
    await page.locator('.tabs a', { hasText: 'Runs' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(1);
    expect(await page.locator('table.runs tbody tr').textContent()).toContain('ui');
    await page.locator('.tabs a', { hasText: 'Code' }).click();
    await expect.poll(() => page.locator('.code-file').count()).toBeGreaterThan(1);
    await screenshot(page, 'code');
    expect(b.dialogs).toEqual([]);
  });
});
