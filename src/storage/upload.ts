import {
  type FileEntry,
  Routes,
  type Tier,
  UploadResultSchema
} from '@hpc-bridge/server/contract';
import { md5 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { IStorageApi } from './api';
import { DriveContent } from './content';

/**
 * Large-file uploads to a tier, with progress, never holding the whole file in
 * memory:
 *
 * - `direct`: a multipart session with presigned part URLs; the browser PUTs
 *   each part straight to S3 (a few in parallel) with its `Content-MD5`, then
 *   the bridge completes the upload. If a part cannot reach S3 at all (CORS,
 *   network), the session is aborted and the file is streamed instead.
 * - `stream`: one `PUT …/content` through the bridge with the file's SHA-256
 *   in `x-checksum-sha256` (computed first, 8 MB at a time).
 */
export namespace Upload {
  export type Mode = 'direct' | 'bridge' | 'stream';
  export type Phase = 'checksum' | 'upload' | 'complete';

  export interface IProgress {
    mode: Mode;
    phase: Phase;
    /** Bytes hashed (`checksum`) or sent (`upload`). */
    loaded: number;
    total: number;
  }

  /** A request as a transport sends it. */
  export interface IRequest {
    method: 'PUT';
    url: string;
    headers: Record<string, string>;
    body: Blob | ArrayBuffer;
    onProgress?: (loaded: number) => void;
    signal?: AbortSignal;
  }

  /** An answer; `status` 0 when there was none (network, CORS). */
  export interface IResponse {
    status: number;
    header(name: string): string | null;
    text: string;
  }

  export type Transport = (request: IRequest) => Promise<IResponse>;

  export interface IOptions {
    api: IStorageApi;
    tier: Tier;
    /** Target path in the tier. */
    path: string;
    file: Blob;
    overwrite?: boolean;
    onProgress?: (progress: IProgress) => void;
    signal?: AbortSignal;
    /** Defaults to `XMLHttpRequest` (upload progress). */
    transport?: Transport;
    /** Parts sent at the same time (direct and bridge modes). */
    parallel?: number;
    /** Files above this size are streamed without a SHA-256 (hashing takes too long). */
    checksumLimit?: number;
  }

  /** Slices hashed at a time. */
  export const HASH_SLICE = 8 * 1024 * 1024;
  export const PARALLEL_PARTS = 3;
  /** ~10 s of hashing in a browser; the bridge still checks the size above it. */
  export const CHECKSUM_LIMIT = 2 * 1024 * 1024 * 1024;

  /** An upload failed at the network level (no HTTP answer, e.g. CORS). */
  export class NetworkError extends Error {
    constructor(message: string) {
      super(message);
      this.name = 'NetworkError';
    }
  }

  /** How a file of `size` bytes goes to `tier`. */
  export function plan(tier: Tier, size: number): 'direct' | 'stream' {
    return tier.directUpload && tier.adapter === 's3' && size > 0
      ? 'direct'
      : 'stream';
  }

  /** The byte ranges of a session's parts: every part but the last has `partSize` bytes. */
  export function partRanges(
    size: number,
    partSize: number,
    partCount: number
  ): Array<{ partNumber: number; start: number; end: number }> {
    const ranges = [];
    for (let i = 0; i < partCount; i++) {
      const start = i * partSize;
      const end = i === partCount - 1 ? size : Math.min(size, start + partSize);
      ranges.push({ partNumber: i + 1, start, end });
    }
    return ranges;
  }

  /** Upload `file`; resolves with the entry the bridge stored. */
  export async function upload(options: IOptions): Promise<FileEntry> {
    if (plan(options.tier, options.file.size) === 'direct') {
      try {
        return await multipart(options);
      } catch (error) {
        if (!(error instanceof NetworkError)) {
          throw error;
        }
        // S3 is not reachable from this browser: go through the bridge.
      }
    }
    return stream(options);
  }

  /** Streamed through the bridge, with the SHA-256 checked by the bridge. */
  export async function stream(options: IOptions): Promise<FileEntry> {
    const { api, tier, path, file } = options;
    const total = file.size;
    const limit = options.checksumLimit ?? CHECKSUM_LIMIT;
    const checksum =
      total <= limit
        ? await sha256Hex(
            file,
            loaded =>
              options.onProgress?.({
                mode: 'stream',
                phase: 'checksum',
                loaded,
                total
              }),
            options.signal
          )
        : null;
    const prepared = await api.prepare(Routes.tierContent(tier.name), {
      path,
      overwrite: options.overwrite === false ? 'false' : 'true'
    });
    const headers: Record<string, string> = {
      ...prepared.headers,
      'Content-Type': 'application/octet-stream'
    };
    if (checksum) {
      headers['x-checksum-sha256'] = checksum;
    }
    const send = options.transport ?? xhrTransport;
    const response = await send({
      method: 'PUT',
      url: prepared.url,
      headers,
      body: file,
      signal: options.signal,
      onProgress: loaded =>
        options.onProgress?.({ mode: 'stream', phase: 'upload', loaded, total })
    });
    if (response.status < 200 || response.status >= 300) {
      throw prepared.error(response.status, response.text);
    }
    options.onProgress?.({
      mode: 'stream',
      phase: 'complete',
      loaded: total,
      total
    });
    return UploadResultSchema.parse(JSON.parse(response.text)).entry;
  }

  /** A multipart session: parts straight to S3 (direct) or through the bridge. */
  export async function multipart(options: IOptions): Promise<FileEntry> {
    const { api, tier, path, file } = options;
    const total = file.size;
    const session = await api.startUpload(tier.name, {
      path,
      size: total,
      overwrite: options.overwrite ?? true,
      direct: true
    });
    const mode: Mode = session.mode;
    const send = options.transport ?? xhrTransport;
    const sent = new Map<number, number>();
    const report = () =>
      options.onProgress?.({
        mode,
        phase: 'upload',
        loaded: [...sent.values()].reduce((a, b) => a + b, 0),
        total
      });
    const urls = new Map(
      session.parts.map(part => [part.partNumber, part.url])
    );
    const ranges = partRanges(total, session.partSize, session.partCount);
    const etags: Array<{ partNumber: number; etag: string }> = [];
    // Stops the parts still in flight once one failed.
    const controller = new AbortController();
    const cancel = () => controller.abort();
    options.signal?.addEventListener('abort', cancel);

    const sendPart = async (range: (typeof ranges)[number]) => {
      const body = await file.slice(range.start, range.end).arrayBuffer();
      const contentMd5 = DriveContent.toBase64(md5(new Uint8Array(body)));
      let url: string;
      let headers: Record<string, string>;
      let error: (status: number, text: string) => Error;
      if (mode === 'direct') {
        const presigned = urls.get(range.partNumber);
        if (!presigned) {
          throw new Error(
            `The bridge sent no URL for part ${range.partNumber} of ${path}.`
          );
        }
        url = presigned;
        headers = {};
        error = (status, text) =>
          new Error(
            `S3 refused part ${range.partNumber} of ${path} (HTTP ${status}): ${s3Message(text)}`
          );
      } else {
        const prepared = await api.prepare(
          Routes.tierUploadPart(tier.name, session.uploadId, range.partNumber)
        );
        url = prepared.url;
        headers = { ...prepared.headers };
        error = prepared.error;
      }
      headers['Content-MD5'] = contentMd5;
      const response = await send({
        method: 'PUT',
        url,
        headers,
        body,
        signal: controller.signal,
        onProgress: loaded => {
          sent.set(range.partNumber, loaded);
          report();
        }
      });
      if (response.status === 0) {
        throw new NetworkError(
          `Part ${range.partNumber} of ${path} could not reach ${mode === 'direct' ? 'S3' : 'the bridge'}.`
        );
      }
      if (response.status < 200 || response.status >= 300) {
        throw error(response.status, response.text);
      }
      const etag = response.header('ETag');
      if (!etag) {
        // S3 answered but the browser may not read the ETag (CORS expose
        // headers): the upload cannot be completed this way.
        throw new NetworkError(
          `S3 answered part ${range.partNumber} of ${path} without a readable ETag.`
        );
      }
      sent.set(range.partNumber, range.end - range.start);
      report();
      etags.push({ partNumber: range.partNumber, etag });
    };

    try {
      await runPool(
        ranges,
        options.parallel ?? PARALLEL_PARTS,
        sendPart,
        cancel
      );
      options.onProgress?.({ mode, phase: 'complete', loaded: total, total });
      return await api.completeUpload(tier.name, session.uploadId, {
        parts: etags.sort((a, b) => a.partNumber - b.partNumber)
      });
    } catch (error) {
      controller.abort();
      await api.abortUpload(tier.name, session.uploadId).catch(() => undefined);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
    }
  }

  /** SHA-256 of a blob in hex, read `HASH_SLICE` bytes at a time. */
  export async function sha256Hex(
    file: Blob,
    onProgress?: (loaded: number) => void,
    signal?: AbortSignal
  ): Promise<string> {
    const hash = sha256.create();
    for (let start = 0; start < file.size; start += HASH_SLICE) {
      if (signal?.aborted) {
        throw new DOMException('The upload was cancelled.', 'AbortError');
      }
      const end = Math.min(file.size, start + HASH_SLICE);
      hash.update(new Uint8Array(await file.slice(start, end).arrayBuffer()));
      onProgress?.(end);
    }
    return Array.from(hash.digest(), byte =>
      byte.toString(16).padStart(2, '0')
    ).join('');
  }

  /** `XMLHttpRequest`, for its upload progress events. */
  export const xhrTransport: Transport = request =>
    new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, request.url);
      for (const [name, value] of Object.entries(request.headers)) {
        xhr.setRequestHeader(name, value);
      }
      xhr.upload.onprogress = event => request.onProgress?.(event.loaded);
      xhr.onload = () =>
        resolve({
          status: xhr.status,
          header: name => xhr.getResponseHeader(name),
          text: xhr.responseText
        });
      xhr.onerror = () => resolve({ status: 0, header: () => null, text: '' });
      xhr.onabort = () =>
        reject(new DOMException('The upload was cancelled.', 'AbortError'));
      if (request.signal?.aborted) {
        xhr.abort();
        return;
      }
      request.signal?.addEventListener('abort', () => xhr.abort());
      xhr.send(request.body);
    });

  /** Runs `work` on `items`, `parallel` at a time; stops at the first failure and rethrows it. */
  async function runPool<T>(
    items: T[],
    parallel: number,
    work: (item: T) => Promise<void>,
    onFailure: () => void
  ): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | null = null;
    const worker = async () => {
      while (failure === null && next < items.length) {
        const item = items[next++];
        try {
          await work(item);
        } catch (error) {
          if (failure === null) {
            failure = { error };
            onFailure();
          }
        }
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.max(1, Math.min(parallel, items.length)) },
        worker
      )
    );
    if (failure !== null) {
      throw (failure as { error: unknown }).error;
    }
  }

  function s3Message(text: string): string {
    const match = /<Message>([^<]*)<\/Message>/.exec(text);
    return match ? match[1] : text.slice(0, 200);
  }
}
