/*
 * A fresh load of the lab through the hub: no console error, no failed request
 * (the jupyter-server 2 APIs that JupyterLab 4 asks for answer on the stack's 1.23).
 */
import type { Page } from '@playwright/test';

import { HUB_USER, USER_SERVER_URL } from '../hub';
import { expect, test } from './fixtures';
import { userApi } from './helpers/contents';
import { HpcBridgePage } from './helpers/hpc-bridge-page';

/** What the page complains about from now on: console errors and 4xx/5xx answers. */
function complaints(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', message => {
    if (message.type() === 'error') {
      seen.push(`console: ${message.text()}`);
    }
  });
  page.on('response', response => {
    if (response.status() >= 400) {
      seen.push(
        `${response.status()} ${response.request().method()} ${response.url()}`
      );
    }
  });
  page.on('pageerror', error => seen.push(`page error: ${error.message}`));
  return seen;
}

test.describe('A fresh load', () => {
  test('logs no console error and gets no failed answer', async ({ page }) => {
    const seen = complaints(page);
    const identity = page.waitForResponse(res => /\/api\/me\b/.test(res.url()));
    const events = page.waitForEvent('websocket', socket =>
      socket.url().includes('/api/events/subscribe')
    );
    await page.goto();
    expect((await identity).status()).toBe(200);
    const socket = await events;
    const bridge = new HpcBridgePage(page);
    await bridge.open();
    await expect(bridge.cluster).toBeVisible();
    await expect(bridge.partitionRow('cpu')).toHaveCount(1);
    // A refused handshake closes the socket at once; by now the panel has made its
    // round trips to the bridge.
    expect(socket.isClosed()).toBe(false);
    expect(seen).toEqual([]);
  });

  test('answers who the user is, with the permissions asked for', async ({
    playwright
  }) => {
    const api = await userApi(playwright);
    const asked = encodeURIComponent('{"contents":["read","write"]}');
    const me = await api.get(`${USER_SERVER_URL}/api/me?permissions=${asked}`);
    expect(me.status()).toBe(200);
    expect(await me.json()).toMatchObject({
      identity: { username: HUB_USER, initials: HUB_USER[0].toUpperCase() },
      permissions: { contents: ['read', 'write'] }
    });
    const bad = await api.get(`${USER_SERVER_URL}/api/me?permissions=nope`);
    expect(bad.status()).toBe(400);
    await api.dispose();
  });
});
