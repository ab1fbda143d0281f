/*
 * A user's own model through the real stack: the stack's GGUF lands in the archive tier
 * (as a job would write it), "Register as Model…" in the tier's file browser registers
 * it, the Endpoints section lists it with its source and size, and Delete removes it.
 */
import * as fs from 'fs';

import { expect, test } from './fixtures';
import { StorageApi } from './helpers/storage-api';
import { StoragePage } from './helpers/storage-page';

/** The demo model stack/up generates (a llama of about 157k parameters). */
const GGUF = '/opt/hpc-bridge/models/tiny-random.gguf';

const SELECTORS = {
  registerMenu: 'Register as Model…',
  registerDialog: (file: string): string => `Register ${file} as a model`,
  nameField: 'Model name',
  register: 'Register',
  userModels: 'Your models',
  deleteModel: (name: string): string => `Delete model ${name}`,
  confirmDelete: (name: string): string => `Delete model ${name}?`
} as const;

test.describe('User models', () => {
  test('register a GGUF of a tier from its file browser; the Endpoints section lists it until deleted', async ({
    page,
    playwright
  }) => {
    const run = Date.now().toString(36);
    const folder = `ui-models-${run}`;
    const name = `ui-model-${run}`;
    const api = await StorageApi.open(playwright);
    await api.put('archive', `${folder}/model.gguf`, fs.readFileSync(GGUF));
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage.mount('archive');
      await storage.openFolder('archive', folder);
      await storage.item('archive', 'model.gguf').click({ button: 'right' });
      await page
        .getByRole('menuitem', { name: SELECTORS.registerMenu })
        .click();
      const dialog = storage.bridge.dialog(
        SELECTORS.registerDialog('model.gguf')
      );
      await expect(dialog).toContainText(`archive:${folder}/model.gguf`);
      const field = dialog.getByRole('textbox', {
        name: SELECTORS.nameField,
        exact: true
      });
      // The name proposed from the file.
      await expect(field).toHaveValue('model');
      await field.fill(name);
      await dialog
        .getByRole('button', { name: SELECTORS.register, exact: true })
        .click();
      await expect(dialog).toHaveCount(0);

      const models = storage.bridge
        .section('Endpoints')
        .getByRole('group', { name: SELECTORS.userModels });
      await models.scrollIntoViewIfNeeded();
      const row = models.getByRole('row', { name });
      await expect(row).toBeVisible();
      await expect(row).toContainText(`archive:${folder}/model.gguf`);
      await expect(row).toContainText('registered, not served');

      await row
        .getByRole('button', { name: SELECTORS.deleteModel(name) })
        .click();
      await storage.bridge.confirm(SELECTORS.confirmDelete(name), 'Delete');
      await expect(row).toHaveCount(0);
    } finally {
      await api.remove('archive', `${folder}/model.gguf`);
      await api.dispose();
    }
  });
});
