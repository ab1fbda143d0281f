/*
 * Screenshot comparisons of the panel's sections at JupyterLab's default side-bar
 * width and in a 1024×700 window, in the light and the dark theme. The bridge's
 * answers that change from run to run (the jobs, the clock, quota use, the event
 * stream) are replaced by fixed ones in the browser; everything else is the real stack.
 * `npx playwright test visual --update-snapshots` retakes the references on purpose.
 */
import * as fs from 'fs';
import * as path from 'path';
import { expect, test } from './fixtures';
import type { Page, Route } from '@playwright/test';

import { HpcBridgePage } from './helpers/hpc-bridge-page';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const API = '/services/hpc-bridge/api/v1/';
const SECTIONS = [
  'Cluster',
  'Jobs',
  'Storage',
  'Pipelines',
  'Endpoints',
  'Course'
];

/**
 * A trigger of alice's that watches a folder, with one run that submitted a job: the
 * panel's unit tests build their trigger from the same file (src/__tests__/pipelines-fakes.ts).
 */
const TRIGGERS = {
  triggers: [
    JSON.parse(
      fs.readFileSync(
        path.resolve(
          __dirname,
          '..',
          '..',
          'src',
          '__tests__',
          'fixtures',
          'trigger.json'
        ),
        'utf8'
      )
    ) as unknown
  ]
};

function minutesAgo(minutes: number): string {
  return new Date(NOW.getTime() - minutes * 60_000).toISOString();
}

/** A job of alice's as the bridge lists it, `minutes` after its submit. */
function fixedJob(
  id: string,
  name: string,
  state: string,
  submittedMinutesAgo: number
): Record<string, unknown> {
  const ended = !['PENDING', 'RUNNING'].includes(state);
  const started = state !== 'PENDING';
  return {
    id,
    owner: 'alice',
    cluster: 'demo',
    name,
    notebookPath: `work/${name}.ipynb`,
    profile: 'cpu-small',
    partition: 'cpu',
    resources: { timeMinutes: 10, cpus: 1, memoryMB: 500, gpus: 0 },
    state,
    slurmId: String(4000 + Number.parseInt(id.slice(-2), 16)),
    isArray: false,
    elements: [
      {
        index: 0,
        slurmId: null,
        state,
        reason: state === 'PENDING' ? 'Priority' : null,
        node: started ? 'node1' : null,
        exitCode: ended ? (state === 'FAILED' ? '1:0' : '0:0') : null,
        elapsedSeconds: started ? 75 : 0,
        maxRssMB: null,
        progress: state === 'RUNNING' ? { cell: 2, of: 5 } : null,
        error: null,
        parameters: {},
        startedAt: started ? minutesAgo(submittedMinutesAgo - 1) : null,
        endedAt: ended ? minutesAgo(submittedMinutesAgo - 2) : null
      }
    ],
    error: null,
    queuePosition: state === 'PENDING' ? 1 : null,
    expectedStart: null,
    submittedAt: minutesAgo(submittedMinutesAgo),
    updatedAt: minutesAgo(ended ? submittedMinutesAgo - 2 : 0),
    resubmittedFrom: null
  };
}

const JOBS = {
  jobs: [
    fixedJob('00000000000a', 'train-model', 'RUNNING', 3),
    fixedJob('00000000000b', 'prepare-data', 'PENDING', 5),
    fixedJob('00000000000c', 'sweep-lr', 'COMPLETED', 40),
    fixedJob('00000000000d', 'broken-import', 'FAILED', 90)
  ]
};

interface ICount {
  total: number;
  idle: number;
}
interface IClusters {
  clusters: {
    updatedAt: string;
    partitions: { nodes: ICount; cpus: ICount; gpus: ICount }[];
  }[];
}
interface ITiers {
  tiers: {
    usage?: Record<
      string,
      { bytes: number; quotaBytes: number; measuredAt: string }
    >;
  }[];
}

/** The stack's answer, changed by `change`. */
const COURSES = {
  courses: [
    {
      name: 'ml101',
      title: 'Machine learning 101',
      role: 'student',
      configured: false
    }
  ]
};

