/** The `storage.tiers` section: where each tier lives, who reads and writes it. */
import { z } from 'zod';
import { byteSizeSchema, nameSchema } from './primitives';

/** Where a tier's files live. */
export type ITierLocation =
  | {
      s3: { store: string; bucket: string; prefix: string };
    }
  | { sftp: { cluster: string; path: string } };

export const groupListSchema = z
  .array(z.string().min(1))
  .describe('hub groups; "*" means every user');

export const locationTemplate = z
  .string()
  .refine(
    t => !/\{(?!user\}|group\})[^}]*\}/.test(t),
    'only the placeholders {user} and {group} are allowed'
  )
  .refine(
    t => !t.split('/').some(s => s === '..' || s === '.'),
    'no "." or ".." segments'
  );

/**
 * A storage tier: exactly one of `s3` (bucket + prefix template) or `sftp` (a path
 * template on a cluster, accessed as the user). `{user}` is the hub user (for sftp: the
 * cluster account); `{group}` makes one root per listed group the user is in.
 */
/** The data classes of tiers (the data-class policies name them). */
export const TIER_CLASSES = [
  'scratch',
  'project',
  'archive',
  'public',
  'sensitive'
] as const;

export const tierSchema = z
  .strictObject({
    name: nameSchema,
    title: z.string().min(1),
    description: z.string().optional(),
    class: z.enum(TIER_CLASSES),
    s3: z
      .strictObject({
        store: nameSchema,
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
        prefix: locationTemplate
          .refine(
            p => p === '' || (p.endsWith('/') && !p.startsWith('/')),
            'empty, or a relative prefix ending in "/"'
          )
          .default('{user}/')
      })
      .optional(),
    sftp: z
      .strictObject({
        cluster: nameSchema,
        path: locationTemplate.refine(
          p => p.startsWith('/') && !/[\0\\]/.test(p),
          'an absolute path'
        )
      })
      .optional(),
    read: groupListSchema.default(['*']),
    write: groupListSchema.default(['*']),
    quota: byteSizeSchema.optional(),
    retention: z.string().optional()
  })
  .superRefine((t, tx) => {
    if ((t.s3 === undefined) === (t.sftp === undefined)) {
      tx.addIssue({
        code: 'custom',
        message: 'a tier needs exactly one of s3 or sftp'
      });
    }
    const template = t.s3?.prefix ?? t.sftp?.path ?? '';
    if (template.includes('{group}') && [...t.read, ...t.write].includes('*')) {
      tx.addIssue({
        code: 'custom',
        path: ['read'],
        message:
          'a {group} location needs the groups listed in read/write, not "*"'
      });
    }
    if (
      t.sftp !== undefined &&
      !template.includes('{user}') &&
      !template.includes('{group}')
    ) {
      tx.addIssue({
        code: 'custom',
        path: ['sftp', 'path'],
        message: 'an sftp path needs {user} or {group}'
      });
    }
  })
  .transform(({ s3, sftp, ...t }) => {
    const location: ITierLocation =
      s3 !== undefined
        ? { s3 }
        : { sftp: sftp as { cluster: string; path: string } };
    return { ...t, location };
  });
