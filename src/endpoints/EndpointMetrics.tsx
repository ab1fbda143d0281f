import type { EndpointMetrics } from '@hpc-bridge/server/contract';
import React from 'react';
import { useTranslator } from '../ui/translator';
import { EndpointsModel } from './EndpointsModel';

export function EndpointMetrics(props: {
  name: string;
  metrics: EndpointMetrics;
}): JSX.Element {
  const trans = useTranslator();
  const summary = EndpointsModel.summary(props.metrics);
  const ms = (value: number | null) =>
    value === null ? '—' : trans.__('%1 ms', Math.round(value));
  return (
    <div className="jp-hpc-EndpointMetrics">
      <div className="jp-hpc-Endpoint-subtitle">
        <span>{trans.__('Traffic (last 15 minutes)')}</span>
      </div>
      <table
        className="jp-hpc-EndpointTable"
        aria-label={trans.__('Metrics of %1', props.name)}
      >
        <tbody>
          <tr>
            <th>{trans.__('Requests/min')}</th>
            <td>
              {summary.requestsPerMinute}{' '}
              <EndpointSparkline
                values={summary.series}
                label={trans.__('Requests per minute, last 15 minutes')}
              />
            </td>
          </tr>
          <tr>
            <th>{trans.__('Latency p50 / p95')}</th>
            <td>
              {ms(summary.p50Ms)} / {ms(summary.p95Ms)}
            </td>
          </tr>
          <tr>
            <th>{trans.__('Requests / errors')}</th>
            <td>
              {summary.requests} / {summary.errors}
            </td>
          </tr>
          <tr>
            <th>{trans.__('Tokens')}</th>
            <td>{summary.tokens}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** A tiny bar chart of `values` (inline SVG). */
export function EndpointSparkline(props: {
  values: readonly number[];
  label: string;
}): JSX.Element {
  const width = 90;
  const height = 16;
  const max = Math.max(1, ...props.values);
  const step = props.values.length > 0 ? width / props.values.length : width;
  return (
    <svg
      className="jp-hpc-Sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.label}
    >
      {props.values.map((value, i) => {
        const h = value === 0 ? 1 : Math.max(2, (value / max) * height);
        return (
          <rect
            key={i}
            x={i * step + 0.5}
            y={height - h}
            width={Math.max(1, step - 1)}
            height={h}
            className={value === 0 ? 'jp-mod-zero' : undefined}
          />
        );
      })}
    </svg>
  );
}
