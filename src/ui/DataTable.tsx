import React from 'react';

/** A table with one header row and a row per item. */
export function DataTable<T>(props: {
  className: string;
  /** The table's `aria-label`. */
  label: string;
  columns: readonly string[];
  items: readonly T[];
  /** The `<tr>` of an item. */
  row: (item: T) => JSX.Element;
}): JSX.Element {
  return (
    <table className={props.className} aria-label={props.label}>
      <thead>
        <tr>
          {props.columns.map(column => (
            <th key={column}>{column}</th>
          ))}
        </tr>
      </thead>
      <tbody>{props.items.map(item => props.row(item))}</tbody>
    </table>
  );
}
