import React from 'react';
import { CopyField } from '../ui/CopyField';
import { useTranslator } from '../ui/translator';

/** An endpoint's Python and curl snippets, each with a Copy button. */
export function SnippetFields(props: {
  snippets: { python: string; curl: string };
}): JSX.Element {
  const trans = useTranslator();
  return (
    <>
      <CopyField
        label={trans.__('Python')}
        value={props.snippets.python}
        code
        codeLabelled
      />
      <CopyField
        label={trans.__('curl')}
        value={props.snippets.curl}
        code
        codeLabelled
      />
    </>
  );
}
