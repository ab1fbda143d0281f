/*
 * The UI benchmarks (not tests: they measure and never fail on timing), run by
 * bench/run against the real stack: JupyterHub on HUB_URL, logged in as HUB_USER
 * by the UI tests' global-setup.ts, with Debian's Chromium.
 */
import { defineConfig } from '@playwright/test';

import { AUTH_FILE, CHROMIUM, USER_SERVER_URL } from '../hub';

export default defineConfig({
  testDir: '.',
  testMatch: '*.bench.ts',
  outputDir: '../test-results/bench',
  globalSetup: require.resolve('../global-setup'),
  // Loading and scrolling 10,000 rows on a loaded 2-core machine takes a while.
  timeout: 600_000,
  workers: 1,
  retries: 0,
  reporter: 'list',
  use: {
    baseURL: USER_SERVER_URL,
    storageState: AUTH_FILE,
    viewport: { width: 1280, height: 800 },
    navigationTimeout: 90_000,
    video: 'off',
    trace: 'off',
    launchOptions: CHROMIUM
  }
});
