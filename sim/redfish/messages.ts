/**
 * iLO 5 response envelopes: errors and successes both come as an "error"
 * object carrying @Message.ExtendedInfo MessageIds.
 */
import { createHash } from 'node:crypto';

/** The iLO registry prefix a Gen10 with firmware 2.7x answers with. */
export const ILO = 'iLO.2.14';
export const BASE = 'Base.1.4';

export interface RedfishReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function extendedInfo(messageId: string, args?: string[]): Record<string, unknown> {
  return {
    error: {
      code: 'iLO.0.10.ExtendedInfo',
      message: 'See @Message.ExtendedInfo for more information.',
      '@Message.ExtendedInfo': [{ MessageId: messageId, ...(args ? { MessageArgs: args } : {}) }],
    },
  };
}

export const reply = (status: number, messageId: string, args?: string[], headers?: Record<string, string>): RedfishReply => ({
  status,
  body: extendedInfo(messageId, args),
  headers,
});

export const success = (): RedfishReply => reply(200, `${BASE}.Success`);

/** A weak ETag over the resource's content, as iLO 5 sends them. */
export function etagOf(doc: unknown): string {
  return `W/"${createHash('sha1').update(JSON.stringify(doc)).digest('hex').slice(0, 8).toUpperCase()}"`;
}

/** Thrown by handlers to answer with a message. */
export class RedfishFailure extends Error {
  constructor(readonly reply: RedfishReply) {
    super(String((reply.body as { error?: { '@Message.ExtendedInfo'?: Array<{ MessageId: string }> } })?.error?.['@Message.ExtendedInfo']?.[0]?.MessageId));
  }
}

export const fail = (status: number, messageId: string, args?: string[]): never => {
  throw new RedfishFailure(reply(status, messageId, args));
};
