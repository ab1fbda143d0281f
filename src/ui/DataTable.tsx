import React from 'react';

/** A column of a `DataTable`: its header and the cell of an item. */
export interface IDataColumn<T> {
  label: string;
  value: (item: T) => React.ReactNode;
  /** The cell's class, e.g. a state's colour. */
  className?: (item: T) => string;
}

/**
 * A table with one header row and a row per item; in a narrow panel each row
 * becomes a small list of "label value" lines (style/base.css).
 */
export function DataTable<T>(props: {
  className: string;
  /** The table's `aria-label`. */
  label: string;
  columns: readonly IDataColumn<T>[];
  items: readonly T[];
  rowKey: (item: T) => string;
  /** A row's tooltip. */
  rowTitle?: (item: T) => string | undefined;
  /** A row's accessible name. */
  rowLabel?: (item: T) => string;
}): JSX.Element {
  return (
    <div className="jp-hpc-DataTable">
      <table className={props.className} aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map(column => (
              <th key={column.label}>{column.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.items.map(item => (
            <tr
              key={props.rowKey(item)}
              title={props.rowTitle?.(item)}
              aria-label={props.rowLabel?.(item)}
            >
              {props.columns.map(column => (
                <td
                  key={column.label}
                  className={column.className?.(item)}
                  data-label={column.label}
                >
                  {column.value(item)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
