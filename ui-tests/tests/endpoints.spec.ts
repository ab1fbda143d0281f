/*
 * Model-serving endpoints through the real stack: the Endpoints section, the
 * bridge's controller starting llama-server (provider local), the
 * OpenAI-compatible gateway answering the chat box, keys, stop and delete.
 */
import * as path from 'path';

import { expect, test } from './fixtures';
import { EndpointsApi } from './helpers/endpoints-api';
import {
  ENDPOINT_SELECTORS as S,
  EndpointsPage
} from './helpers/endpoints-page';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
/** llama-server is healthy in about a second; the margin is for a loaded machine. */
const READY_TIMEOUT = 90_000;

test.describe('Endpoints', () => {
  test('create an endpoint from the panel, chat with it, make a key, stop and delete it', async ({
    page,
    playwright
  }) => {
    const api = await EndpointsApi.open(playwright);
    // A fixed name, so that the screenshot is the same on every run.
    const name = 'course-assistant';
    await api.removeByName(name);
    const endpoints = new EndpointsPage(page);
    try {
      await endpoints.bridge.open();
      await endpoints.section.scrollIntoViewIfNeeded();

      // The bridge's refusal appears in the dialog, with what was typed.
      await endpoints.create({
        name: 'not a name!',
        model: 'tiny-random',
        provider: 'local',
        gpus: 0
      });
      const dialog = endpoints.bridge.dialog(S.createDialog);
      await expect(dialog.getByRole('alert')).toContainText('letters, digits');
      await expect(
        dialog.getByRole('spinbutton', { name: 'GPUs' })
      ).toHaveValue('0');
      await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await expect(dialog).toHaveCount(0);

      await expect(endpoints.endpoint(name)).toBeVisible();
      await expect(endpoints.state(name)).toHaveText('ready', {
        timeout: READY_TIMEOUT
      });
      // Its replica is a process beside the bridge, at a loopback address.
      await expect(
        endpoints.replicas(name).filter({ hasText: 'ready' })
      ).toContainText(/: process \d+ on the bridge host\s*127\.0\.0\.1:\d+/);
      // A new endpoint is shown expanded, with its URL.
      await expect(endpoints.button(name, S.details(name))).toHaveAttribute(
        'aria-expanded',
        'true'
      );
      await expect(
        endpoints
          .endpoint(name)
          .getByRole('textbox', { name: 'Gateway URL', exact: true })
      ).toHaveValue(/\/services\/hpc-bridge\/v1$/);
      await expect(
        endpoints.endpoint(name).getByLabel('Python', { exact: true })
      ).toContainText('os.environ["HPCB_API_KEY"]');

      // A key: shown once, in its own dialog.
      await endpoints.button(name, S.newKey(name)).click();
      const ask = endpoints.bridge.dialog(`New key for ${name}`);
      await ask.getByRole('textbox', { name: 'Key name' }).fill('laptop');
      await ask
        .getByRole('textbox', { name: /Requests per minute/ })
        .fill('60');
      await ask.getByRole('button', { name: 'Create key' }).click();
      const shown = endpoints.bridge.dialog('Key laptop created');
      const field = shown.getByRole('textbox', { name: 'API key' });
      await expect(field).toHaveValue(/^hpcb_/);
      const secret = await field.inputValue();
      await expect(shown).toContainText('it will not be shown again');
      await expect(shown.getByLabel('Python', { exact: true })).toContainText(
        `api_key="${secret}"`
      );
      await shown.getByRole('button', { name: 'Close' }).click();
      const keys = endpoints
        .endpoint(name)
        .getByRole('table', { name: S.keys(name) });
      await expect(keys.getByRole('row', { name: 'Key laptop' })).toContainText(
        secret.slice(0, 9)
      );
      // Only its prefix stays on the page.
      await expect(endpoints.section).not.toContainText(secret);

      // The chat box answers through the gateway, token by token.
      await endpoints
        .endpoint(name)
        .getByRole('textbox', { name: S.message(name) })
        .fill('Hello! Who are you?');
      await endpoints.button(name, S.send(name)).click();
      const answer = endpoints
        .endpoint(name)
        .getByRole('log', { name: S.answer(name) });
      await expect(answer).toHaveText(/\S/);
      await expect(endpoints.button(name, S.send(name))).toHaveText('Send');
      await expect(endpoints.endpoint(name).getByRole('alert')).toHaveCount(0);
      await expect(
        keys.getByRole('row', { name: 'Key panel-try' })
      ).toBeVisible();
      // The gateway counted the request.
      await expect(
        endpoints
          .endpoint(name)
          .getByRole('table', { name: S.metrics(name) })
          .getByRole('row', { name: /Requests \/ errors/ })
      ).toContainText(/[1-9]\d* \/ 0/);

      await page.setViewportSize({ width: 1280, height: 1200 });
      // Only this endpoint, whatever else the user has (other tests' leftovers).
      await endpoints.showOnly(name);
      await endpoints.section.evaluate(node =>
        node.scrollIntoView({ block: 'start' })
      );
      await page.screenshot({
        path: path.join(IMAGES, 'endpoints-panel.png')
      });

      // Revoking a key asks first.
      await keys
        .getByRole('button', { name: 'Revoke key laptop', exact: true })
        .click();
      await endpoints.bridge.confirm('Revoke key laptop?', 'Revoke');
      await expect(keys.getByRole('row', { name: 'Key laptop' })).toHaveClass(
        /\bjp-mod-revoked\b/
      );

      await endpoints.button(name, S.stop(name)).click();
      await expect(endpoints.state(name)).toHaveText('stopped', {
        timeout: READY_TIMEOUT
      });
      await expect(endpoints.button(name, S.start(name))).toBeEnabled();

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
