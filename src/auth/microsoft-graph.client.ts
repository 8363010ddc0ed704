import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { MicrosoftProfile, parseGraphProfile } from './microsoft-profile';

/** A "me" answer is a few hundred bytes; anything far larger is not Graph. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Asks Microsoft Graph's "me" endpoint (GRAPH_ENDPOINT) who an access token belongs to.
 * The whole exchange, body included, is bounded by GRAPH_TIMEOUT_MS.
 * - Graph refuses the token (any non-200 but a 5xx): 401 microsoft_token_rejected.
 * - Graph unreachable, slow, failing (5xx) or answering something unusable: 503.
 */
@Injectable()
export class MicrosoftGraphClient {
  constructor(private readonly config: AppConfig) {}

  async me(accessToken: string): Promise<MicrosoftProfile> {
    const signal = AbortSignal.timeout(this.config.graphTimeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.config.graphEndpoint, {
        method: 'GET',
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        redirect: 'error',
        signal,
      });
      status = res.status;
      text = await readBounded(res);
    } catch {
      // Refused connection, DNS, TLS, timeout (TimeoutError), reset mid-body, oversized body.
      throw unavailable('Microsoft Graph could not be reached in time; try again shortly.');
    }
    if (status >= 500) {
      throw unavailable('Microsoft Graph is failing; try again shortly.');
    }
    if (status !== 200) {
      throw AppError.unauthorized(
        'Microsoft did not accept the access token.',
        'microsoft_token_rejected',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw unavailable('Microsoft Graph answered with something that is not JSON.');
    }
    const profile = parseGraphProfile(body);
    if (!profile) {
      throw unavailable('Microsoft Graph did not return an id and an email address.');
    }
    return profile;
  }
}

function unavailable(detail: string): AppError {
  return AppError.unavailable(detail, 'microsoft_graph_unavailable');
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop by a throw cancels the stream.
    if (size > MAX_BODY_BYTES) throw new Error('Graph answer too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
