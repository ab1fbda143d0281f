import type { ISessionContext } from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';

/**
 * The notebooks and consoles of the main area as JupyterLab's session API
 * sees them: which Jupyter kernel each runs, and shutting one down.
 */
export namespace Sessions {
  /** A widget with a kernel session (a notebook panel, a console panel). */
  export interface ISessionWidget extends Widget {
    readonly sessionContext: ISessionContext;
  }

  export function isSessionWidget(
    widget: Widget | null | undefined
  ): widget is ISessionWidget {
    if (!widget) {
      return false;
    }
    const context = (widget as { sessionContext?: unknown }).sessionContext;
    return (
      typeof context === 'object' &&
      context !== null &&
      'kernelChanged' in context
    );
  }

  /** The Jupyter kernel id of a widget's session, or `null`. */
  export function kernelId(widget: Widget | null | undefined): string | null {
    return isSessionWidget(widget)
      ? (widget.sessionContext.session?.kernel?.id ?? null)
      : null;
  }

  /** The session widgets among `widgets` whose kernel is `jupyterKernelId`. */
  export function withKernel(
    widgets: Iterable<Widget>,
    jupyterKernelId: string
  ): ISessionWidget[] {
    const found: ISessionWidget[] = [];
    for (const widget of widgets) {
      if (isSessionWidget(widget) && kernelId(widget) === jupyterKernelId) {
        found.push(widget);
      }
    }
    return found;
  }

  /**
   * Shuts the kernel down through the session API (the launcher then cancels
   * its job); one session is enough, the others share the kernel.
   */
  export async function shutdown(
    widgets: Iterable<Widget>,
    jupyterKernelId: string
  ): Promise<void> {
    const [first] = withKernel(widgets, jupyterKernelId);
    await first?.sessionContext.shutdown();
  }
}
