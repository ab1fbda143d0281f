/**
 * @jest-environment node
 */
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { TierChoice } from '../storage/TierChoice';
import { TiersField } from '../storage/TiersField';
import { TranslatorContext } from '../ui/translator';
import { identityTrans } from './helpers';
import { TIERS } from './tier-fakes';

// @jupyterlab/translation is an ES module this Jest setup does not transform.
jest.mock('@jupyterlab/translation', () => ({
  nullTranslator: { load: () => ({ __: (text: string) => text }) }
}));

function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .trim();
}

describe('TierChoice', () => {
  const options = TierChoice.options(TIERS);

  it('offers a tier by name, a group tier once per group, and nothing for a group tier without groups', () => {
    expect(options.map(o => o.ref)).toEqual([
      'scratch',
      'project:ml101',
      'project:climate',
      'archive',
      'sensitive:medical'
    ]);
    expect(options[4]).toEqual({
      ref: 'sensitive:medical',
      tier: 'sensitive',
      group: 'medical',
      title: 'Sensitive',
      class: 'sensitive',
      access: 'write'
    });
  });

  it('toggles a choice, keeping the order of the options and dropping what is not offered', () => {
    let chosen = TierChoice.toggle(options, [], 'archive', true);
    chosen = TierChoice.toggle(options, chosen, 'scratch', true);
    expect(chosen).toEqual(['scratch', 'archive']);
    expect(
      TierChoice.toggle(options, [...chosen, 'gone'], 'scratch', false)
    ).toEqual(['archive']);
  });

  it('finds the sensitive ones among the chosen, and leaves tiers out of a request without any', () => {
    expect(TierChoice.sensitive(options, ['scratch'])).toEqual([]);
    expect(
      TierChoice.sensitive(options, ['scratch', 'sensitive:medical']).map(
        o => o.ref
      )
    ).toEqual(['sensitive:medical']);
    expect(TierChoice.request([])).toEqual({});
    expect(TierChoice.request(['scratch'])).toEqual({ tiers: ['scratch'] });
  });
});

describe('TiersField', () => {
  const options = TierChoice.options(TIERS);
  function render(
    chosen: string[],
    state: { loading?: boolean; error?: string | null } = {}
  ): string {
    return renderToStaticMarkup(
      <TranslatorContext.Provider value={identityTrans()}>
        <TiersField
          options={options}
          chosen={chosen}
          loading={state.loading ?? false}
          error={state.error ?? null}
          sensitiveHint="SENSITIVE HINT"
          onChange={() => undefined}
        />
      </TranslatorContext.Provider>
    );
  }

  it('lists each choice with its class and read-only where the user cannot write', () => {
    const shown = text(render(['scratch']));
    expect(shown).toContain('Scratch scratch');
    expect(shown).toContain('Project (ml101) project');
    expect(shown).toContain('Archive archive read-only');
    expect(shown).toContain('Sensitive (medical) sensitive');
    expect(shown).toContain('HPCB_TIER_<NAME>');
    expect(render(['scratch']).match(/checked=""/g)).toHaveLength(1);
  });

  it('shows the hint only while a sensitive tier is chosen', () => {
    expect(text(render(['scratch']))).not.toContain('SENSITIVE HINT');
    expect(text(render(['scratch', 'sensitive:medical']))).toContain(
      'SENSITIVE HINT'
    );
  });

  it('says when the tiers are loading or could not be listed', () => {
    expect(text(render([], { loading: true }))).toContain('Loading tiers…');
    expect(text(render([], { error: 'no answer' }))).toContain(
      'The tiers are not available: no answer'
    );
  });
});
