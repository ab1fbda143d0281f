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
  metrics: (name: string): string => `Metrics of ${name}`
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

  /** Fills in and submits the create dialog (the fields keep their defaults otherwise). */
  async create(options: {
    name: string;
    model: string;
    provider: string;
    gpus: number;
  }): Promise<void> {
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
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  }
}
