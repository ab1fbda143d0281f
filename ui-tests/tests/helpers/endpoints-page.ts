/*
 * Page object of the Endpoints section, found by role and accessible name.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { HpcBridgePage } from './hpc-bridge-page';

export const ENDPOINT_SELECTORS = {
  /** Accessible name of the Endpoints section (a region). */
  endpointsRegion: 'Endpoints',
  create: 'Create an endpoint',
  createDialog: 'Create a model endpoint',
  endpoint: (name: string): string => `Endpoint ${name}`,
  details: (name: string): string => `Details of ${name}`,
  start: (name: string): string => `Start ${name}`,
  stop: (name: string): string => `Stop ${name}`,
  remove: (name: string): string => `Delete ${name}`,
  newKey: (name: string): string => `New key for ${name}`,
  keys: (name: string): string => `Keys of ${name}`,
  message: (name: string): string => `Message to ${name}`,
  send: (name: string): string => `Send to ${name}`,
  answer: (name: string): string => `Answer of ${name}`,
  metrics: (name: string): string => `Metrics of ${name}`,
  replicas: 'Replicas',
  fallbackNote: (name: string): string => `Fallback of ${name}`,
  cloudFacts: 'Cloud flavor and quota',
  flavor: 'GPU flavor',
  quota: 'Quota left',
  fallback: 'If it cannot start there, use:'
} as const;

export class EndpointsPage {
  constructor(readonly page: IJupyterLabPageFixture) {
    this.bridge = new HpcBridgePage(page);
  }

  readonly bridge: HpcBridgePage;

  get section(): Locator {
    return this.bridge.panel.getByRole('region', {
      name: ENDPOINT_SELECTORS.endpointsRegion
    });
  }

  /** An endpoint's card. */
  endpoint(name: string): Locator {
    return this.section.getByRole('listitem', {
      name: ENDPOINT_SELECTORS.endpoint(name),
      exact: true
    });
  }

  /** The state badge of an endpoint. */
  state(name: string): Locator {
    return this.endpoint(name).locator(
      '.jp-hpc-Endpoint-header .jp-hpc-EndpointState'
    );
  }

  /** A button of an endpoint's card, by its accessible name. */
  button(name: string, label: string): Locator {
    return this.endpoint(name).getByRole('button', {
      name: label,
      exact: true
    });
  }

  /** Shows an endpoint's details (if hidden). */
  async expand(name: string): Promise<void> {
    const toggle = this.button(name, ENDPOINT_SELECTORS.details(name));
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') {
      await toggle.click();
    }
  }

  /** The replica rows of an endpoint's details. */
  replicas(name: string): Locator {
    return this.endpoint(name)
      .getByRole('table', { name: ENDPOINT_SELECTORS.replicas })
      .locator('tbody')
      .getByRole('row');
  }

  /**
   * Opens the create dialog and fills it in (the fields keep their defaults
   * otherwise); the dialog stays open.
   */
  async fillCreate(options: ICreateOptions): Promise<Locator> {
    await this.section
      .getByRole('button', { name: ENDPOINT_SELECTORS.create })
      .click();
    const dialog = this.bridge.dialog(ENDPOINT_SELECTORS.createDialog);
    await dialog.getByRole('textbox', { name: 'Name' }).fill(options.name);
    await dialog
      .getByRole('combobox', { name: 'Model' })
      .selectOption(options.model);
    await dialog
      .getByRole('combobox', { name: 'Provider' })
      .selectOption(options.provider);
    await dialog
      .getByRole('spinbutton', { name: 'GPUs' })
      .fill(String(options.gpus));
    if (options.fallback !== undefined) {
      await dialog
        .getByRole('combobox', { name: ENDPOINT_SELECTORS.fallback })
        .selectOption(options.fallback);
    }
    return dialog;
  }

  /** Fills in and submits the create dialog. */
  async create(options: ICreateOptions): Promise<void> {
    const dialog = await this.fillCreate(options);
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  }

  /**
   * Hides every endpoint card but `name`'s (until the list re-renders them),
   * so that a screenshot shows the test's endpoint only, whatever else the
   * user has.
   */
  async showOnly(name: string): Promise<void> {
    await this.section.getByRole('listitem').evaluateAll((items, label) => {
      for (const item of items) {
        if (item.getAttribute('aria-label') !== label) {
          (item as HTMLElement).style.display = 'none';
        }
      }
    }, ENDPOINT_SELECTORS.endpoint(name));
  }
}

export interface ICreateOptions {
  name: string;
  model: string;
  provider: string;
  gpus: number;
  /** A provider, or '' for no fallback; the dialog's default when absent. */
  fallback?: string;
}
