/**
 * @jest-environment node
 */
import { TierClassSchema } from '@hpc-bridge/server/contract';
import { tierClassPhrase } from '../storage/tierClass';
import { identityTrans } from './helpers';

describe('tierClassPhrase', () => {
  const trans = identityTrans();

  it('puts "an" before a class that starts with a vowel, "a" before the others', () => {
    expect(tierClassPhrase('archive', trans)).toBe('an archive tier');
    expect(tierClassPhrase('scratch', trans)).toBe('a scratch tier');
    expect(tierClassPhrase('project', trans)).toBe('a project tier');
    expect(tierClassPhrase('public', trans)).toBe('a public tier');
    expect(tierClassPhrase('sensitive', trans)).toBe('a sensitive tier');
  });

  it('has a phrase for every class of the contract', () => {
    for (const tierClass of TierClassSchema.options) {
      expect(tierClassPhrase(tierClass, trans)).toMatch(
        new RegExp(`^an? ${tierClass} tier$`)
      );
    }
  });
});
