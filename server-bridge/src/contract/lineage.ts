/**
 * Declared job data and lineage: tier URIs (`project:ml101/data/train.csv`), a job's
 * inputs and outputs, and what the bridge recorded about each object a job wrote.
 * Shared by the bridge and the panels; no Node-only imports.
 */
import { z } from 'zod';

/** Placeholders an output URI may hold; an input URI `{date}` and `{element}`. */
export const TIER_URI_PLACEHOLDERS = ['job', 'element', 'date'] as const;
export type TierUriPlaceholder = (typeof TIER_URI_PLACEHOLDERS)[number];

/** A tier URI taken apart: the path is as the storage API writes it (group folder first). */
export interface ITierUriParts {
  tier: string;
  /** The path inside the tier, without a trailing `/`. */
  path: string;
  /** Written with a trailing `/`: a folder. */
  folder: boolean;
}

const TIER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const CONTROL = /[\\\0-\x1f\x7f]/;

/** Why `uri` is not a tier URI, or null when it is one. */
function uriProblem(uri: string): string | null {
  const colon = uri.indexOf(':');
  if (colon === -1 || !TIER_NAME.test(uri.slice(0, colon))) {
    return 'starts with a tier name and a colon (tier:path)';
  }
  const path = uri.slice(colon + 1).replace(/\/$/, '');
  if (path === '') {
    return 'names a file or folder inside the tier';
  }
  if (
    path.startsWith('/') ||
    CONTROL.test(path) ||
    path.split('/').some(s => s === '' || s === '.' || s === '..')
  ) {
    return 'has a relative path without "..", "." or empty segments, backslashes or control characters';
  }
  for (const [, name] of path.matchAll(PLACEHOLDER)) {
    if (!(TIER_URI_PLACEHOLDERS as readonly string[]).includes(name ?? '')) {
      return `uses only the placeholders {job}, {element} and {date} (not {${name}})`;
    }
  }
  return null;
}

/** Takes a valid tier URI apart (see `TierUriSchema`). */
export function parseTierUri(uri: string): ITierUriParts {
  const colon = uri.indexOf(':');
  const rest = uri.slice(colon + 1);
  const folder = rest.endsWith('/');
  return {
    tier: uri.slice(0, colon),
    path: folder ? rest.slice(0, -1) : rest,
    folder
  };
}

/** The placeholders a tier URI uses. */
export function placeholdersOf(uri: string): TierUriPlaceholder[] {
  return [...uri.matchAll(PLACEHOLDER)].map(m => m[1] as TierUriPlaceholder);
}

/** `tier:path` (a trailing `/` for a folder); `{job}`, `{element}`, `{date}` expand. */
export const TierUriSchema = z
  .string()
  .max(1100)
  .superRefine((uri, ctx) => {
    const problem = uriProblem(uri);
    if (problem !== null) {
      ctx.addIssue({
        code: 'custom',
        message: `a tier URI ${problem}, e.g. project:ml101/data/train.csv`
      });
    }
  });

/** The same string, taken apart. */
export const TierUriPartsSchema = TierUriSchema.transform(parseTierUri);

/** An output with the bytes it is expected to write (reserved against the tier's quota). */
export const JobOutputDeclarationSchema = z.object({
  uri: TierUriSchema,
  estimateBytes: z.number().int().nonnegative().optional()
});

export const JobInputsSchema = z.array(TierUriSchema).min(1).max(32);
export const JobOutputsSchema = z
  .array(z.union([TierUriSchema, JobOutputDeclarationSchema]))
  .min(1)
  .max(32);

/** What identifies the content of an object at one moment. */
export const ObjectVersionSchema = z
  .object({
    /** Bytes; null for a folder. */
    size: z.number().int().nonnegative().nullable(),
    lastModified: z.iso.datetime().nullable(),
    /** Where the store gives one (S3). */
    etag: z.string().max(200).optional()
  })
  .meta({ id: 'ObjectVersion' });
export type ObjectVersion = z.infer<typeof ObjectVersionSchema>;

/** An input of a job as it was at submit. */
export const JobInputSchema = z.object({
  /** As declared. */
  uri: z.string(),
  tier: z.string(),
  path: z.string(),
  folder: z.boolean(),
  version: ObjectVersionSchema,
  /** The element that reads it (an input with `{element}`); absent: every element. */
  element: z.number().int().nonnegative().optional()
});
export type JobInput = z.infer<typeof JobInputSchema>;

export const StageOutStateSchema = z.enum([
  'pending',
  'done',
  'skipped',
  'failed'
]);

