import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

/** The translation domain of this extension. */
export const TRANSLATION_DOMAIN = 'jupyterlab_hpc_bridge';

/**
 * The translation bundle for the React components of this extension.
 */
export const TranslatorContext: React.Context<TranslationBundle> =
  React.createContext<TranslationBundle>(
    nullTranslator.load(TRANSLATION_DOMAIN)
  );

/** The translation bundle of the nearest `TranslatorContext`. */
export function useTranslator(): TranslationBundle {
  return React.useContext(TranslatorContext);
}
