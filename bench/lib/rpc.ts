/**
 * Request/reply over Node's IPC channel between the benchmark and the processes it forks. Each
 * child serves a command map; the parent calls it by name. Messages are plain JSON.
 */

/** A command map: each command's argument and result. */
export type Commands<C> = { [K in keyof C]: { args: unknown; result: unknown } };

export type Handlers<C extends Commands<C>> = {
  readonly [K in keyof C]: (args: C[K]['args']) => Promise<C[K]['result']>;
};

interface Request {
  readonly rpc: number;
  readonly cmd: string;
  readonly args: unknown;
}

export type Reply =
  | { readonly rpc: number; readonly ok: true; readonly result: unknown }
  | { readonly rpc: number; readonly ok: false; readonly error: string };

/** The first message a child sends once it serves; `info` is whatever it wants the parent to know. */
export interface Ready {
  readonly ready: true;
  readonly info: Record<string, string | number>;
}

export function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && 'rpc' in message && 'ok' in message;
}

export function isReady(message: unknown): message is Ready {
  return typeof message === 'object' && message !== null && 'ready' in message;
}

/**
 * Serves `handlers` to the parent and announces readiness with `info`. A child whose parent is
 * gone (its IPC channel closed) stops too: no benchmark process outlives the run. SIGTERM runs
 * `onStop`, then exits. Ctrl-C in the terminal reaches every process of the group; the children
 * ignore it and leave stopping to the parent.
 */
export function serve<C extends Commands<C>>(
  handlers: Handlers<C>,
  info: Ready['info'] = {},
  onStop: () => Promise<void> = async () => undefined,
): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this script is started by bench/run.ts (it needs an IPC channel)');
  process.on('message', (message: Request) => {
    const handler = (handlers as Record<string, ((args: unknown) => Promise<unknown>) | undefined>)[message.cmd];
    const answer = (reply: Reply) => {
      if (process.connected) send(reply);
    };
    if (!handler) {
      answer({ rpc: message.rpc, ok: false, error: `unknown command ${message.cmd}` });
      return;
    }
    handler(message.args).then(
      (result) => {
        answer({ rpc: message.rpc, ok: true, result });
      },
      (error: unknown) => {
        answer({ rpc: message.rpc, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      },
    );
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Whatever the close does, the process goes: the parent waits for its exit.
    const timer = setTimeout(() => process.exit(0), 5_000);
    timer.unref();
    void onStop()
      .catch(() => undefined)
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.on('SIGINT', () => undefined);
  send({ ready: true, info } satisfies Ready);
}
