/*
 * Page object of the Storage section and the tier file browsers.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { HpcBridgePage } from './hpc-bridge-page';

export const STORAGE_SELECTORS = {
  /** Accessible name of the Storage section (a region). */
  storageRegion: 'Storage',
  /** A tier's card in the section. */
  tier: (name: string): string => `Tier ${name}`,
  mount: (name: string): string => `Mount ${name}`,
  unmount: (name: string): string => `Unmount ${name}`,
  shareLink: (name: string): string => `Share link from ${name}`,
  useInCode: (name: string): string => `Use ${name} in code`,
  upload: (name: string): string => `Upload to ${name}`,
  copyToTier: (name: string): string => `Copy from ${name} to another tier`,
  /** Accessible name of the list of uploads and copies started from a tier. */
  transfers: (name: string): string => `Transfers of ${name}`,
  /** The notification that ends an upload. */
  uploaded: (file: string, tier: string): string =>
    `Uploaded ${file} to ${tier}`,
  progress: (label: string): string => `Progress of ${label}`,
  /** Widget id of a tier's file browser. */
  browserId: (name: string): string => `hpc-bridge-tier-${name}`
} as const;

export class StoragePage {
  constructor(readonly page: IJupyterLabPageFixture) {
    this.bridge = new HpcBridgePage(page);
  }

  readonly bridge: HpcBridgePage;

  get section(): Locator {
    return this.bridge.panel.getByRole('region', {
      name: STORAGE_SELECTORS.storageRegion
    });
  }

  tier(name: string): Locator {
    return this.section.getByRole('listitem', {
      name: STORAGE_SELECTORS.tier(name),
      exact: true
    });
  }

  /** A tier card's button, by its accessible name. */
  tierButton(tier: string, name: string): Locator {
    return this.tier(tier).getByRole('button', { name, exact: true });
  }

  /**
   * An upload or copy shown at the tier it was started from, by its label (a
   * file name, `a:x → b:y`).
   */
  transfer(tier: string, label: string): Locator {
    return this.tier(tier)
      .getByRole('list', { name: STORAGE_SELECTORS.transfers(tier) })
      .getByRole('listitem', { name: label, exact: true });
  }

  /** The progress bar of a transfer. */
  progress(tier: string, label: string): Locator {
    return this.transfer(tier, label).getByRole('progressbar', {
      name: STORAGE_SELECTORS.progress(label),
      exact: true
    });
  }

  /** The file browser of a mounted tier. */
  browser(name: string): Locator {
    return this.page.locator(`#${STORAGE_SELECTORS.browserId(name)}`);
  }

  /** The breadcrumbs of a tier's file browser. */
  crumbs(name: string): Locator {
    return this.browser(name).locator('.jp-BreadCrumbs');
  }

  /** The label at the root of a tier's breadcrumbs (drawn by the stylesheet). */
  async crumbRoot(name: string): Promise<string> {
    const home = this.crumbs(name).locator('.jp-BreadCrumbs-home');
    const content = await home.evaluate(
      node => getComputedStyle(node, '::after').content
    );
    return JSON.parse(content) as string;
  }

  /** An item of a tier's file browser listing. */
  item(tier: string, name: string): Locator {
    return this.browser(tier).locator('.jp-DirListing-item', {
      has: this.page.locator('.jp-DirListing-itemText', { hasText: name })
    });
  }

  /** Mounts a tier from the section (if needed) and waits for its browser. */
  async mount(name: string): Promise<void> {
    const card = this.tier(name);
    const mount = card.getByRole('button', {
      name: STORAGE_SELECTORS.mount(name),
      exact: true
    });
    if (await mount.isVisible()) {
      await mount.click();
    }
    await this.browser(name).waitFor({ state: 'visible' });
  }

  /** Shows a tier's browser (its tab in the left side bar). */
  async showBrowser(name: string): Promise<void> {
    const tab = this.page.locator(
      `.jp-SideBar [data-id="${STORAGE_SELECTORS.browserId(name)}"]`
    );
    if ((await tab.getAttribute('aria-selected')) !== 'true') {
      await tab.click();
    }
    await this.browser(name).waitFor({ state: 'visible' });
  }

  /** Opens a folder of a tier's browser by double click. */
  async openFolder(tier: string, name: string): Promise<void> {
    await this.item(tier, name).dblclick();
    await this.crumbs(tier).getByText(name, { exact: true }).waitFor();
  }
}
