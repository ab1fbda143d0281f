/*
 * Logs in at JupyterHub as the test user, starts (or reuses) the user's
 * server, and saves the cookies for the tests (use.storageState).
 */
import * as fs from 'fs';
import * as path from 'path';
import { chromium } from '@playwright/test';

import {
  AUTH_FILE,
  CHROMIUM,
  HUB_PASSWORD,
  HUB_URL,
  HUB_USER,
  TOKEN_FILE,
  USER_SERVER_URL
} from './hub';

const HUB_WAIT_MS = 60_000;
const SPAWN_WAIT_MS = 180_000;

async function waitForHub(): Promise<void> {
  const deadline = Date.now() + HUB_WAIT_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${HUB_URL}/hub/api`);
      if (response.ok) {
        return;
      }
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
  throw new Error(
    `JupyterHub does not answer at ${HUB_URL}/hub/api (${last}): start the stack with ./stack/up`
  );
}

export default async function globalSetup(): Promise<void> {
  await waitForHub();
  const browser = await chromium.launch(CHROMIUM);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${HUB_URL}/hub/login`);
    await page.locator('input[name="username"]').fill(HUB_USER);
    await page.locator('input[name="password"]').fill(HUB_PASSWORD);
    await Promise.all([
      page.waitForURL(url => !url.pathname.endsWith('/hub/login'), {
        timeout: 30_000
      }),
      page
        .locator('input[type="submit"], button[type="submit"]')
        .first()
        .click()
    ]);
    // Starts the default server if it is not running, then redirects through
    // the spawn-pending page and the server's OAuth login to /lab.
    await page.goto(`${HUB_URL}/hub/spawn/${HUB_USER}`, {
      timeout: SPAWN_WAIT_MS
    });
    await page.waitForURL(`${USER_SERVER_URL}/lab**`, {
      timeout: SPAWN_WAIT_MS
    });
    await page
      .locator('#jupyter-config-data')
      .waitFor({ state: 'attached', timeout: SPAWN_WAIT_MS });
    const token = await page.evaluate(() => {
      const el = document.getElementById('jupyter-config-data');
      const config: unknown = JSON.parse(el?.textContent ?? '{}');
      return typeof config === 'object' &&
        config !== null &&
        'token' in config &&
        typeof config.token === 'string'
        ? config.token
        : '';
    });
    if (!token) {
      throw new Error(
        'The lab page config carries no token: is this a JupyterHub server?'
      );
    }
    fs.mkdirSync(path.dirname(AUTH_FILE), { recursive: true, mode: 0o700 });
    await context.storageState({ path: AUTH_FILE });
    fs.writeFileSync(TOKEN_FILE, token, { mode: 0o600 });
  } finally {
    await browser.close();
  }
}
