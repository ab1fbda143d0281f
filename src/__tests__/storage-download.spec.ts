/**
 * @jest-environment node
 */
import { ServerConnection } from '@jupyterlab/services';
import { TierDrive } from '../storage/TierDrive';
import { FakeStorageApi, tier } from './storage-fakes';

const settings = ServerConnection.makeSettings({
  baseUrl: 'http://127.0.0.1:8888/'
});

interface ILink {
  href: string;
  download: string;
  click(): void;
}

/** Downloads `path` and answers the link the drive clicked (a page of one anchor). */
async function download(drive: TierDrive, path: string): Promise<ILink> {
  const clicked: ILink[] = [];
  const page = {
    createElement: () => {
      const link: ILink = {
        href: '',
        download: '',
        click: () => clicked.push(link)
      };
      return link;
    },
    body: { appendChild: () => undefined, removeChild: () => undefined }
  };
  Object.assign(globalThis, { document: page });
  try {
    await drive.download(path);
  } finally {
    Reflect.deleteProperty(globalThis, 'document');
  }
  expect(clicked).toHaveLength(1);
  return clicked[0];
}

describe('TierDrive.download', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    URL.createObjectURL = jest.fn(() => 'blob:http://lab/1');
    URL.revokeObjectURL = jest.fn();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('lets the browser save a file of an S3 tier straight from a presigned attachment URL', async () => {
    const api = new FakeStorageApi();
    api.presignedUrl = 'http://s3/hpc-archive/alice/big.bin?X-Amz-Signature=1';
    api.files.set('archive/big.bin', new Uint8Array(16));
    const drive = new TierDrive({
      api,
      tier: tier({ name: 'archive' }),
      serverSettings: settings
    });

    const link = await download(drive, '/big.bin');

    expect(link.href).toBe(api.presignedUrl);
    expect(link.download).toBe('big.bin');
    expect(api.calls).toContain('codeAccess archive:big.bin download');
    expect(api.calls.some(call => call.startsWith('content'))).toBe(false);
    expect(URL.createObjectURL).not.toHaveBeenCalled();
  });

  it('reads through the bridge where the tier has no URL (sftp) or gives none (sensitive)', async () => {
    for (const [described, url] of [
      [tier({ name: 'scratch' }), null],
      [tier({ name: 'scratch', codeAccess: false }), 'http://unused']
    ] as const) {
      const api = new FakeStorageApi();
      api.presignedUrl = url;
      api.files.set('scratch/data.csv', new TextEncoder().encode('a,b\n'));
      const drive = new TierDrive({
        api,
        tier: described,
        serverSettings: settings
      });

      const link = await download(drive, 'data.csv');

      expect(link.href).toBe('blob:http://lab/1');
      expect(link.download).toBe('data.csv');
      expect(api.calls.some(call => call.startsWith('content'))).toBe(true);
    }
  });
});
