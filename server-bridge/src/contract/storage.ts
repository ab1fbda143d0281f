/**
 * Storage tiers: admin-configured S3 prefixes and cluster paths that users mount as
 * JupyterLab drives. Shared by the bridge and the panels; no Node-only imports.
 *
 * A path inside a tier is relative to the tier's root for this user: `''` is the root,
 * `data/run1.csv` a file. For tiers whose location has a `{group}` placeholder the first
 * segment is the group (`ml101/data.csv`); the root lists the user's groups.
 */
import { z } from 'zod';

export const TierClassSchema = z.enum([
  'scratch',
  'project',
  'archive',
  'public',
  'sensitive'
]);
export type TierClass = z.infer<typeof TierClassSchema>;

/** A tier name doubles as the JupyterLab drive name (`scratch:` in the file browser). */
export const TierNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a tier name (lowercase, digits, "-")');

const NAME_BYTES = new TextEncoder();
const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A path inside a tier. Rejects `..`, `.` and empty segments, a leading `/`,
 * backslashes, NUL and other control characters,
 * unpaired surrogates and names over 255 bytes. The root is `''`.
 */
export const TierPathSchema = z
  .string()
  .max(1024)
  .refine(
    p =>
      p === '' ||
      (!p.startsWith('/') &&
        !/[\\\0-\x1f\x7f]/.test(p) &&
        p.split('/').every(s => s !== '..' && s !== '.' && s !== '')),
    'a relative path inside the tier, without "..", "." or empty segments, backslashes or control characters'
  )
  .refine(
    p => !LONE_SURROGATE.test(p),
    'well-formed Unicode (no unpaired surrogate code units)'
  )
  .refine(
    p => p.split('/').every(s => NAME_BYTES.encode(s).length <= 255),
    'each name in the path at most 255 bytes (UTF-8), the limit of POSIX file systems'
  );

/** A non-root path (a file or folder name is required). */
export const TierItemPathSchema = TierPathSchema.refine(
  p => p !== '',
  'a file or folder path (not the root)'
);

export const TierUsageSchema = z.object({
  /** Bytes used in the scope the quota applies to (the user's root, or per group). */
  bytes: z.number().int().nonnegative().nullable(),
  /** Quota in bytes, or null when unlimited. */
  quotaBytes: z.number().int().positive().nullable(),
  /** When the usage was measured (cached for a short while). */
  measuredAt: z.iso.datetime().nullable()
});
export type TierUsage = z.infer<typeof TierUsageSchema>;

export const TierSchema = z
  .object({
    name: TierNameSchema,
    title: z.string(),
    description: z.string().optional(),
    class: TierClassSchema,
    adapter: z.enum(['s3', 'sftp']),
    /** What this user may do here. */
    access: z.enum(['read', 'write']),
    /** For `{group}` tiers: the groups the user can open (the root's folders). */
    groups: z.array(z.string()).nullable(),
    /** Per scope: `''` for a per-user tier, else one entry per group. */
    usage: z.record(z.string(), TierUsageSchema),
    retention: z.string().optional(),
    /** Anonymous share links are possible (public tiers). */
    links: z.boolean(),
    /** Every access is recorded in the audit log (sensitive tiers). */
    audited: z.boolean(),
    /** Uploads may go straight from the browser to S3 with presigned part URLs. */
    directUpload: z.boolean(),
    /** Presigned URLs / code snippets are available (never on sensitive tiers). */
    codeAccess: z.boolean()
  })
  .meta({ id: 'Tier' });
export type Tier = z.infer<typeof TierSchema>;

export const TierListSchema = z
  .object({ tiers: z.array(TierSchema) })
  .meta({ id: 'TierList' });
export type TierList = z.infer<typeof TierListSchema>;

export const TierParamsSchema = z.object({ tier: TierNameSchema });

export const FileEntrySchema = z
  .object({
    name: z.string(),
    /** Path inside the tier. */
    path: z.string(),
    type: z.enum(['file', 'directory']),
    /** Bytes; null for folders. */
    size: z.number().int().nonnegative().nullable(),
    lastModified: z.iso.datetime().nullable(),
    /** Whether the user may write here (read-only tiers and group folders say false). */
    writable: z.boolean()
  })
  .meta({ id: 'FileEntry' });
export type FileEntry = z.infer<typeof FileEntrySchema>;

