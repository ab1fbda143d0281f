/*
 * Galata UI tests against the real stack: JupyterHub on HUB_URL
 * (default http://127.0.0.1:8000), logged in as HUB_USER (alice) by
 * global-setup.ts, with Debian's Chromium.
 */
import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';

import { AUTH_FILE, CHROMIUM, USER_SERVER_URL } from './hub';

// Its typings declare no export, but it is galata's base config object.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const baseConfig: PlaywrightTestConfig = require('@jupyterlab/galata/lib/playwright-config');

/**
 * Specs that need the OpenStack control plane (`./stack/up --with-openstack`):
 * with HPC_UI_OPENSTACK=1 only these run (CI's OpenStack stage), else none of them.
 */
const OPENSTACK_SPECS = ['**/endpoints-cloud.spec.ts'];
const OPENSTACK = process.env.HPC_UI_OPENSTACK === '1';

/**
 * Specs that start no endpoint and hold no course (panels, dialogs, screenshots, pages,
 * files and jobs under their own names): they run beside the others, one at a time.
 * Galata keeps each test's workspace and settings in memory, so the two lines share no
 * layout.
 */
const BESIDE_SPECS = [
  '**/accessibility.spec.ts',
  '**/admin.spec.ts',
  '**/cluster-panel.spec.ts',
  '**/console.spec.ts',
  '**/pages.spec.ts',
  '**/storage.spec.ts',
  '**/visual.spec.ts'
];

export default defineConfig({
  ...baseConfig,
  testDir: './tests',
  projects: OPENSTACK
    ? [{ name: 'cloud', testMatch: OPENSTACK_SPECS }]
    : [
        // Jobs, endpoints and courses: one test at a time (one SLURM node, replica slots).
        {
          name: 'cluster',
          testIgnore: [...OPENSTACK_SPECS, ...BESIDE_SPECS],
          workers: 1
        },
        { name: 'panels', testMatch: BESIDE_SPECS, workers: 1 }
      ],
  outputDir: './test-results',
  // One reference per screenshot, whichever line of specs takes it.
  snapshotPathTemplate:
    '{testDir}/{testFilePath}-snapshots/{arg}{-platform}{ext}',
  globalSetup: require.resolve('./global-setup'),
  // 2-core CI machines: spawning a server and starting the lab take a while.
  timeout: 120_000,
  expect: { timeout: 30_000 },
  retries: process.env.CI ? 1 : 0,
  workers: 2,
  reporter: [
    [process.env.CI ? 'line' : 'list'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }]
  ],
  use: {
    ...baseConfig.use,
    baseURL: USER_SERVER_URL,
    storageState: AUTH_FILE,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 30_000,
    navigationTimeout: 90_000,
    // Video needs Playwright's own ffmpeg build, which is not installed here.
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: CHROMIUM
  }
});
