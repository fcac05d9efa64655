import { createServer, type Server } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { CaptureInbox, CapturedMessage } from '../channels/capture-inbox.ts';

/** How many messages the inbox keeps (the oldest go first). */
const INBOX_LIMIT = 500;
/** The largest email or push the capture accepts. */
const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** The demo's stand-ins for a mail server and a push provider, both feeding one inbox. */
export interface Capture {
  readonly inbox: CaptureInbox;
  /** `smtp://127.0.0.1:<port>` when the SMTP capture runs. */
  readonly smtpUrl?: string;
  /** `http://127.0.0.1:<port>/push` when the push capture runs. */
  readonly pushUrl?: string;
  close(): Promise<void>;
}

/** A bounded list of captured messages, newest last. */
export class MemoryInbox implements CaptureInbox {
  private readonly list: CapturedMessage[] = [];

  add(message: CapturedMessage): void {
    this.list.push(message);
    if (this.list.length > INBOX_LIMIT) this.list.splice(0, this.list.length - INBOX_LIMIT);
  }

  messages(): readonly CapturedMessage[] {
    return [...this.list];
  }
}

/**
 * Starts a real SMTP server (smtp-server, no TLS, no auth) and an HTTP push provider (the request
 * format of docs/API.md: 2xx accepted, a repeated Idempotency-Key answers 409), on 127.0.0.1 and free
 * ports, for the parts the caller asks for.
 */
export async function startCapture(options: { smtp: boolean; push: boolean }): Promise<Capture> {
  const inbox = new MemoryInbox();
  const closers: (() => Promise<void>)[] = [];
  let smtpUrl: string | undefined;
  let pushUrl: string | undefined;
  try {
    if (options.smtp) {
      const smtp = await startSmtpCapture(inbox);
      closers.push(smtp.close);
      smtpUrl = `smtp://127.0.0.1:${smtp.port}`;
    }
    if (options.push) {
      const push = await startPushCapture(inbox);
      closers.push(push.close);
      pushUrl = `http://127.0.0.1:${push.port}/push`;
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }
  return {
    inbox,
    ...(smtpUrl === undefined ? {} : { smtpUrl }),
    ...(pushUrl === undefined ? {} : { pushUrl }),
    close: async () => {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}

async function startSmtpCapture(inbox: MemoryInbox): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: 250,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(Object.assign(new Error('message too large'), { responseCode: 552 }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (mail) => {
            const offerId = mail.headers.get('x-concord-offer');
            const to = session.envelope.rcptTo.map((rcpt) => rcpt.address).join(', ');
            inbox.add({
              channel: 'email',
              at: new Date().toISOString(),
              to,
              ...(typeof offerId === 'string' ? { offerId } : {}),
              ...(mail.subject === undefined ? {} : { subject: mail.subject }),
              ...(mail.text === undefined ? {} : { text: mail.text }),
              ...(typeof mail.html === 'string' ? { html: mail.html } : {}),
            });
            callback(null, `captured as #${inbox.messages().length}`);
          },
          (error: unknown) => {
            callback(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    },
  });
  server.on('error', () => undefined);
  const port = await listenOnLoopback(server.server, (ready) => {
    server.listen(0, '127.0.0.1', ready);
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function startPushCapture(inbox: MemoryInbox): Promise<{ port: number; close: () => Promise<void> }> {
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/push') {
      answer(404, { error: 'POST /push' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_MESSAGE_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_MESSAGE_BYTES) {
        answer(413, { error: 'too large' });
        return;
      }
      let push: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not an object');
        push = parsed as Record<string, unknown>;
      } catch {
        answer(400, { error: 'expected a JSON object' });
        return;
      }
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string') {
        // A provider that already has this key answers 409, which Concord counts as sent.
        if (seen.has(key)) {
          answer(409, { error: 'duplicate idempotency key' });
          return;
        }
        if (seen.size >= 100_000) seen.clear();
        seen.add(key);
      }
      const text = (name: string) => (typeof push[name] === 'string' ? push[name] : undefined);
      const offerId = text('offerId');
      const kind = text('kind');
      const title = text('title');
      const body = text('body');
      inbox.add({
        channel: 'push',
        at: new Date().toISOString(),
        to: text('to') ?? '',
        ...(offerId === undefined ? {} : { offerId }),
        ...(kind === undefined ? {} : { kind }),
        ...(title === undefined ? {} : { subject: title }),
        ...(body === undefined ? {} : { text: body }),
      });
      answer(201, { id: `capture-${inbox.messages().length}` });
    });
  });
  const port = await listenOnLoopback(server, (ready) => {
    server.listen(0, '127.0.0.1', ready);
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** Starts a capture server on 127.0.0.1 and a port the OS picks; answers the port. */
function listenOnLoopback(server: Server | NetServer, listen: (ready: () => void) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    listen(() => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}
