import { Button } from '@jupyterlab/ui-components';
import React from 'react';
import { useTranslator } from './translator';

/**
 * An error message with a Retry button (disabled while retrying).
 */
export function Alert(props: Alert.IProps): JSX.Element {
  const trans = useTranslator();
  const [retrying, setRetrying] = React.useState(false);
  const mounted = React.useRef(true);
  React.useEffect(
    () => () => {
      mounted.current = false;
    },
    []
  );
  const { onRetry } = props;
  const retry = onRetry
    ? () => {
        setRetrying(true);
        void onRetry().finally(() => {
          if (mounted.current) {
            setRetrying(false);
          }
        });
      }
    : null;
  return (
    <div className="jp-hpc-Alert jp-mod-error" role="alert">
      <p className="jp-hpc-Alert-message">{props.message}</p>
      {retry && (
        <Button small disabled={retrying} onClick={retry}>
          {retrying ? trans.__('Retrying…') : trans.__('Retry')}
        </Button>
      )}
    </div>
  );
}

export namespace Alert {
  export interface IProps {
    message: string;
    /** Shows a Retry button; resolves when the retry is done. */
    onRetry?: () => Promise<void>;
  }
}
