/**
 * @jest-environment node
 */
import { Notification } from '@jupyterlab/apputils';
import { StorageModel } from '../storage/StorageModel';
import { TransferNotifications } from '../storage/TransferNotifications';
import type { Upload } from '../storage/upload';
import { identityTrans } from './helpers';
import { FakeStorageApi } from './storage-fakes';

// The JupyterLab UI packages are ES modules that this Jest setup does not transform.
jest.mock('@jupyterlab/apputils', () => ({
  Notification: { emit: jest.fn(() => 'n1'), update: jest.fn(() => true) }
}));

const emit = jest.mocked(Notification.emit);
const update = jest.mocked(Notification.update);

/** A model whose uploads report half, then resolve or fail. */
async function model(failure?: Error): Promise<StorageModel> {
  const storage = new StorageModel({
    api: new FakeStorageApi(),
    upload: async (options: Upload.IOptions) => {
      options.onProgress?.({
        mode: 'stream',
        phase: 'upload',
        loaded: 2,
        total: 4
      });
      if (failure) {
        throw failure;
      }
      return { path: options.path } as Awaited<
        ReturnType<typeof Upload.upload>
      >;
    }
  });
  await storage.refresh();
  new TransferNotifications(storage, identityTrans());
  return storage;
}

describe('TransferNotifications', () => {
  beforeEach(() => {
    emit.mockClear();
    update.mockClear();
  });

  it('shows an upload in progress, then "Uploaded NAME to TIER"', async () => {
    const storage = await model();
    await storage.upload('scratch', new File(['abcd'], 'a.csv'));
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit).toHaveBeenCalledWith(
      'Uploading a.csv to scratch…',
      'in-progress',
      { progress: 0, autoClose: false }
    );
    expect(update).toHaveBeenCalledWith({
      id: 'n1',
      progress: 0.5,
      message: 'Uploading a.csv to scratch…'
    });
    expect(update).toHaveBeenLastCalledWith(
      expect.objectContaining({
        id: 'n1',
        type: 'success',
        message: 'Uploaded a.csv to scratch',
        progress: 1
      })
    );
  });

  it('says why an upload failed, in a new notification if the first was closed', async () => {
    const storage = await model(new Error('quota exceeded'));
    update.mockReturnValue(false);
    await expect(
      storage.upload('scratch', new File(['abcd'], 'a.csv'))
    ).rejects.toThrow('quota exceeded');
    expect(emit).toHaveBeenLastCalledWith(
      'Upload of a.csv to scratch failed: quota exceeded',
      'error',
      { autoClose: false }
    );
    update.mockReturnValue(true);
  });
});
