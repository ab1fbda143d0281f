import type { TierClass } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * "a scratch tier", "an archive tier": the class of a tier as a noun phrase
 * with its article, one whole sentence part per class so that translations
 * choose their own article.
 */
export function tierClassPhrase(
  tierClass: TierClass,
  trans: TranslationBundle
): string {
  switch (tierClass) {
    case 'scratch':
      return trans.__('a scratch tier');
    case 'project':
      return trans.__('a project tier');
    case 'archive':
      return trans.__('an archive tier');
    case 'public':
      return trans.__('a public tier');
    case 'sensitive':
      return trans.__('a sensitive tier');
  }
}
