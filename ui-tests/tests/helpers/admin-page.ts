/*
 * Page object of the Admin section (hub admins only), found by role and
 * accessible name, and a login as another hub user in a fresh context.
 */
import type { Browser, Locator, Page } from '@playwright/test';

import { HUB_PASSWORD, HUB_URL } from '../../hub';
import { widenLeftPanel } from './hpc-bridge-page';

export const ADMIN_SELECTORS = {
  panelId: 'jp-hpc-bridge-panel',
  panelName: 'HPC Bridge',
  adminRegion: 'Admin',
  auditTab: 'Audit',
  auditForm: 'Audit search',
  pathField: 'Path contains',
  tierField: 'Tier',
  search: 'Search',
  exportCsv: 'Export CSV',
  records: 'Audit records'
} as const;

const SPAWN_WAIT_MS = 180_000;

/** Logs USER in at the hub in a new context and opens their lab. */
export async function labAs(browser: Browser, user: string): Promise<Page> {
  // Empty state: the config's storageState (alice's hub cookie) applies to new contexts too.
  const context = await browser.newContext({
    storageState: { cookies: [], origins: [] },
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true
  });
  const page = await context.newPage();
  await page.goto(`${HUB_URL}/hub/login`);
  await page.locator('input[name="username"]').fill(user);
  await page.locator('input[name="password"]').fill(HUB_PASSWORD);
  await Promise.all([
    page.waitForURL(url => !url.pathname.endsWith('/hub/login')),
    page.locator('input[type="submit"], button[type="submit"]').first().click()
  ]);
  // The hub may still be redirecting after the login: a navigation it starts then
  // aborts ours (net::ERR_ABORTED); once the page has settled, ask again.
  const spawn = `${HUB_URL}/hub/spawn/${user}`;
  await page
    .goto(spawn, { timeout: SPAWN_WAIT_MS })
    .catch(async (e: unknown) => {
      if (!String(e).includes('ERR_ABORTED')) {
        throw e;
      }
      await page.waitForLoadState();
      if (!page.url().includes(`/user/${user}/lab`)) {
        await page.goto(spawn, { timeout: SPAWN_WAIT_MS });
      }
    });
  await page.waitForURL(`${HUB_URL}/user/${user}/lab**`, {
    timeout: SPAWN_WAIT_MS
  });
  await page
    .locator('#jupyterlab-splash')
    .waitFor({ state: 'detached', timeout: SPAWN_WAIT_MS });
  return page;
}

export class AdminPage {
  constructor(readonly page: Page) {}

  get panel(): Locator {
    return this.page.locator(`#${ADMIN_SELECTORS.panelId}`);
  }

  get section(): Locator {
    return this.panel.getByRole('region', {
      name: ADMIN_SELECTORS.adminRegion,
      exact: true
    });
  }

  /** Opens the HPC Bridge side panel. */
  async open(): Promise<void> {
    // Clicking the tab of the panel that is already current would close it.
    const tab = this.page.getByRole('tab', { name: ADMIN_SELECTORS.panelName });
    await tab.waitFor();
    if ((await tab.getAttribute('aria-selected')) !== 'true') {
      await tab.click();
    }
    await this.panel.waitFor({ state: 'visible' });
  }

  /** Drags the left side panel's edge to `x` pixels (for the screenshot). */
  async widen(x: number): Promise<void> {
    await widenLeftPanel(this.page, x);
  }

  tab(name: string): Locator {
    return this.section.getByRole('tab', { name });
  }

  get auditForm(): Locator {
    return this.section.getByRole('form', { name: ADMIN_SELECTORS.auditForm });
  }

  get records(): Locator {
    return this.section.getByRole('table', { name: ADMIN_SELECTORS.records });
  }

  async searchAudit(fields: { tier?: string; path?: string }): Promise<void> {
    await this.tab(ADMIN_SELECTORS.auditTab).click();
    if (fields.tier !== undefined) {
      await this.auditForm
        .getByLabel(ADMIN_SELECTORS.tierField, { exact: true })
        .fill(fields.tier);
    }
    if (fields.path !== undefined) {
      await this.auditForm
        .getByLabel(ADMIN_SELECTORS.pathField)
        .fill(fields.path);
    }
    await this.auditForm
      .getByRole('button', { name: ADMIN_SELECTORS.search })
      .click();
  }
}
