import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { waitFor } from './redis-server.ts';

/** What the sink does with one mail transaction (taken from the script at MAIL FROM). */
export type SmtpBehaviour =
  | { readonly kind: 'accept' }
  /** Answers the end of DATA with this reply: the body was received, the message refused. */
  | { readonly kind: 'reject'; readonly code: number; readonly text: string }
  /** Destroys the socket at MAIL FROM, before any of the message was sent. */
  | { readonly kind: 'dropBeforeData' }
  /** Receives the whole body, then destroys the socket without a final reply. */
  | { readonly kind: 'dropAfterData' }
  /** Receives the whole body and never answers (the client's socket timeout ends it). */
  | { readonly kind: 'hangAfterData' };

/** Shorthands for {@link SmtpBehaviour}s. */
export const smtp = {
  accept: { kind: 'accept' } as const satisfies SmtpBehaviour,
  reject: (code: number, text: string): SmtpBehaviour => ({ kind: 'reject', code, text }),
  dropBeforeData: { kind: 'dropBeforeData' } as const satisfies SmtpBehaviour,
  dropAfterData: { kind: 'dropAfterData' } as const satisfies SmtpBehaviour,
  hangAfterData: { kind: 'hangAfterData' } as const satisfies SmtpBehaviour,
};

/** A message whose body the sink received, parsed with mailparser. */
export interface ReceivedEmail {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** Header values by lower-case name, unfolded, as they were on the wire (first of each name). */
  readonly headers: Readonly<Record<string, string>>;
  readonly subject: string | undefined;
  readonly messageId: string | undefined;
  readonly html: string | undefined;
  readonly text: string | undefined;
  readonly raw: string;
  /** What the sink did with it. */
  readonly behaviour: SmtpBehaviour['kind'];
}

/** A real SMTP server on 127.0.0.1 (no TLS, no auth) that records and scripts what it receives. */
export interface SmtpSink {
  readonly url: string;
  readonly port: number;
  /** Messages the sink accepted with 250, in order. */
  readonly messages: readonly ReceivedEmail[];
  /** Every message whose whole body arrived, whatever the answer (or lack of one) was. */
  readonly received: readonly ReceivedEmail[];
  /** Connections opened to the sink so far. */
  connections(): number;
  /** Queues behaviours for the next transactions, one each, in order. */
  script(...behaviours: SmtpBehaviour[]): void;
  /** The behaviour once the script has run out (initially `accept`). */
  setDefault(behaviour: SmtpBehaviour): void;
  /** Waits until at least `count` messages were accepted; polls, no fixed sleeps. */
  waitForMessages(count: number, timeoutMs?: number): Promise<readonly ReceivedEmail[]>;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/** Starts an {@link SmtpSink} on 127.0.0.1 and a port the OS picks (so it cannot be taken). */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedEmail[] = [];
  const received: ReceivedEmail[] = [];
  const queue: SmtpBehaviour[] = [];
  let fallback: SmtpBehaviour = smtp.accept;
  let connectionCount = 0;
  const current = new Map<string, SmtpBehaviour>();

  const destroySession = (session: SMTPServerSession) => {
    for (const connection of server.connections) {
      if (connection.session.id === session.id) connection._socket.destroy();
    }
  };

  const server: SMTPServer = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 250,
    onConnect(_session, callback) {
      connectionCount++;
      callback();
    },
    onMailFrom(_address, session, callback) {
      const behaviour = queue.shift() ?? fallback;
      current.set(session.id, behaviour);
      if (behaviour.kind === 'dropBeforeData') {
        destroySession(session);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const behaviour = current.get(session.id) ?? fallback;
        const envelope = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        };
        void parse(Buffer.concat(chunks), envelope, behaviour.kind).then(
          (message) => {
            received.push(message);
            switch (behaviour.kind) {
              case 'accept':
                messages.push(message);
                callback(null, `Queued as SINK${messages.length}`);
                return;
              case 'reject':
                callback(Object.assign(new Error(behaviour.text), { responseCode: behaviour.code }));
                return;
              case 'dropAfterData':
                destroySession(session);
                return;
              case 'hangAfterData':
              case 'dropBeforeData':
                return;
            }
          },
          (error: unknown) => {
            callback(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    const listener = server.listen(0, '127.0.0.1', () => {
      const address = listener.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  server.on('error', () => undefined);

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    received,
    connections: () => connectionCount,
    script: (...behaviours) => {
      queue.push(...behaviours);
    },
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    waitForMessages: async (count, timeoutMs = 10_000) => {
      await waitFor(() => messages.length >= count, timeoutMs, `${count} accepted message(s)`);
      return messages;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of server.connections) connection._socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function parse(
  raw: Buffer,
  envelope: ReceivedEmail['envelope'],
  behaviour: SmtpBehaviour['kind'],
): Promise<ReceivedEmail> {
  const parsed = await simpleParser(raw);
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    if (Object.hasOwn(headers, key)) continue;
    headers[key] = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
  }
  return {
    envelope,
    headers,
    subject: parsed.subject,
    messageId: parsed.messageId,
    html: typeof parsed.html === 'string' ? parsed.html : undefined,
    text: parsed.text,
    raw: raw.toString('utf8'),
    behaviour,
  };
}
