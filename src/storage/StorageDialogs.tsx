import type { CodeAccess, ShareLink, Tier } from '@hpc-bridge/server/contract';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { CopyField } from '../ui/CopyField';
import { askForm, FormBody, SelectField } from '../ui/FormDialog';
import { PathField, TextField } from '../ui/FormFields';
import { TranslatorContext } from '../ui/translator';
import type { TierFilePicker } from './filePicker';

/**
 * The small dialogs of the Storage section: share link, use in code, copy to
 * another tier. Each body is a form widget whose `getValue` gives the input.
 */
export namespace StorageDialogs {
  /** Expiries offered for share links, in seconds. */
  export const LINK_EXPIRIES = [3600, 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600];

  export interface IShareLinkInput {
    path: string;
    expiresInSeconds: number;
  }

  /** Asks which file of a public tier to share and for how long. */
  export async function askShareLink(
    trans: TranslationBundle,
    tier: Tier,
    path: string
  ): Promise<IShareLinkInput | null> {
    const body = new FormBody<IShareLinkInput>(
      trans,
      { path, expiresInSeconds: 7 * 24 * 3600 },
      (value, set) => (
        <>
          <TextField
            label={trans.__('File in %1', tier.name)}
            value={value.path}
            onChange={p => set({ ...value, path: p })}
          />
          <SelectField
            label={trans.__('Expires after')}
            value={String(value.expiresInSeconds)}
            options={LINK_EXPIRIES.map(seconds => ({
              value: String(seconds),
              label: expiryLabel(trans, seconds)
            }))}
            onChange={seconds =>
              set({ ...value, expiresInSeconds: Number(seconds) })
            }
          />
          <p className="jp-hpc-Form-note">
            {trans.__(
              'Anyone with the link can download the file without logging in, until it expires or you revoke it.'
            )}
          </p>
        </>
      ),
      'jp-hpc-StorageDialog'
    );
    const value = await askForm(
      trans,
      trans.__('Share a link to a file of %1', tier.title),
      body,
      trans.__('Create link')
    );
    return value?.path ? value : null;
  }