/** One output of one element: where it goes, and how its stage-out went. */
export const JobOutputSchema = z.object({
  /** As declared. */
  uri: z.string(),
  tier: z.string(),
  /** Expanded for this element. */
  path: z.string(),
  folder: z.boolean(),
  element: z.number().int().nonnegative(),
  estimateBytes: z.number().int().nonnegative().nullable(),
  /** `skipped`: the element did not complete, so nothing was copied. */
  stageOut: StageOutStateSchema,
  /** Why the stage-out failed. */
  error: z.string().optional()
});
export type JobOutput = z.infer<typeof JobOutputSchema>;

/**
 * What `POST /jobs/estimate` found about a request's declared data, checked as a submit
 * checks it but without reserving anything: each input (expanded per element) with its
 * size, each output, and the problems a submit would refuse (`errors`, each with the code
 * the submit would answer) or that the user should know (`warnings`).
 */
export const JobDataEstimateSchema = z
  .object({
    inputs: z.array(
      z.object({
        uri: z.string(),
        tier: z.string(),
        path: z.string(),
        /** The element that reads it (`{element}`); absent: every element. */
        element: z.number().int().nonnegative().optional(),
        folder: z.boolean(),
        /** Bytes; null for a folder. */
        size: z.number().int().nonnegative().nullable()
      })
    ),
    outputs: z.array(
      z.object({
        uri: z.string(),
        tier: z.string(),
        /** Expanded (`{job}` stays as it is until the job has an id). */
        path: z.string(),
        element: z.number().int().nonnegative(),
        estimateBytes: z.number().int().nonnegative().nullable()
      })
    ),
    warnings: z.array(z.string()),
    errors: z.array(
      z.object({
        /** The error code the submit would answer (`not_found`, `policy_refused`, …). */
        code: z.string(),
        message: z.string(),
        /** The declared URI it is about, where it is about one. */
        uri: z.string().optional()
      })
    )
  })
  .meta({ id: 'JobDataEstimate' });
export type JobDataEstimate = z.infer<typeof JobDataEstimateSchema>;

/** How many endpoints one job may declare. */
export const MAX_JOB_ENDPOINTS = 4;

/** Endpoints a job calls, by name or id. */
export const JobEndpointRefsSchema = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(MAX_JOB_ENDPOINTS);

/** An endpoint a job declared; `env` is the stem of its variables (`HPCB_ENDPOINT_<env>_URL`). */
export const JobEndpointSchema = z.object({
  id: z.string(),
  name: z.string(),
  env: z.string()
});
export type JobEndpoint = z.infer<typeof JobEndpointSchema>;

/** What a job asked of one endpoint through the gateway, with the keys made for it. */
export const JobCallSchema = z
  .object({
    endpointId: z.string(),
    endpoint: z.string(),
    /** The endpoint's model now; null once the endpoint is deleted. */
    model: z.string().nullable(),
    requests: z.number().int().nonnegative(),
    promptTokens: z.number().int().nonnegative(),
    completionTokens: z.number().int().nonnegative(),
    /**
     * Usage is kept per minute: the start of the minute of the first call and the end of
     * the minute of the last; null when the job never called the endpoint.
     */
    firstAt: z.iso.datetime().nullable(),
    lastAt: z.iso.datetime().nullable()
  })
  .meta({ id: 'JobCall' });
export type JobCall = z.infer<typeof JobCallSchema>;

/** What made one object: the job, its notebook and parameters, and the inputs it read. */
export const LineageRecordSchema = z
  .object({
    tier: z.string(),
    path: z.string(),
    version: ObjectVersionSchema,
    job: z.object({
      id: z.string(),
      owner: z.string(),
      name: z.string(),
      element: z.number().int().nonnegative(),
      notebookPath: z.string(),
      notebookSha256: z.string().regex(/^[0-9a-f]{64}$/),
      parameters: z.record(z.string(), z.unknown()),
      /** The endpoints the job called through the gateway (absent: it declared none). */
      calls: z.array(JobCallSchema).optional()
    }),
    inputs: z.array(
      z.object({
        tier: z.string(),
        path: z.string(),
        version: ObjectVersionSchema
      })
    ),
    createdAt: z.iso.datetime()
  })
  .meta({ id: 'LineageRecord' });
export type LineageRecord = z.infer<typeof LineageRecordSchema>;

export const LineageQuerySchema = z.object({
  tier: z.string().regex(TIER_NAME, 'a tier name'),
  path: z.string().min(1).max(1024)
});

/**
 * `GET /lineage?tier=&path=`: the object's record, then the records of its inputs and
 * theirs, breadth first, each once. An input without a record is a raw input; inputs the
 * caller cannot read are listed in `withheld` instead of being followed.
 */
export const LineageSchema = z
  .object({
    tier: z.string(),
    path: z.string(),
    records: z.array(LineageRecordSchema),
    withheld: z.array(z.object({ tier: z.string(), path: z.string() })),
    /** The chain went deeper than the bridge follows (10 jobs). */
    truncated: z.boolean()
  })
  .meta({ id: 'Lineage' });
export type Lineage = z.infer<typeof LineageSchema>;
