import {
  caretDownIcon,
  launchIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import React from 'react';
import { IconButton } from './IconButton';
import { SectionFolds } from './SectionFolds';
import { useTranslator } from './translator';

/** The panel's fold state; without a panel, sections fold for the session only. */
export const SectionFoldsContext = React.createContext<SectionFolds>(
  new SectionFolds()
);

/** The section's main-area page, when it has one: a button in its header opens it. */
export const SectionPageContext =
  React.createContext<Section.IPageButton | null>(null);

/** Whether the section `id` is folded, and a function that toggles it. */
export function useFolded(id: string): [boolean, () => void] {
  const folds = React.useContext(SectionFoldsContext);
  const [folded, setFolded] = React.useState(() => folds.isFolded(id));
  React.useEffect(() => {
    const sync = (_: SectionFolds, changed: string) => {
      if (changed === id) {
        setFolded(folds.isFolded(id));
      }
    };
    setFolded(folds.isFolded(id));
    folds.changed.connect(sync);
    return () => {
      folds.changed.disconnect(sync);
    };
  }, [folds, id]);
  return [folded, () => folds.toggle(id)];
}

/**
 * A section of the panel, a region named by its title: a header with a caret
 * that folds it (remembered per user), a status beside the title and the
 * section's own buttons, then its content.
 */
export function Section(props: Section.IProps): JSX.Element {
  const trans = useTranslator();
  const [folded, toggle] = useFolded(props.id);
  const page = React.useContext(SectionPageContext);
  const bodyId = `jp-hpc-Section-${props.id}`;
  const classes = ['jp-hpc-Section', props.className, folded && 'jp-mod-folded']
    .filter(Boolean)
    .join(' ');
  return (
    <section className={classes} aria-label={props.title}>
      <div className="jp-hpc-Section-header">
        <h3 className="jp-hpc-Section-title">
          <button
            type="button"
            className="jp-hpc-Section-toggle"
            aria-expanded={!folded}
            aria-controls={bodyId}
            title={
              folded
                ? trans.__('Unfold the %1 section', props.title)
                : trans.__('Fold the %1 section', props.title)
            }
            onClick={toggle}
          >
            <caretDownIcon.react tag="span" className="jp-hpc-Section-caret" />
            <span className="jp-hpc-Section-label">{props.title}</span>
          </button>
        </h3>
        {props.status}
        {(props.toolbar || props.onRefresh || page) && (
          <div
            className="jp-hpc-Section-toolbar"
            role="toolbar"
            aria-label={trans.__('%1 actions', props.title)}
          >
            {props.toolbar}
            {page && (
              <IconButton
                className="jp-hpc-Section-openPage"
                label={page.label}
                icon={launchIcon}
                onClick={page.open}
              />
            )}
            {props.onRefresh && (
              <IconButton
                label={
                  props.refreshLabel ?? trans.__('Refresh %1', props.title)
                }
                icon={refreshIcon}
                onClick={props.onRefresh}
              />
            )}
          </div>
        )}
      </div>
      <div id={bodyId} className="jp-hpc-Section-body" hidden={folded}>
        {props.children}
      </div>
    </section>
  );
}

export namespace Section {
  export interface IPageButton {
    /** The button's accessible name and tooltip. */
    label: string;
    open: () => void;
  }

  export interface IProps {
    /** Names the fold state: `cluster`, `jobs`, `storage`, … */
    id: string;
    /** The title (already translated); also the region's accessible name. */
    title: string;
    className?: string;
    /** Shown beside the title, e.g. whether updates are live. */
    status?: React.ReactNode;
    /** The section's buttons (new …), in its header. */
    toolbar?: React.ReactNode;
    /** Adds a refresh button to the header's buttons. */
    onRefresh?: () => void;
    /** The refresh button's accessible name. */
    refreshLabel?: string;
    children?: React.ReactNode;
  }
}
