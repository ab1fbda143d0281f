/** The DomainError a promise is rejected with; fails the test when it resolves or fails otherwise. */
import { DomainError } from '../../src/domain-error';

export async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) {
      return e;
    }
    throw e;
  }
  throw new Error('did not refuse');
}
