/** Where Concord's public pages answer, and the signer that makes links and banner tokens to them. */
import { signerSettings, type Env } from '../config/env.ts';
import { createLinkSigner, type LinkSigner } from '../delivery/links.ts';

/**
 * The base URL of the public pages (offer links, unsubscribe, banner): PUBLIC_URL when set, else
 * `http://localhost:<PORT>` — right for a local run, and the one default every process shares.
 */
export function publicUrl(env: Pick<Env, 'PUBLIC_URL' | 'PORT'>): string {
  return env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
}

/**
 * The deployment's link signer: links under `base` (the public URL by default), signed with the
 * newest of the environment's secrets and verified under every one; banner tokens expire after
 * CONCORD_BANNER_TOKEN_TTL when it is set. Throws `invalid_config` when no secret is set.
 */
export function linkSignerFromEnv(env: Env, base: string = publicUrl(env)): LinkSigner {
  return createLinkSigner({ publicUrl: base, ...signerSettings(env) });
}