/** `GET /tiers/{tier}/files?path=&cursor=&limit=`: one page of a folder, folders first per page. */
export const FileListQuerySchema = z.object({
  path: TierPathSchema.default(''),
  /** Opaque; from the previous page's `nextCursor`. */
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(1000)
});
export type FileListQuery = z.input<typeof FileListQuerySchema>;

export const FileListSchema = z
  .object({
    path: z.string(),
    entries: z.array(FileEntrySchema),
    /** Null on the last page. */
    nextCursor: z.string().nullable()
  })
  .meta({ id: 'FileList' });
export type FileList = z.infer<typeof FileListSchema>;

export const PathQuerySchema = z.object({ path: TierItemPathSchema });

/** `GET /tiers/{tier}/content?path=&download=true`: the bytes (Range supported). */
export const ContentQuerySchema = z.object({
  path: TierItemPathSchema,
  /** Sets `Content-Disposition: attachment`. */
  download: z
    .enum(['true', 'false'])
    .transform(v => v === 'true')
    .optional()
});

/**
 * `PUT /tiers/{tier}/content?path=&overwrite=`: body = the raw bytes
 * (`application/octet-stream`, `Content-Length` required), streamed to the tier.
 * Optional header `x-checksum-sha256` (hex): the upload is discarded on mismatch.
 * Nothing is visible at `path` until every byte arrived and matched.
 */
export const UploadQuerySchema = z.object({
  path: TierItemPathSchema,
  overwrite: z
    .enum(['true', 'false'])
    .transform(v => v === 'true')
    .default(true)
});

export const UploadResultSchema = z
  .object({
    entry: FileEntrySchema,
    sha256: z.string().regex(/^[0-9a-f]{64}$/)
  })
  .meta({ id: 'UploadResult' });
export type UploadResult = z.infer<typeof UploadResultSchema>;

export const MkdirSchema = z.object({ path: TierItemPathSchema });

export const RenameSchema = z.object({
  from: TierItemPathSchema,
  to: TierItemPathSchema
});
export type RenameRequest = z.infer<typeof RenameSchema>;

/** Server-side copy, within a tier or to another tier (e.g. scratch → archive). */
export const CopySchema = z.object({
  from: TierItemPathSchema,
  /** Target tier; default: the same tier. */
  toTier: TierNameSchema.optional(),
  /** Full target path (file or folder name included). */
  to: TierItemPathSchema
});
export type CopyRequest = z.infer<typeof CopySchema>;

export const TransferStateSchema = z.enum(['running', 'completed', 'failed']);

export const TransferSchema = z
  .object({
    id: z.string(),
    kind: z.literal('copy'),
    from: z.object({ tier: z.string(), path: z.string() }),
    to: z.object({ tier: z.string(), path: z.string() }),
    state: TransferStateSchema,
    bytesDone: z.number().int().nonnegative(),
    bytesTotal: z.number().int().nonnegative().nullable(),
    filesDone: z.number().int().nonnegative(),
    filesTotal: z.number().int().nonnegative().nullable(),
    error: z.string().optional(),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable()
  })
  .meta({ id: 'Transfer' });
export type Transfer = z.infer<typeof TransferSchema>;

export const TransferParamsSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)
});

/**
 * `POST /tiers/{tier}/uploads`: starts a multipart upload of `size` bytes.
 * `mode: 'direct'` returns presigned part URLs (the browser PUTs each part to S3,
 * with `Content-MD5` when it can); `mode: 'bridge'` means: PUT the parts to
 * `Routes.tierUploadPart` instead. Nothing is visible until `complete`.
 */
export const UploadStartSchema = z.object({
  path: TierItemPathSchema,
  size: z.number().int().nonnegative(),
  overwrite: z.boolean().default(true),
  /** Ask for presigned URLs; the bridge answers `bridge` where that is not possible. */
  direct: z.boolean().default(true)
});
export type UploadStart = z.input<typeof UploadStartSchema>;

export const UploadPartUrlSchema = z.object({
  partNumber: z.number().int().min(1).max(10000),
  url: z.url()
});

export const UploadSessionSchema = z
  .object({
    uploadId: z.string(),
    mode: z.enum(['direct', 'bridge']),
    /** Every part but the last has exactly this many bytes. */
    partSize: z.number().int().positive(),
    partCount: z.number().int().min(1).max(10000),
    /** Presigned PUT URLs, one per part (direct mode only), valid until `expiresAt`. */
    parts: z.array(UploadPartUrlSchema),
    expiresAt: z.iso.datetime()
  })
  .meta({ id: 'UploadSession' });
