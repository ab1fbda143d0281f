import { Button } from '@jupyterlab/ui-components';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { TranslatorContext } from './translator';

/**
 * Shows a rendering error in place of the panel content instead of a blank
 * panel, with a way to try again.
 */
export class ErrorBoundary extends React.Component<
  ErrorBoundary.IProps,
  ErrorBoundary.IState
> {
  static contextType: React.Context<TranslationBundle> = TranslatorContext;
  declare context: React.ContextType<typeof TranslatorContext>;

  constructor(props: ErrorBoundary.IProps) {
    super(props);
    this.state = { error: null };
  }

  static getDerivedStateFromError(error: unknown): ErrorBoundary.IState {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  render(): React.ReactNode {
    const { error } = this.state;
    if (error === null) {
      return this.props.children;
    }
    const trans = this.context;
    return (
      <div className="jp-hpc-Alert jp-mod-error" role="alert">
        <p className="jp-hpc-Alert-message">
          {trans.__(
            'This part of the HPC Bridge panel failed: %1',
            error.message
          )}
        </p>
        <Button small onClick={() => this.setState({ error: null })}>
          {trans.__('Try again')}
        </Button>
      </div>
    );
  }
}

export namespace ErrorBoundary {
  export interface IProps {
    children?: React.ReactNode;
  }

  export interface IState {
    error: Error | null;
  }
}
