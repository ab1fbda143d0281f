import type { Contents } from '@jupyterlab/services';

/**
 * File content as JupyterLab's contents API and the bridge exchange it: a
 * new notebook, a save request's bytes, base64.
 */
export namespace DriveContent {
  /** The file a new notebook starts with (nbformat 4.5). */
  export function emptyNotebook(): Record<string, unknown> {
    return {
      cells: [],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5
    };
  }

  /** The bytes of a save request's content, by its format. */
  export function toBlob(options: Partial<Contents.IModel>): Blob {
    const content = options.content;
    if (options.format === 'base64') {
      return new Blob([fromBase64(typeof content === 'string' ? content : '')]);
    }
    if (
      options.format === 'json' ||
      options.type === 'notebook' ||
      (content !== null && typeof content === 'object')
    ) {
      // Jupyter Server writes notebooks with an indent of 1 and a final newline.
      return new Blob([`${JSON.stringify(content ?? null, null, 1)}\n`], {
        type: 'application/json'
      });
    }
    return new Blob([typeof content === 'string' ? content : '']);
  }

  /** The bytes of base64 `text` (whitespace ignored). */
  export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
    const binary = atob(text.replace(/\s/g, ''));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  /** `bytes` as base64, in steps that fit the call stack. */
  export function toBase64(bytes: Uint8Array): string {
    let binary = '';
    const step = 0x8000;
    for (let i = 0; i < bytes.length; i += step) {
      binary += String.fromCharCode(...bytes.subarray(i, i + step));
    }
    return btoa(binary);
  }
}