export type UploadSession = z.infer<typeof UploadSessionSchema>;

/** `GET /tiers/{tier}/uploads`: the caller's open upload sessions on the tier. */
export const OpenUploadSchema = z
  .object({
    uploadId: z.string(),
    path: z.string(),
    mode: z.enum(['direct', 'bridge']),
    /** Declared size: reserved against the quota until complete, abort or expiry. */
    size: z.number().int().nonnegative(),
    partCount: z.number().int().min(1).max(10000),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime()
  })
  .meta({ id: 'OpenUpload' });
export type OpenUpload = z.infer<typeof OpenUploadSchema>;

export const OpenUploadListSchema = z
  .object({ uploads: z.array(OpenUploadSchema) })
  .meta({ id: 'OpenUploadList' });
export type OpenUploadList = z.infer<typeof OpenUploadListSchema>;

export const UploadParamsSchema = z.object({
  tier: TierNameSchema,
  uploadId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)
});

export const UploadPartParamsSchema = UploadParamsSchema.extend({
  partNumber: z.coerce.number().int().min(1).max(10000)
});

export const UploadCompleteSchema = z.object({
  /** Direct mode: each part's ETag as S3 returned it. */
  parts: z
    .array(
      z.object({
        partNumber: z.number().int().min(1).max(10000),
        etag: z.string().max(200)
      })
    )
    .max(10000)
    .default([])
});
export type UploadComplete = z.input<typeof UploadCompleteSchema>;

export const ShareLinkCreateSchema = z.object({
  path: TierItemPathSchema,
  /** Seconds until the link stops working: 1 minute to 30 days. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(7 * 24 * 3600)
});
export type ShareLinkCreate = z.input<typeof ShareLinkCreateSchema>;

export const ShareLinkSchema = z
  .object({
    id: z.string(),
    tier: z.string(),
    path: z.string(),
    /** Absolute URL anyone can open, without logging in. */
    url: z.string(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable()
  })
  .meta({ id: 'ShareLink' });
export type ShareLink = z.infer<typeof ShareLinkSchema>;

export const ShareLinkListSchema = z
  .object({ links: z.array(ShareLinkSchema) })
  .meta({ id: 'ShareLinkList' });

export const ShareLinkParamsSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/)
});

/**
 * `POST /tiers/{tier}/code-access`: a presigned GET URL (S3 tiers) or the cluster path
 * (sftp tiers) for a kernel or a job. S3 tiers refuse `write` (a PUT URL would bypass
 * the quota and the overwrite rules): upload through the bridge instead.
 */
export const CodeAccessRequestSchema = z.object({
  path: TierItemPathSchema,
  /** `read`; `write` on sftp tiers only (the cluster path). */
  mode: z.enum(['read', 'write']).default('read'),
  /** 1 minute to 7 days. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
  /**
   * A URL the browser saves as a file under its own name (Content-Disposition:
   * attachment): the panel's Download of a large file, straight from S3.
   */
  download: z.boolean().default(false)
});
export type CodeAccessRequest = z.input<typeof CodeAccessRequestSchema>;

export const CodeAccessSchema = z
  .object({
    tier: z.string(),
    path: z.string(),
    /** A presigned URL (S3 tiers), or null where the tier is a cluster path. */
    url: z.string().nullable(),
    /** The absolute path on the cluster (sftp tiers): what a job opens directly. */
    clusterPath: z.string().nullable(),
    expiresAt: z.iso.datetime().nullable(),
    /** Ready-to-paste snippets by language: `curl`, `python`, `fsspec`, `pandas`. */
    snippets: z.record(z.string(), z.string())
  })
  .meta({ id: 'CodeAccess' });
export type CodeAccess = z.infer<typeof CodeAccessSchema>;

export const AuditQuerySchema = z.object({
  user: z.string().max(256).optional(),
  /** Prefix match on the action, e.g. `storage.`. */
  action: z.string().max(128).optional(),
  /** Substring of the target, e.g. a tier or file name. */
  q: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(10000).default(200),
  format: z.enum(['json', 'jsonl']).default('json')
});

export const AuditRecordSchema = z.object({
  id: z.number().int(),
  ts: z.iso.datetime(),
  user: z.string(),
  action: z.string(),
  target: z.string(),
  details: z.record(z.string(), z.unknown())
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const AuditListSchema = z
  .object({ records: z.array(AuditRecordSchema) })
  .meta({ id: 'AuditList' });
export type AuditList = z.infer<typeof AuditListSchema>;
