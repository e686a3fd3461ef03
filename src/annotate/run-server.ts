// run-server.ts: opens the store, starts the annotation server and stops it cleanly: on SIGINT or
// SIGTERM it stops accepting connections, lets requests in flight finish (their transactions commit
// or never started), then closes the database.
//
// Durability: the store is in WAL mode, and a label is answered only after its transaction commits.
// Labels commit with synchronous = FULL (see WorkQueue's durableLabels): the WAL is fsynced before the
// answer, so an acknowledged label survives a kill -9 of the server (which NORMAL already survives, as
// the WAL write sits in the OS page cache) and also a power cut or OS crash (which NORMAL does not).
// Leases commit with the store's NORMAL; one lost to a power cut costs nothing.
import type { FastifyInstance } from 'fastify';
import { FeedbackStore } from '../data/store/feedback-store.js';
import { buildServer } from './server.js';
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';

export interface AnnotationServerOptions extends Omit<WorkQueueOptions, 'now' | 'coin'> {
  storeDir: string;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0: any free port. */
  port?: number;
  /** Stop on SIGINT and SIGTERM. Defaults to false (the CLI turns it on). */
  handleSignals?: boolean;
  logger?: boolean;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  app: FastifyInstance;
  queue: WorkQueue;
  store: FeedbackStore;
  /** Stops the server and closes the store; safe to call twice. */
  close(): Promise<void>;
  /** Settles when the server has stopped (by close() or a signal). */
  closed: Promise<void>;
}

export async function startAnnotationServer(options: AnnotationServerOptions): Promise<RunningServer> {
  const store = FeedbackStore.open(options.storeDir);
  let closing: Promise<void> | undefined;
  let app: FastifyInstance;
  let queue: WorkQueue;
  try {
    queue = new WorkQueue(store, options);
    app = await buildServer(queue, { logger: options.logger });
    // while closing, answers end their connection, so keep-alive clients do not hold the close open
    app.addHook('onSend', async (_request, reply) => {
      if (closing) reply.header('connection', 'close');
    });
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (err) {
    store.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 0;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (onSignal) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      // Requests in flight finish (each label's transaction is synchronous: it commits or never began).
      // Connections left idle by them are closed as they come free; after 10 s the rest are cut.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      const force = setTimeout(() => app.server.closeAllConnections(), 10_000);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
        clearTimeout(force);
        store.close();
        resolveClosed();
      }
    })();
    return closing;
  };
  if (options.handleSignals) {
    onSignal = () => {
      void close();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return { url: `http://${urlHost}:${port}/`, host, port, app, queue, store, close, closed };
}
