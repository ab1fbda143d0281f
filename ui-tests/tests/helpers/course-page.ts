/*
 * Page object of the Course section, found by role and accessible name, and the
 * bridge API as the user of a lab page (with the token of their page config).
 */
import type {
  APIRequestContext,
  APIResponse,
  Locator,
  Page,
  PlaywrightWorkerArgs
} from '@playwright/test';

import { BRIDGE_API } from './storage-api';

export const COURSE_SELECTORS = {
  panelId: 'jp-hpc-bridge-panel',
  panelName: 'HPC Bridge',
  courseRegion: 'Course',
  endpointField: 'Course endpoint',
  budgetField: 'Tokens per student',
  tierField: 'Dataset tier',
  folderField: 'Dataset folder',
  jobProfileField: 'Job profile',
  maxJobsField: 'Jobs at a time per student',
  myJobs: 'My course jobs',
  save: 'Save',
  getKey: 'Get my key',
  keyDialogTitle: 'Your course key',
  keyField: 'API key',
  python: 'Python',
  files: 'Dataset files',
  usage: 'Usage per student'
} as const;

/** A request context for the bridge API as the user whose lab `page` shows. */
export async function bridgeApiOf(
  playwright: PlaywrightWorkerArgs['playwright'],
  page: Page
): Promise<APIRequestContext> {
  const token = await page.evaluate(() => {
    const el = document.getElementById('jupyter-config-data');
    const config = JSON.parse(el?.textContent ?? '{}') as { token?: unknown };
    return typeof config.token === 'string' ? config.token : '';
  });
  if (!token) {
    throw new Error('The lab page config carries no token.');
  }
  return playwright.request.newContext({
    baseURL: `${BRIDGE_API}/`,
    extraHTTPHeaders: { Authorization: `token ${token}` }
  });
}

export interface IEndpoint {
  id: string;
  name: string;
  owner: string;
  model: string;
  provider: string;
}

/** The JSON answer of a bridge call; throws with its status and text otherwise. */
export async function ok<T>(
  what: string,
  answer: Promise<APIResponse>
): Promise<T> {
  const response = await answer;
  if (!response.ok()) {
    throw new Error(
      `${what}: HTTP ${response.status()} ${await response.text()}`
    );
  }
  return (await response.json()) as T;
}

/** carol's local tiny-random endpoint: an existing one, or a new one (`created`). */
export async function endpointOf(
  api: APIRequestContext,
  suffix: string
): Promise<{ id: string; created: boolean }> {
  const { endpoints } = await ok<{ endpoints: IEndpoint[] }>(
    'list endpoints',
    api.get('endpoints')
  );
  const own = endpoints.find(
    e =>
      e.owner === 'carol' && e.model === 'tiny-random' && e.provider === 'local'
  );
  if (own) {
    return { id: own.id, created: false };
  }
  const created = await ok<IEndpoint>(
    'create an endpoint',
    api.post('endpoints', {
      data: {
        name: `ui-course-${suffix}`,
        model: 'tiny-random',
        provider: 'local',
        resources: { gpus: 0 },
        visibility: 'private'
      }
    })
  );
  return { id: created.id, created: true };
}

export class CoursePage {
  constructor(readonly page: Page) {}

  get panel(): Locator {
    return this.page.locator(`#${COURSE_SELECTORS.panelId}`);
  }

  get section(): Locator {
    return this.panel.getByRole('region', {
      name: COURSE_SELECTORS.courseRegion,
      exact: true
    });
  }

  /** One course of the section, by its hub group. */
  course(name: string): Locator {
    return this.section.getByRole('group', { name, exact: true });
  }

  /** The instructor's settings form of a course. */
  settings(name: string): Locator {
    return this.course(name).getByRole('form', {
      name: `Settings of ${name}`
    });
  }

  /** Opens the HPC Bridge side panel. */
  async open(): Promise<void> {
    // Clicking the tab of the panel that is already current would close it.
    const tab = this.page.getByRole('tab', {
      name: COURSE_SELECTORS.panelName
    });
    await tab.waitFor();
    if ((await tab.getAttribute('aria-selected')) !== 'true') {
      await tab.click();
    }
    await this.panel.waitFor({ state: 'visible' });
  }

  /** Fills in and saves the instructor's settings. */
  async setUp(
    name: string,
    settings: {
      endpointId: string;
      budget: number;
      tier: string;
      folder: string;
      /** The admin profile the course's job profile is based on, and its limit. */
      jobProfile?: { base: string; maxActiveJobs: number };
    }
  ): Promise<void> {
    const form = this.settings(name);
    const S = COURSE_SELECTORS;
    await form.getByLabel(S.endpointField).selectOption(settings.endpointId);
    await form.getByLabel(S.budgetField).fill(String(settings.budget));
    await form.getByLabel(S.tierField).selectOption(settings.tier);
    await form.getByLabel(S.folderField).fill(settings.folder);
    if (settings.jobProfile !== undefined) {
      await form
        .getByLabel(S.jobProfileField)
        .selectOption(settings.jobProfile.base);
      await form
        .getByLabel(S.maxJobsField)
        .fill(String(settings.jobProfile.maxActiveJobs));
    }
    // Done when the bridge has stored it: "Saved by …" may still show an earlier save.
    const stored = this.page.waitForResponse(
      r =>
        r.request().method() === 'PUT' &&
        new URL(r.url()).pathname.endsWith(`/courses/${name}`) &&
        r.ok()
    );
    await form.getByRole('button', { name: S.save }).click();
    await stored;
  }
}