async function answerJson<T>(route: Route, change: (body: T) => T) {
  const response = await route.fetch();
  await route.fulfill({
    response,
    json: change((await response.json()) as T)
  });
}

/** Fixed answers for what differs between runs; the rest goes to the stack. */
async function fixBridgeAnswers(page: Page): Promise<void> {
  await page.clock.setFixedTime(NOW);
  await page.route(
    url => url.pathname.includes(API),
    async route => {
      const path = new URL(route.request().url()).pathname.split(API)[1];
      if (route.request().method() !== 'GET') {
        return route.continue();
      }
      switch (true) {
        case path === 'events':
          // No pushed updates: the section polls the fixed list.
          return route.abort();
        case path === 'jobs':
          return route.fulfill({ json: JOBS });
        case path === 'endpoints':
          return route.fulfill({ json: { endpoints: [] } });
        case path === 'triggers':
          return route.fulfill({ json: TRIGGERS });
        case path === 'models':
          // Without alice's own models: a spec beside this one registers one for a while.
          return answerJson<{ models: { own?: boolean }[] }>(route, body => ({
            ...body,
            models: body.models.filter(model => model.own !== true)
          }));
        case path === 'courses':
          // A course alice takes whose instructor has not saved it yet.
          return route.fulfill({ json: COURSES });
        case /^tiers\/[^/]+\/links$/.test(path):
          return route.fulfill({ json: { links: [] } });
        case path === 'clusters':
          return answerJson<IClusters>(route, body => {
            for (const cluster of body.clusters) {
              cluster.updatedAt = NOW.toISOString();
              for (const partition of cluster.partitions) {
                partition.nodes.idle = partition.nodes.total;
                partition.cpus.idle = partition.cpus.total;
                partition.gpus.idle = partition.gpus.total;
              }
            }
            return body;
          });
        case path === 'tiers':
          return answerJson<ITiers>(route, body => {
            for (const tier of body.tiers) {
              for (const use of Object.values(tier.usage ?? {})) {
                use.bytes = Math.round(use.quotaBytes / 4);
                use.measuredAt = NOW.toISOString();
              }
            }
            return body;
          });
        default:
          return route.continue();
      }
    }
  );
}

/** Each section whole: the window is as tall as the longest section. */
const TALL = { width: 1280, height: 1800 };
/** What the user sees of the panel in a small window, a section at its top. */
const SMALL = { width: 1024, height: 700 };

for (const [where, viewport] of [
  ['default', TALL],
  ['1024x700', SMALL]
] as const) {
  test.describe(`Panel sections at the default side-bar width (${where})`, () => {
    test.use({ viewport, autoGoto: false });

    test('look as their references, in the light and the dark theme', async ({
      page
    }) => {
      await fixBridgeAnswers(page);
      await page.goto();
      const bridge = new HpcBridgePage(page);
      await bridge.open();
      await expect(bridge.jobs.getByText('train-model')).toBeVisible();
      await expect(bridge.jobs).toContainText('polling');
      await expect(bridge.section('Storage')).toContainText('Archive');
      await expect(bridge.section('Pipelines')).toContainText('clean incoming');
      await expect(bridge.section('Endpoints')).toBeVisible();
      await expect(bridge.section('Course')).toContainText('not set up');
      for (const theme of ['light', 'dark']) {
        if (theme === 'dark') {
          await page.theme.setDarkTheme();
        }
        for (const name of SECTIONS) {
          const section = bridge.section(name);
          const shot = `${name.toLowerCase()}-${where}-${theme}.png`;
          const options = {
            animations: 'disabled',
            caret: 'hide',
            maxDiffPixelRatio: 0.01
          } as const;
          if (viewport === SMALL) {
            await section.evaluate(node =>
              node.scrollIntoView({ block: 'start' })
            );
            await expect(bridge.panel).toHaveScreenshot(shot, options);
          } else {
            await expect(section).toHaveScreenshot(shot, options);
          }
        }
      }
    });
  });
}
