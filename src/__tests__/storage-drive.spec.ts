/**
 * @jest-environment node
 */
import { ContentsManager, ServerConnection } from '@jupyterlab/services';
import type { Contents } from '@jupyterlab/services';
import { TierDrive } from '../storage/TierDrive';
import { entry, FakeStorageApi, tier, transfer } from './storage-fakes';
import { DriveContent } from '../storage/content';

const settings = ServerConnection.makeSettings({
  baseUrl: 'http://127.0.0.1:8888/'
});

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const base64 = (text: string) => Buffer.from(text).toString('base64');

function setup(options: Partial<TierDrive.IOptions> = {}) {
  const api = new FakeStorageApi();
  const drive = new TierDrive({
    api,
    tier: tier(),
    serverSettings: settings,
    transferPollMs: 0,
    ...options
  });
  const contents = new ContentsManager({ serverSettings: settings });
  contents.addDrive(drive);
  const changes: Contents.IChangedArgs[] = [];
  contents.fileChanged.connect((_, change) => changes.push(change));
  return { api, drive, contents, changes };
}

describe('TierDrive', () => {
  it('joins every page of a folder of 10,500 entries, following nextCursor', async () => {
    const { api, contents } = setup({ pageSize: 1000 });
    for (let i = 0; i < 10_500; i++) {
      api.files.set(
        `scratch/big/f${String(i).padStart(5, '0')}.csv`,
        encode('a')
      );
    }
    const model = await contents.get('scratch:big', { content: true });
    expect(model.type).toBe('directory');
    expect(model.path).toBe('scratch:big');
    expect(model.content).toHaveLength(10_500);
    expect(model.content[0].path).toBe('scratch:big/f00000.csv');
    expect(model.content[10_499].path).toBe('scratch:big/f10499.csv');
    const pages = api.calls.filter(call => call.startsWith('list'));
    expect(pages).toHaveLength(11);
    expect(pages[0]).toBe('list scratch:big -');
    expect(pages[10]).toBe('list scratch:big 10000');
  });

  it('lists the root without a stat; a group root and read-only tiers are not writable', async () => {
    const { api, contents } = setup({
      tier: tier({ name: 'scratch', groups: ['ml101'], class: 'project' })
    });
    api.folders.add('scratch/ml101');
    const root = await contents.get('scratch:', { content: true });
    expect(root.writable).toBe(false);
    expect(root.content.map((m: Contents.IModel) => m.path)).toEqual([
      'scratch:ml101'
    ]);
    expect(api.calls.some(call => call.startsWith('stat'))).toBe(false);

    const readOnly = setup({ tier: tier({ access: 'read' }) });
    expect((await readOnly.contents.get('scratch:')).writable).toBe(false);
    expect((await setup().contents.get('scratch:')).writable).toBe(true);
  });

  it('opens a CSV as text with its mimetype, a notebook as JSON, binary as base64', async () => {
    const { api, contents } = setup();
    api.files.set('scratch/d/data.csv', encode('a,b\n1,2\n'));
    api.files.set(
      'scratch/nb.ipynb',
      encode(JSON.stringify(DriveContent.emptyNotebook()))
    );
    api.files.set('scratch/img.png', new Uint8Array([0x89, 0x50, 0xff, 0x00]));

    const csv = await contents.get('scratch:d/data.csv', {
      content: true,
      format: 'text'
    });
    expect(csv).toMatchObject({
      path: 'scratch:d/data.csv',
      type: 'file',
      format: 'text',
      mimetype: 'text/csv',
      content: 'a,b\n1,2\n'
    });

    const notebook = await contents.get('scratch:nb.ipynb', {
      type: 'notebook',
      content: true
    });
    expect(notebook.type).toBe('notebook');
    expect(notebook.format).toBe('json');
    expect(notebook.content.nbformat).toBe(4);

    const png = await contents.get('scratch:img.png', { content: true });
    expect(png.format).toBe('base64');
    expect(Buffer.from(png.content, 'base64')).toEqual(
      Buffer.from([0x89, 0x50, 0xff, 0x00])
    );
  });

  it('keeps chunks until the last one and sends the file as one PUT', async () => {
    const { api, contents, changes } = setup();
    const chunks = ['first-', 'second-', 'last'];
    const numbers = [1, 2, -1];
    let last: Contents.IModel | null = null;
    for (let i = 0; i < chunks.length; i++) {
      last = await contents.save('scratch:up/data.csv', {
        type: 'file',
        format: 'base64',
        name: 'data.csv',
        chunk: numbers[i],
        content: base64(chunks[i])
      });
      if (numbers[i] !== -1) {
        expect(api.puts).toHaveLength(0);
      }
    }
    expect(api.puts).toHaveLength(1);
    expect(api.puts[0].path).toBe('up/data.csv');
    expect(decode(api.puts[0].bytes)).toBe('first-second-last');
    expect(last?.path).toBe('scratch:up/data.csv');
    expect(changes.map(change => change.type)).toEqual(['save']);
    expect(changes[0].newValue?.path).toBe('scratch:up/data.csv');
  });

  it('refuses a chunk whose predecessors never arrived, writing nothing', async () => {
    const { api, contents } = setup();
    await expect(
      contents.save('scratch:x.bin', {
        type: 'file',
        format: 'base64',
        chunk: 2,
        content: base64('x')
      })
    ).rejects.toThrow(/chunk 2 arrived without the chunks before it/);
    expect(api.puts).toHaveLength(0);
  });

  it('saves a notebook as JSON and text as UTF-8', async () => {
    const { api, contents } = setup();
    await contents.save('scratch:n.ipynb', {
      type: 'notebook',
      format: 'json',
      content: DriveContent.emptyNotebook()
    });
    expect(JSON.parse(decode(api.puts[0].bytes))).toEqual(
      DriveContent.emptyNotebook()
    );
    await contents.save('scratch:t.txt', {
      type: 'file',
      format: 'text',
      content: 'héllo'
    });
    expect(decode(api.puts[1].bytes)).toBe('héllo');
  });

  it('creates untitled files, notebooks and folders with free names', async () => {
    const { api, contents, changes } = setup();
    api.files.set('scratch/w/untitled.txt', encode(''));
    const file = await contents.newUntitled({
      path: 'scratch:w',
      type: 'file'
    });
    expect(file.path).toBe('scratch:w/untitled1.txt');
    const notebook = await contents.newUntitled({
      path: 'scratch:w',
      type: 'notebook'
    });
    expect(notebook.path).toBe('scratch:w/Untitled.ipynb');
    expect(notebook.type).toBe('notebook');
    const folder = await contents.newUntitled({
      path: 'scratch:w',
      type: 'directory'
    });
    expect(folder.path).toBe('scratch:w/Untitled Folder');
    expect(api.calls).toContain('mkdir scratch:w/Untitled Folder');
    expect(changes.map(change => change.type)).toEqual(['new', 'new', 'new']);
  });

  it('renames and deletes with drive-prefixed paths in the signals', async () => {
    const { api, contents, changes } = setup();
    api.files.set('scratch/a.csv', encode('1'));
    const renamed = await contents.rename('scratch:a.csv', 'scratch:b.csv');
    expect(renamed.path).toBe('scratch:b.csv');
    await contents.delete('scratch:b.csv');
    expect(api.calls).toEqual(
      expect.arrayContaining([
        'rename scratch:a.csv b.csv',
        'remove scratch:b.csv'
      ])
    );
    expect(changes.map(c => [c.type, c.oldValue?.path])).toEqual([
      ['rename', 'scratch:a.csv'],
      ['delete', 'scratch:b.csv']
    ]);
  });

  it('copies on the server, follows the transfer and names the copy', async () => {
    const { api, contents } = setup();
    api.files.set('scratch/a.csv', encode('1'));
    api.transfers = [
      transfer({
        id: 'c1',
        state: 'running',
        to: { tier: 'scratch', path: 'a-Copy.csv' }
      }),
      transfer({
        id: 'c1',
        state: 'running',
        bytesDone: 5,
        to: { tier: 'scratch', path: 'a-Copy.csv' }
      }),
      transfer({
        id: 'c1',
        state: 'completed',
        bytesDone: 10,
        to: { tier: 'scratch', path: 'a-Copy.csv' }
      })
    ];
    const copy = await contents.copy('scratch:a.csv', 'scratch:');
    expect(copy.path).toBe('scratch:a-Copy.csv');
    expect(api.calls.filter(call => call.startsWith('transfer'))).toEqual([
      'transfer c1',
      'transfer c1'
    ]);
  });

  it('rejects with the transfer error when a copy fails', async () => {
    const { api, contents } = setup();
    api.files.set('scratch/a.csv', encode('1'));
    api.transfers = [
      transfer({
        state: 'failed',
        error: 'The archive quota (50 GiB) is full.'
      })
    ];
    await expect(contents.copy('scratch:a.csv', 'scratch:d')).rejects.toThrow(
      'The archive quota (50 GiB) is full.'
    );
  });

  it('passes the bridge errors on as they are', async () => {
    const { api, contents } = setup();
    api.failWith = new Error("You may not read bob's files.");
    await expect(contents.get('scratch:x', { content: true })).rejects.toThrow(
      "You may not read bob's files."
    );
  });

  it('gives a folder without a modification time no time, not 1970', async () => {
    const { api, contents } = setup();
    api.folders.add('scratch/s3-prefix');
    const folder = entry('s3-prefix', {
      type: 'directory',
      size: null,
      lastModified: null
    });
    jest.spyOn(api, 'stat').mockResolvedValue(folder);
    jest.spyOn(api, 'list').mockResolvedValue({
      path: '',
      entries: [folder, entry('dated.csv')],
      nextCursor: null
    });

    const model = await contents.get('scratch:s3-prefix', { content: false });
    expect(model.last_modified).toBe('');
    expect(model.created).toBe('');
    const root = await contents.get('scratch:', { content: true });
    const times = root.content.map((m: Contents.IModel) => m.last_modified);
    expect(times).toEqual(['', '2026-11-25T10:00:00.000Z']);
  });

  it('serves files by the tier name alone, before the bridge described the tier', async () => {
    const { api, drive, contents } = setup({ tier: 'scratch' });
    api.files.set('scratch/d/data.csv', encode('a,b\n1,2\n'));
    expect(drive.name).toBe('scratch');
    expect(drive.tier).toBeNull();
    expect((await contents.get('scratch:')).writable).toBe(false);

    const csv = await contents.get('scratch:d/data.csv', {
      content: true,
      format: 'text'
    });
    expect(csv.content).toBe('a,b\n1,2\n');

    drive.tier = tier();
    expect((await contents.get('scratch:')).writable).toBe(true);
  });

  it('keeps no checkpoints', async () => {
    const { contents } = setup();
    expect(await contents.listCheckpoints('scratch:a')).toEqual([]);
    expect((await contents.createCheckpoint('scratch:a')).id).toBeTruthy();
  });

  it('is disposable', () => {
    const { drive } = setup();
    drive.dispose();
    expect(drive.isDisposed).toBe(true);
  });
});
