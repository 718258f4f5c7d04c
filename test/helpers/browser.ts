/**
 * Debian's Chromium driven by playwright-core for the web UI tests: headless, a fresh
 * profile per launch, no background traffic.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PATIENCE_MS } from './cli.ts';
import { REPO } from './dags.ts';

export const CHROMIUM = process.env.ORCH_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(REPO, 'test-artifacts');

export interface Browser { context: BrowserContext; page: Page; dialogs: string[]; close(): Promise<void> }

export async function launch(): Promise<Browser> {
  // A missing browser fails the web tests with what to do, never skips them.
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium; .ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'orch-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1480, height: 920 },
    timeout: PATIENCE_MS,
  });
  // Every locator wait, action and navigation: the shared patience, not playwright's 30 s.
  context.setDefaultTimeout(PATIENCE_MS);
  context.setDefaultNavigationTimeout(PATIENCE_MS);
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(PATIENCE_MS);
  page.setDefaultNavigationTimeout(PATIENCE_MS);
  const dialogs: string[] = [];
  // Any alert() would be an XSS: record it (and dismiss it so nothing blocks).
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  return {
    context, page, dialogs,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
