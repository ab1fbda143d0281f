/**
 * "Use in code": a presigned GET URL (S3 tiers) or the path on the cluster (sftp tiers),
 * with snippets to paste into a notebook or a job script. Never on sensitive tiers.
 * S3 tiers hand out no write URLs: a presigned PUT cannot be revoked and bypasses the
 * quota's reservations and the overwrite rules, so writes go through the bridge.
 */
import { shellQuote } from '../shell-quote';
import type { CodeAccess, CodeAccessRequest } from '../contract';
import { DomainError } from '../domain-error';
import type { StorageCore } from './core';
import { baseName } from './paths';
import type { IStorageUser } from './tiers';

/** A Python string literal (JSON's escapes are valid Python). */
function py(s: string): string {
  return JSON.stringify(s);
}

function pandasReader(path: string): string | null {
  const name = path.toLowerCase();
  if (name.endsWith('.csv')) {
    return 'read_csv';
  }
  if (name.endsWith('.parquet')) {
    return 'read_parquet';
  }
  if (name.endsWith('.json')) {
    return 'read_json';
  }
  return null;
}

export function urlSnippets(url: string, path: string): Record<string, string> {
  const name = baseName(path);
  const snippets: Record<string, string> = {
    curl: `curl --fail -o ${shellQuote(name)} ${shellQuote(url)}`,
    python: `import requests\n\nr = requests.get(${py(url)})\nr.raise_for_status()\ndata = r.content`,
    fsspec: `import fsspec\n\nwith fsspec.open(${py(url)}, "rb") as f:\n    data = f.read()`
  };
  const reader = pandasReader(path);
  if (reader !== null) {
    snippets.pandas = `import pandas as pd\n\ndf = pd.${reader}(${py(url)})`;
  }
  return snippets;
}

export function clusterSnippets(
  clusterPath: string,
  mode: 'read' | 'write'
): Record<string, string> {
  const snippets: Record<string, string> = {
    shell:
      mode === 'read'
        ? `cat ${shellQuote(clusterPath)}`
        : `cp FILE ${shellQuote(clusterPath)}`,
    python:
      mode === 'read'
        ? `with open(${py(clusterPath)}, "rb") as f:\n    data = f.read()`
        : `with open(${py(clusterPath)}, "wb") as f:\n    f.write(data)`
  };
  const reader = pandasReader(clusterPath);
  if (reader !== null && mode === 'read') {
    snippets.pandas = `import pandas as pd\n\ndf = pd.${reader}(${py(clusterPath)})`;
  }
  return snippets;
}

export class StorageCodeAccess {
  constructor(private readonly core: StorageCore) {}

  async grant(
    user: IStorageUser,
    tierName: string,
    request: Required<Omit<CodeAccessRequest, 'download'>> &
      Pick<CodeAccessRequest, 'download'>
  ): Promise<CodeAccess> {
    return this.core.run(
      user,
      tierName,
      'code-access',
      request.path,
      async tier => {
        if (tier.class === 'sensitive') {
          throw new DomainError(
            'forbidden',
            `Code access is not possible on sensitive tiers; ${tier.name} is read through the bridge only, so that every access is recorded`
          );
        }
        if (request.mode === 'write' && 's3' in tier.location) {
          throw new DomainError(
            'bad_request',
            `${tier.name} gives read URLs only: write through the bridge (PUT …/content?path=…, or an upload session for big files), so that the quota holds`
          );
        }
        const located = this.core.locate(
          user,
          tier,
          request.path,
          request.mode,
          {
            item: true
          }
        );
        if (
          request.mode === 'read' &&
          (await located.port.stat(located.rest)) === null
        ) {
          throw new DomainError(
            'not_found',
            `${tier.name}:${request.path}: no such file`
          );
        }
        const direct = located.port.direct;
        if (direct !== undefined) {
          const url = await direct.presignGet(
            located.rest,
            request.expiresInSeconds,
            request.download === true
              ? { downloadName: baseName(request.path) }
              : {}
          );
          return {
            tier: tier.name,
            path: request.path,
            url,
            clusterPath: null,
            expiresAt: new Date(
              this.core.now() + request.expiresInSeconds * 1000
            ).toISOString(),
            snippets: urlSnippets(url, request.path)
          };
        }
        const root = located.opened.root.replace(/\/+$/, '');
        const clusterPath =
          located.rest === '' ? root : `${root}/${located.rest}`;
        return {
          tier: tier.name,
          path: request.path,
          url: null,
          clusterPath,
          expiresAt: null,
          snippets: clusterSnippets(clusterPath, request.mode)
        };
      },
      () => ({ mode: request.mode, download: request.download === true })
    );
  }
}
