import type { SshCredential } from '@hpc-bridge/server/contract';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, copyIcon } from '@jupyterlab/ui-components';
import React from 'react';

/**
 * The cluster refused the user's key: show the public key to install, with
 * the bridge's instructions, in a copyable block.
 */
export function CredentialInstructions(props: {
  credential: SshCredential;
  trans: TranslationBundle;
}): JSX.Element {
  const { credential, trans } = props;
  const [copied, setCopied] = React.useState(false);
  return (
    <div className="jp-hpc-Credential">
      <p>
        {trans.__(
          'The cluster %1 refused the key the HPC Bridge uses for your account %2. Install this public key in ~/.ssh/authorized_keys on the cluster, then try again.',
          credential.cluster,
          credential.clusterUser
        )}
      </p>
      <p className="jp-hpc-Credential-instructions">
        {credential.instructions}
      </p>
      <pre
        className="jp-hpc-Credential-key"
        role="group"
        aria-label={trans.__('Public key')}
        tabIndex={0}
      >
        <code>{credential.publicKey}</code>
      </pre>
      <p className="jp-hpc-Credential-fingerprint">
        {trans.__('Fingerprint: %1', credential.fingerprint)}
      </p>
      <Button
        small
        onClick={() => {
          Clipboard.copyToSystem(credential.publicKey);
          setCopied(true);
        }}
      >
        <copyIcon.react tag="span" />
        {copied ? trans.__('Copied') : trans.__('Copy public key')}
      </Button>
    </div>
  );
}

let open: Promise<unknown> | null = null;

/** Show the key dialog (once at a time). */
export function showCredentialDialog(
  credential: SshCredential,
  trans: TranslationBundle
): Promise<unknown> {
  if (open) {
    return open;
  }
  open = showDialog({
    title: trans.__('Install your SSH key on %1', credential.cluster),
    body: <CredentialInstructions credential={credential} trans={trans} />,
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  }).finally(() => {
    open = null;
  });
  return open;
}
