import type { ShareLink, Tier } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  closeIcon,
  codeIcon,
  copyIcon,
  fileUploadIcon,
  linkIcon,
  type LabIcon
} from '@jupyterlab/ui-components';
import React from 'react';
import { StorageModel } from './StorageModel';
import { tierClassPhrase } from './tierClass';
import { Alert } from '../ui/Alert';
import { ClusterSection } from '../cluster/ClusterSection';
import { IconButton } from '../ui/IconButton';
import { Section } from '../ui/Section';
import { SectionWidget } from '../ui/SectionWidget';
import { useTranslator } from '../ui/translator';

/**
 * The **Storage** section: per tier its class, quota bars, Mount/Unmount,
 * upload, share links (public tiers), code access and copy, and the uploads
 * and copies started from it.
 */
export function StorageSection(props: StorageSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { view, actions } = props;
  const { tiers, error, loading } = view;
  return (
    <Section
      id="storage"
      title={trans.__('Storage')}
      className="jp-hpc-Storage"
      refreshLabel={trans.__('Refresh the storage tiers')}
      onRefresh={() => void view.refresh()}
    >
      {error && (
        <Alert message={error.message} onRetry={() => view.refresh()} />
      )}
      {loading && !error ? (
        <ClusterSection.Loading />
      ) : (
        <>
          {!error && tiers.length === 0 && (
            <p className="jp-hpc-Section-empty">
              {trans.__('No storage tiers are configured for you.')}
            </p>
          )}
          <ul className="jp-hpc-TierList">
            {tiers.map(tier => (
              <StorageSection.TierCard
                key={tier.name}
                tier={tier}
                mounted={view.mounted.has(tier.name)}
                links={view.links(tier.name)}
                transfers={view.transfers.filter(
                  transfer => transfer.origin === tier.name
                )}
                actions={actions}
              />
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}

export namespace StorageSection {
  export interface IActions {
    onMount: (tier: Tier) => void;
    onUnmount: (tier: Tier) => void;
    onUpload: (tier: Tier) => void;
    onShareLink: (tier: Tier) => void;
    onUseInCode: (tier: Tier) => void;
    onCopyToTier: (tier: Tier) => void;
    onRevokeLink: (link: ShareLink) => void;
    onCopyLink: (link: ShareLink) => void;
    onCancelTransfer: (id: string) => void;
    onDismissTransfer: (id: string) => void;
  }

  /** What the section shows; the storage model is one. */
  export interface IView {
    readonly tiers: readonly Tier[];
    readonly mounted: ReadonlySet<string>;
    links(tier: string): readonly ShareLink[];
    readonly transfers: readonly StorageModel.ITransfer[];
    readonly error: Error | null;
    readonly loading: boolean;
    refresh(): Promise<void>;
  }

  export interface IProps {
    view: IView;
    actions: IActions;
  }

  /** Why a tier offers no share links, or `null` when it does. */
  export function linkRefusal(
    tier: Tier,
    trans: TranslationBundle
  ): string | null {
    if (tier.links) {
      return null;
    }
    return trans.__(
      'Share links are only possible on public tiers; %1 is %2.',
      tier.name,
      tierClassPhrase(tier.class, trans)
    );
  }

  /** Why a tier offers no code access, or `null` when it does. */
  export function codeRefusal(
    tier: Tier,
    trans: TranslationBundle
  ): string | null {
    if (tier.codeAccess) {
      return null;
    }
    return tier.class === 'sensitive'
      ? trans.__(
          'No code access on sensitive tiers: every access must go through the bridge and its audit log.'
        )
      : trans.__('The bridge offers no code access for %1.', tier.name);
  }

  export function TierCard(props: {
    tier: Tier;
    mounted: boolean;
    links: readonly ShareLink[];
    /** The uploads and copies started from this tier. */
    transfers: readonly StorageModel.ITransfer[];
    actions: IActions;
  }): JSX.Element {
    const trans = useTranslator();
    const { tier, mounted, actions } = props;
    const readOnly = tier.access === 'read';
    const linkReason = linkRefusal(tier, trans);
    const codeReason = codeRefusal(tier, trans);
    return (
      <li
        className={`jp-hpc-Tier jp-mod-${tier.class}`}
        aria-label={trans.__('Tier %1', tier.name)}
        data-tier={tier.name}
      >
        <div className="jp-hpc-Tier-header">
          <span className="jp-hpc-Tier-title">{tier.title}</span>
          <code className="jp-hpc-Tier-name">{tier.name}:</code>
          <span
            className={`jp-hpc-TierBadge jp-mod-${tier.class}`}
            title={trans.__('Storage class')}
          >
            {tier.class}
          </span>
          {readOnly && (
            <span className="jp-hpc-TierBadge jp-mod-readonly">
              {trans.__('read-only')}
            </span>
          )}
          {tier.audited && (
            <span
              className="jp-hpc-TierBadge jp-mod-audited"
              title={trans.__('Every access is recorded in the audit log.')}
            >
              {trans.__('audited')}
            </span>
          )}
        </div>
        {tier.description && (
          <p className="jp-hpc-Tier-description">{tier.description}</p>
        )}
        <QuotaBars tier={tier} />
        {tier.retention && (
          <p className="jp-hpc-Tier-retention">{tier.retention}</p>
        )}
        <div className="jp-hpc-Tier-actions">
          {mounted ? (
            <Button
              small
              minimal
              aria-label={trans.__('Unmount %1', tier.name)}
              onClick={() => actions.onUnmount(tier)}
            >
              {trans.__('Unmount')}
            </Button>
          ) : (
            <Button
              small
              aria-label={trans.__('Mount %1', tier.name)}
              title={trans.__('Show %1 in a file browser (%1:)', tier.name)}
              onClick={() => actions.onMount(tier)}
            >
              {trans.__('Mount')}
            </Button>
          )}
          <TierAction
            name={trans.__('Upload to %1', tier.name)}
            label={trans.__('Upload…')}
            icon={fileUploadIcon}
            hint={trans.__('Upload files of any size with a progress bar')}
            refusal={
              readOnly ? trans.__('%1 is read-only for you.', tier.name) : null
            }
            onClick={() => actions.onUpload(tier)}
          />
          <TierAction
            name={trans.__('Share link from %1', tier.name)}
            label={trans.__('Share link…')}
            icon={linkIcon}
            hint={trans.__('An anonymous link with an expiry')}
            refusal={linkReason}
            onClick={() => actions.onShareLink(tier)}
          />
          <TierAction
            name={trans.__('Use %1 in code', tier.name)}
            label={trans.__('Use in code…')}
            icon={codeIcon}
            hint={trans.__(
              'Snippets for a kernel or a job (boto3, fsspec, curl)'
            )}
            refusal={codeReason}
            onClick={() => actions.onUseInCode(tier)}
          />
          <TierAction
            name={trans.__('Copy from %1 to another tier', tier.name)}
            label={trans.__('Copy to tier…')}
            icon={copyIcon}
            hint={trans.__('A server-side copy, e.g. scratch → archive')}
            onClick={() => actions.onCopyToTier(tier)}
          />
        </div>
        {linkReason !== null && tier.class === 'sensitive' && (
          <p className="jp-hpc-Tier-note">{linkReason}</p>
        )}
        {props.transfers.length > 0 && (
          <Transfers
            tier={tier.name}
            transfers={props.transfers}
            onCancel={actions.onCancelTransfer}
            onDismiss={actions.onDismissTransfer}
          />
        )}
        {props.links.length > 0 && (
          <LinkList links={props.links} actions={actions} />
        )}
      </li>
    );
  }

  /** A labelled action of a tier card; a `refusal` disables it and says why. */
  function TierAction(props: {
    name: string;
    label: string;
    icon: LabIcon;
    hint: string;
    refusal?: string | null;
    onClick: () => void;
  }): JSX.Element {
    const refusal = props.refusal ?? null;
    return (
      <Button
        small
        minimal
        aria-label={props.name}
        disabled={refusal !== null}
        title={refusal ?? props.hint}
        onClick={props.onClick}
      >
        <props.icon.react tag="span" className="jp-hpc-Tier-icon" />
        {props.label}
      </Button>
    );
  }

  export function QuotaBars(props: { tier: Tier }): JSX.Element {
    const trans = useTranslator();
    const rows = StorageModel.usage(props.tier);
    return (
      <div className="jp-hpc-Quota">
        {rows.map(row => {
          const used =
            row.bytes === null
              ? trans.__('usage unknown')
              : StorageModel.formatBytes(row.bytes);
          const label =
            row.quotaBytes === null
              ? trans.__('%1 used, no quota', used)
              : trans.__(
                  '%1 of %2',
                  used,
                  StorageModel.formatBytes(row.quotaBytes)
                );
          const percent =
            row.fraction === null ? null : Math.round(row.fraction * 100);
          return (
            <div className="jp-hpc-Quota-row" key={row.scope}>
              {row.scope && (
                <span className="jp-hpc-Quota-scope">{row.scope}</span>
              )}
              <div
                className={`jp-hpc-Quota-bar${percent !== null && percent >= 90 ? ' jp-mod-full' : ''}`}
                role="meter"
                aria-label={trans.__(
                  'Quota of %1',
                  row.scope
                    ? `${props.tier.name}/${row.scope}`
                    : props.tier.name
                )}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={percent ?? 0}
                aria-valuetext={label}
              >
                <div
                  className="jp-hpc-Quota-fill"
                  style={{ width: `${percent ?? 0}%` }}
                />
              </div>
              <span className="jp-hpc-Quota-label">{label}</span>
            </div>
          );
        })}
      </div>
    );
  }

  export function LinkList(props: {
    links: readonly ShareLink[];
    actions: IActions;
  }): JSX.Element {
    const trans = useTranslator();
    return (
      <ul className="jp-hpc-LinkList" aria-label={trans.__('Share links')}>
        {props.links.map(link => (
          <li key={link.id} className="jp-hpc-LinkList-item">
            <a
              className="jp-hpc-LinkList-path"
              href={link.url}
              target="_blank"
              rel="noreferrer"
              title={link.url}
            >
              {link.path}
            </a>
            <span className="jp-hpc-LinkList-expiry">
              {trans.__('until %1', new Date(link.expiresAt).toLocaleString())}
            </span>
            <IconButton
              label={trans.__('Copy the link to %1', link.path)}
              icon={copyIcon}
              onClick={() => props.actions.onCopyLink(link)}
            />
            <IconButton
              label={trans.__('Revoke the link to %1', link.path)}
              icon={closeIcon}
              onClick={() => props.actions.onRevokeLink(link)}
            />
          </li>
        ))}
      </ul>
    );
  }

  export function Transfers(props: {
    tier: string;
    transfers: readonly StorageModel.ITransfer[];
    onCancel: (id: string) => void;
    onDismiss: (id: string) => void;
  }): JSX.Element {
    const trans = useTranslator();
    return (
      <ul
        className="jp-hpc-Transfers"
        aria-label={trans.__('Transfers of %1', props.tier)}
      >
        {props.transfers.map(transfer => (
          <TransferRow
            key={transfer.id}
            transfer={transfer}
            trans={trans}
            onCancel={props.onCancel}
            onDismiss={props.onDismiss}
          />
        ))}
      </ul>
    );
  }

  function TransferRow(props: {
    transfer: StorageModel.ITransfer;
    trans: TranslationBundle;
    onCancel: (id: string) => void;
    onDismiss: (id: string) => void;
  }): JSX.Element {
    const { transfer, trans } = props;
    const percent =
      transfer.total > 0
        ? Math.min(100, Math.round((transfer.loaded / transfer.total) * 100))
        : transfer.state === 'completed'
          ? 100
          : 0;
    const status =
      transfer.state === 'failed'
        ? trans.__('failed')
        : transfer.state === 'completed'
          ? trans.__('done')
          : transfer.phase === 'checksum'
            ? trans.__('checksum %1%', percent)
            : transfer.phase === 'complete'
              ? trans.__('completing…')
              : trans.__('%1%', percent);
    return (
      <li
        className={`jp-hpc-Transfer jp-mod-${transfer.state}`}
        aria-label={transfer.label}
      >
        <div className="jp-hpc-Transfer-header">
          <span className="jp-hpc-Transfer-label" title={transfer.label}>
            {transfer.kind === 'upload' ? trans.__('Upload') : trans.__('Copy')}
            {': '}
            {transfer.label}
          </span>
          <span className="jp-hpc-Transfer-status">{status}</span>
          {transfer.state === 'running' && transfer.kind === 'upload' ? (
            <IconButton
              label={trans.__('Cancel %1', transfer.label)}
              icon={closeIcon}
              onClick={() => props.onCancel(transfer.id)}
            />
          ) : transfer.state !== 'running' ? (
            <IconButton
              label={trans.__('Dismiss %1', transfer.label)}
              icon={closeIcon}
              onClick={() => props.onDismiss(transfer.id)}
            />
          ) : null}
        </div>
        <div
          className="jp-hpc-Transfer-bar"
          role="progressbar"
          aria-label={trans.__('Progress of %1', transfer.label)}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
        >
          <div
            className="jp-hpc-Transfer-fill"
            style={{ width: `${percent}%` }}
          />
        </div>
        {transfer.total > 0 && transfer.state === 'running' && (
          <span className="jp-hpc-Transfer-bytes">
            {StorageModel.formatBytes(transfer.loaded)} /{' '}
            {StorageModel.formatBytes(transfer.total)}
            {transfer.mode === 'direct'
              ? ` · ${trans.__('straight to S3')}`
              : transfer.mode
                ? ` · ${trans.__('through the bridge')}`
                : ''}
          </span>
        )}
        {transfer.error && (
          <p className="jp-hpc-Transfer-error" role="alert">
            {transfer.error}
          </p>
        )}
      </li>
    );
  }
}

/** The Storage section as a widget of the HPC Bridge panel. */
export class StorageSectionWidget extends SectionWidget<StorageModel> {
  constructor(options: StorageSectionWidget.IOptions) {
    super({
      ...options,
      className: 'jp-hpc-StorageSectionWidget',
      label: options.trans.__('Storage'),
      render: model => <StorageSection view={model} actions={options.actions} />
    });
  }
}

export namespace StorageSectionWidget {
  export interface IOptions {
    model: StorageModel;
    trans: TranslationBundle;
    actions: StorageSection.IActions;
  }
}
