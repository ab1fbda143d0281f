import React from 'react';
import { ClusterSection } from '../cluster/ClusterSection';
import { Alert } from './Alert';

/**
 * The body of a section that lists what its model polls (endpoints,
 * triggers): the model's error with Retry, a loading bar until the first
 * answer, then `empty` when there is nothing, and the list.
 */
export function PolledList(props: PolledList.IProps): JSX.Element {
  const { model, onRetry, count, empty, className, label, children } = props;
  return (
    <>
      {model.error && <Alert message={model.error.message} onRetry={onRetry} />}
      {model.loading && !model.error ? (
        <ClusterSection.Loading />
      ) : (
        <>
          {!model.error && count === 0 && (
            <p className="jp-hpc-Section-empty">{empty}</p>
          )}
          <ul className={className} aria-label={label}>
            {children}
          </ul>
        </>
      )}
    </>
  );
}

export namespace PolledList {
  export interface IProps {
    model: { readonly error: Error | null; readonly loading: boolean };
    onRetry: () => Promise<void>;
    /** How many items the list holds. */
    count: number;
    /** What the section says when there is nothing to list. */
    empty: string;
    /** The list's class name and accessible label. */
    className: string;
    label: string;
    /** The list's items. */
    children: React.ReactNode;
  }
}
