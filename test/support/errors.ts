import { ConcordError } from '../../src/errors.ts';

/** The ConcordError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): ConcordError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConcordError) return error;
    throw error;
  }
  throw new Error('expected an error');
}