  /** Shows a new share link with a Copy button. */
  export async function showLink(
    trans: TranslationBundle,
    link: ShareLink
  ): Promise<void> {
    await showDialog({
      title: trans.__('Share link created'),
      body: ReactWidget.create(
        <TranslatorContext.Provider value={trans}>
          <div className="jp-hpc-LinkCreated">
            <CopyField
              label={trans.__('Link to %1', link.path)}
              value={link.url}
            />
            <p className="jp-hpc-Form-note">
              {trans.__(
                'Works until %1. Revoke it in the Storage section.',
                new Date(link.expiresAt).toLocaleString()
              )}
            </p>
          </div>
        </TranslatorContext.Provider>
      ),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
  }

  /**
   * Asks which file of `tier` to use in code: typed, or chosen with "Browse…"
   * when `browse` is given.
   */
  export async function askCodePath(
    trans: TranslationBundle,
    tier: Tier,
    browse: TierFilePicker | null
  ): Promise<string | null> {
    const body = new FormBody<{ path: string }>(
      trans,
      { path: '' },
      (value, set, pick) => (
        <PathField
          label={trans.__('File in %1', tier.name)}
          value={value.path}
          onChange={path => set({ path })}
          onBrowse={
            browse
              ? () =>
                  pick(async current => {
                    const path = await browse(tier, current.path);
                    return path === null ? null : { path };
                  })
              : undefined
          }
          browseTitle={trans.__('Choose a file of %1', tier.name)}
        />
      ),
      'jp-hpc-StorageDialog'
    );
    const value = await askForm(
      trans,
      trans.__('Use a file of %1 in code', tier.title),
      body,
      trans.__('Show snippets')
    );
    const path = value?.path.trim() ?? '';
    return path === '' ? null : path;
  }

  /** Snippets for a kernel or a job, by language. */
  export async function showCodeAccess(
    trans: TranslationBundle,
    access: CodeAccess
  ): Promise<void> {
    await showDialog({
      title: trans.__('Use %1:%2 in code', access.tier, access.path),
      body: ReactWidget.create(
        <TranslatorContext.Provider value={trans}>
          <div className="jp-hpc-CodeAccess">
            {access.expiresAt && (
              <p className="jp-hpc-Form-note">
                {trans.__(
                  'The URL in these snippets works until %1; ask again for a new one.',
                  new Date(access.expiresAt).toLocaleString()
                )}
              </p>
            )}
            {access.clusterPath && (
              <CopyField
                label={trans.__('Path on the cluster (for jobs)')}
                value={access.clusterPath}
              />
            )}
            {Object.entries(access.snippets).map(([language, code]) => (
              <CopyField key={language} label={language} value={code} code />
            ))}
          </div>
        </TranslatorContext.Provider>
      ),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
  }

  export interface ICopyInput {
    path: string;
    toTier: string;
    to: string;
  }

  /** The copy's source with a new path; the target follows while it was the same. */
  export function withSource(value: ICopyInput, path: string): ICopyInput {
    return { ...value, path, to: value.to === value.path ? path : value.to };
  }

  /**
   * Asks what to copy from `tier` and where to; the source is typed, or chosen
   * with "Browse…" when `browse` is given.
   */
  export async function askCopy(
    trans: TranslationBundle,
    tier: Tier,
    targets: readonly Tier[],
    path: string,
    browse: TierFilePicker | null = null
  ): Promise<ICopyInput | null> {
    const writable = targets.filter(target => target.access === 'write');
    const first = writable.find(t => t.name !== tier.name) ?? writable[0];
    if (!first) {
      await showDialog({
        title: trans.__('Copy to tier'),
        body: trans.__('You cannot write to any tier.'),
        buttons: [Dialog.okButton({ label: trans.__('Close') })]
      });
      return null;
    }
    const body = new FormBody<ICopyInput>(
      trans,
      { path, toTier: first.name, to: path },
      (value, set, pick) => (
        <>
          <PathField
            label={trans.__('From %1', tier.name)}
            value={value.path}
            onChange={p => set(withSource(value, p))}
            onBrowse={
              browse
                ? () =>
                    pick(async current => {
                      const chosen = await browse(tier, current.path);
                      return chosen === null
                        ? null
                        : withSource(current, chosen);
                    })
                : undefined
            }
            browseTitle={trans.__('Choose a file or folder of %1', tier.name)}
          />
          <SelectField
            label={trans.__('To tier')}
            value={value.toTier}
            options={writable.map(target => ({
              value: target.name,
              label: `${target.title} (${target.name}:)`
            }))}
            onChange={toTier => set({ ...value, toTier })}
          />
          <TextField
            label={trans.__('To path')}
            value={value.to}
            onChange={to => set({ ...value, to })}
          />
        </>
      ),
      'jp-hpc-StorageDialog'
    );
    const value = await askForm(
      trans,
      trans.__('Copy from %1 to another tier', tier.title),
      body,
      trans.__('Copy')
    );
    return value?.path && value.to ? value : null;
  }

  /** Asks for a folder of `tier` (uploads). */
  export async function askFolder(
    trans: TranslationBundle,
    tier: Tier,
    folder: string
  ): Promise<string | null> {
    const body = new FormBody<{ folder: string }>(
      trans,
      { folder },
      (value, set) => (
        <TextField
          label={trans.__('Folder in %1 (empty: the top)', tier.name)}
          value={value.folder}
          onChange={f => set({ folder: f })}
        />
      ),
      'jp-hpc-StorageDialog'
    );
    const value = await askForm(
      trans,
      trans.__('Upload to %1', tier.title),
      body,
      trans.__('Choose files…')
    );
    return value ? value.folder.replace(/^\/+|\/+$/g, '') : null;
  }

  export function expiryLabel(
    trans: TranslationBundle,
    seconds: number
  ): string {
    if (seconds % (24 * 3600) === 0) {
      return trans._n('%1 day', '%1 days', seconds / (24 * 3600));
    }
    return trans._n('%1 hour', '%1 hours', Math.round(seconds / 3600));
  }
}
