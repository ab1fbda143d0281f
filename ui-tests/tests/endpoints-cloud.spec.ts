/*
 * An endpoint on the stack's OpenStack cloud, from the panel: the create
 * dialog shows the GPU flavor and the project's quota from Nova, Nova boots
 * a server whose fake hypervisor really runs llama-server at the server's
 * address, the chat box answers through the gateway, stop and delete.
 * Needs `./stack/up --with-openstack`; runs only with HPC_UI_OPENSTACK=1
 * (playwright.config.ts).
 */
import * as path from 'path';

import { expect, test } from './fixtures';
import { EndpointsApi } from './helpers/endpoints-api';
import {
  ENDPOINT_SELECTORS as S,
  EndpointsPage
} from './helpers/endpoints-page';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
/** Keystone, Nova scheduling and the instance's boot: seconds, with a margin for a loaded machine. */
const READY_TIMEOUT = 150_000;

test.describe('Endpoints on the cloud', () => {
  test.setTimeout(300_000);

  test('create an endpoint on OpenStack from the panel, chat with it, stop and delete it', async ({
    page,
    playwright
  }) => {
    const api = await EndpointsApi.open(playwright);
    const name = 'cloud-assistant';
    await api.removeByName(name);
    const providers = await api.providers();
    const cloud = providers.find(p => p.name === 'openstack');
    expect(
      cloud,
      'the bridge has no openstack provider: start the stack with ./stack/up --with-openstack'
    ).toBeDefined();
    expect(cloud?.problem).toBeUndefined();
    const title = cloud?.title ?? 'openstack';
    const endpoints = new EndpointsPage(page);
    try {
      await endpoints.bridge.open();
      await endpoints.section.scrollIntoViewIfNeeded();

      // The dialog tells the flavor that 1 GPU maps to and the quota left.
      const dialog = await endpoints.fillCreate({
        name,
        model: 'tiny-random',
        provider: 'openstack',
        gpus: 1,
        fallback: ''
      });
      await expect(
        dialog.getByRole('combobox', { name: 'Provider' })
      ).toContainText(title);
      const facts = dialog.getByRole('group', { name: S.cloudFacts });
      await expect(facts.getByLabel(S.flavor)).toContainText('g1.gpu');
      await expect(facts.getByLabel(S.flavor)).toContainText('GPUs 1');
      await expect(facts.getByLabel(S.quota)).toContainText(
        /instances (\d+ of \d+|unlimited) · cores (\d+ of \d+|unlimited) · RAM (\d+ of \d+ MB|unlimited)/
      );
      // Another GPU count maps to another flavor.
      await dialog.getByRole('spinbutton', { name: 'GPUs' }).fill('0');
      await expect(facts.getByLabel(S.flavor)).toContainText('m1.small');
      await dialog.getByRole('spinbutton', { name: 'GPUs' }).fill('1');
      await expect(facts.getByLabel(S.flavor)).toContainText('g1.gpu');
      // The fallback offers the model's other providers, not the cloud itself.
      const fallback = dialog.getByRole('combobox', { name: S.fallback });
      await expect(fallback.locator('option')).toHaveText([
        'No fallback',
        ...providers.filter(p => p.name !== 'openstack').map(p => p.title)
      ]);
      await dialog.locator('.jp-Dialog-content').screenshot({
        path: path.join(IMAGES, 'endpoints-cloud-dialog.png')
      });
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await expect(dialog).toHaveCount(0);

      await expect(endpoints.state(name)).toHaveText('ready', {
        timeout: READY_TIMEOUT
      });
      // The replica runs on a cloud server, at the address Nova gave it.
      const replica = endpoints.replicas(name).filter({ hasText: 'ready' });
      await expect(replica).toHaveCount(1);
      await expect(replica).toContainText(`${title}: cloud server`);
      const listed = await api.find(name);
      const live = listed?.replicas.find(r => r.state === 'ready');
      expect(live?.provider).toBe('openstack');
      expect(live?.address).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
      await expect(replica).toContainText(live?.address ?? '');
      await expect(endpoints.endpoint(name).getByRole('note')).toHaveCount(0);

      // The chat box answers through the gateway, from the cloud server.
      await endpoints
        .endpoint(name)
        .getByRole('textbox', { name: S.message(name) })
        .fill('Hello from the cloud!');
      await endpoints.button(name, S.send(name)).click();
      await expect(
        endpoints.endpoint(name).getByRole('log', { name: S.answer(name) })
      ).toHaveText(/\S/);
      await expect(endpoints.button(name, S.send(name))).toHaveText('Send');
      await expect(endpoints.endpoint(name).getByRole('alert')).toHaveCount(0);

      await page.setViewportSize({ width: 1280, height: 1200 });
      await endpoints.showOnly(name);
      await endpoints.section.evaluate(node =>
        node.scrollIntoView({ block: 'start' })
      );
      await page.screenshot({
        path: path.join(IMAGES, 'endpoints-cloud.png')
      });

      // Stop deletes the server: no replica is left running.
      await endpoints.button(name, S.stop(name)).click();
      await expect(endpoints.state(name)).toHaveText('stopped', {
        timeout: READY_TIMEOUT
      });
      await expect(
        endpoints.replicas(name).filter({ hasText: /ready|starting|pending/ })
      ).toHaveCount(0);
      const stopped = await api.find(name);
      expect(
        stopped?.replicas.filter(
          r => r.state !== 'stopped' && r.state !== 'failed'
        )
      ).toEqual([]);

      await endpoints.button(name, S.remove(name)).click();
      await endpoints.bridge.confirm(`Delete endpoint ${name}?`, 'Delete');
      await expect(endpoints.endpoint(name)).toHaveCount(0);
      expect(await api.find(name)).toBeNull();
    } finally {
      await api.removeByName(name);
      await api.dispose();
    }
  });
});
