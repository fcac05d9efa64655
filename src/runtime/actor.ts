/** Who a process started from a shell acts as, in histories and campaign records. */
import { userInfo } from 'node:os';

/**
 * `<face>:<name>` when a name is given (CONCORD_ACTOR), else `<face>:<os user>`; a process without
 * a passwd entry (some containers) is `<face>:unknown`. Never throws.
 */
export function localActor(face: 'cli' | 'demo', name?: string): string {
  if (name !== undefined) return `${face}:${name}`;
  try {
    return `${face}:${userInfo().username || 'unknown'}`;
  } catch {
    return `${face}:unknown`;
  }
}
