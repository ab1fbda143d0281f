import { MainAreaWidget } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  ReactWidget,
  refreshIcon,
  textEditorIcon,
  UseSignal
} from '@jupyterlab/ui-components';
import React from 'react';
import { LogModel } from './LogModel';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { TranslatorContext, useTranslator } from '../ui/translator';

/**
 * The log of a job in the main area, titled `Log: NAME (ID)`, following the
 * stream with stdout/stderr tabs.
 */
export class LogViewer extends MainAreaWidget<LogViewer.Content> {
  constructor(options: LogViewer.IOptions) {
    const content = new LogViewer.Content(options);
    super({ content });
    const { trans, jobName, model } = options;
    this.id = LogViewer.id(model.jobId, model.element);
    this.title.label =
      model.element > 0
        ? trans.__(
            'Log: %1 (%2, element %3)',
            jobName,
            model.jobId,
            model.element
          )
        : trans.__('Log: %1 (%2)', jobName, model.jobId);
    this.title.icon = textEditorIcon;
    this.title.closable = true;
    this.addClass('jp-hpc-LogViewer');
    this.disposed.connect(() => model.dispose());
  }
}

export namespace LogViewer {
  export interface IOptions {
    model: LogModel;
    jobName: string;
    trans: TranslationBundle;
    /** Keep the view at the bottom while new lines arrive. */
    autoScroll?: boolean;
  }

  /** The widget id of the log of a job element (one viewer each). */
  export function id(jobId: string, element: number): string {
    return `jp-hpc-log-${jobId}-${element}`;
  }

  export class Content extends ReactWidget {
    constructor(options: IOptions) {
      super();
      this._options = options;
      this.addClass('jp-hpc-LogViewer-content');
    }

    render(): JSX.Element {
      const { model, trans, autoScroll } = this._options;
      return (
        <TranslatorContext.Provider value={trans}>
          <ErrorBoundary>
            <UseSignal signal={model.changed}>
              {() => <View model={model} autoScroll={autoScroll ?? true} />}
            </UseSignal>
          </ErrorBoundary>
        </TranslatorContext.Provider>
      );
    }

    private readonly _options: IOptions;
  }

  export function View(props: {
    model: LogModel;
    autoScroll: boolean;
  }): JSX.Element {
    const trans = useTranslator();
    const { model } = props;
    const [stream, setStream] = React.useState<LogModel.Stream>('stdout');
    const pre = React.useRef<HTMLPreElement>(null);
    const pinned = React.useRef(true);
    const text = model.text(stream);
    React.useLayoutEffect(() => {
      const node = pre.current;
      if (node && props.autoScroll && pinned.current) {
        node.scrollTop = node.scrollHeight;
      }
    }, [text, stream, props.autoScroll]);
    const status = model.status(stream);
    const error = model.error(stream);
    const statusText: Record<LogModel.Status, string> = {
      following: trans.__('Following…'),
      ended: trans.__('End of log.'),
      error: trans.__('The log stopped: %1', error?.message ?? '')
    };
    return (
      <div className="jp-hpc-Log">
        <div className="jp-hpc-Log-toolbar">
          <div
            className="jp-hpc-Log-tabs"
            role="tablist"
            aria-label={trans.__('Log streams')}
          >
            {LogModel.STREAMS.map(name => (
              <button
                key={name}
                type="button"
                role="tab"
                id={`${LogViewer.id(model.jobId, model.element)}-${name}`}
                className={`jp-hpc-Log-tab${name === stream ? ' jp-mod-active' : ''}`}
                aria-selected={name === stream}
                onClick={() => {
                  pinned.current = true;
                  setStream(name);
                }}
              >
                {name}
              </button>
            ))}
          </div>
          <span
            className={`jp-hpc-Log-status jp-mod-${status}`}
            role="status"
            aria-live="polite"
          >
            {statusText[status]}
          </span>
          <Button
            minimal
            small
            aria-label={trans.__('Reload log')}
            title={trans.__('Read the log again from its tail')}
            onClick={() => model.reload()}
          >
            <refreshIcon.react tag="span" />
          </Button>
        </div>
        <pre
          ref={pre}
          className="jp-hpc-Log-text"
          role="log"
          aria-label={stream}
          tabIndex={0}
          onScroll={event => {
            const node = event.currentTarget;
            pinned.current =
              node.scrollHeight - node.scrollTop - node.clientHeight < 16;
          }}
        >
          {text ||
            (status === 'following'
              ? trans.__('(nothing yet)')
              : trans.__('(empty)'))}
        </pre>
      </div>
    );
  }
}
