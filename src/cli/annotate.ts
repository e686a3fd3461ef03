// annotate.ts: `treereward annotate --store DIR [--port 8080] [--host 127.0.0.1] [--lease-minutes 5]
// [--labels-per-pair 1] [--json]`: serves the annotation page until SIGINT or SIGTERM.
import type { Command } from 'commander';
import { startAnnotationServer } from '../annotate/run-server.js';
import { integer, nonEmpty, openExistingStore, positiveInt } from './data-options.js';

interface ServeOptions {
  store?: string;
  port: string;
  host: string;
  leaseMinutes: string;
  labelsPerPair: string;
  log?: boolean;
  json?: boolean;
}

/** The `annotate` command; the annotate-*.ts files add subcommands to it. */
export function annotateCommand(program: Command): Command {
  // `annotate --store` serves and `annotate add-user --store` adds a user: options must bind to the
  // command they follow, which needs positional options on the program and on `annotate`.
  program.enablePositionalOptions();
  return program.commands.find((c) => c.name() === 'annotate')
    ?? program.command('annotate').enablePositionalOptions().description('the expert annotation app: a web page where people label preference pairs and A/B sets');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function register(program: Command): void {
  annotateCommand(program)
    .option('--store <dir>', 'the feedback store directory')
    .option('--port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--lease-minutes <minutes>', 'how long a pair stays with the annotator it was given to', '5')
    .option('--labels-per-pair <n>', 'labels wanted per queued pair, from different annotators', '1')
    .option('--log', 'log every request (JSON lines on stdout)')
    .option('--json', 'print the server address as one JSON line')
    .action(async (opts: ServeOptions) => {
      const storeDir = nonEmpty(opts.store, '--store');
      openExistingStore(storeDir).close(); // say clearly when the directory is not a store
      const port = integer(opts.port, '--port');
      if (port < 0 || port > 65535) throw new Error(`Expected a port from 0 to 65535 for --port but received ${JSON.stringify(opts.port)}`);
      const minutes = Number(opts.leaseMinutes);
      if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new Error(`Expected a number of minutes above 0 and at most 1440 for --lease-minutes but received ${JSON.stringify(opts.leaseMinutes)}`);
      const server = await startAnnotationServer({
        storeDir, port, host: nonEmpty(opts.host, '--host'), leaseMs: Math.round(minutes * 60_000),
        labelsPerPair: positiveInt(opts.labelsPerPair, '--labels-per-pair'), handleSignals: true, logger: opts.log ?? false,
      });
      const info = { url: server.url, host: server.host, port: server.port, store: storeDir, leaseMs: server.queue.leaseMs, labelsPerPair: server.queue.labelsPerPair, pid: process.pid };
      if (opts.json) {
        console.log(JSON.stringify(info));
      } else {
        console.log(`treereward annotate: serving ${storeDir} at ${server.url} (Ctrl-C stops)`);
        console.log(`  leases last ${minutes} min; ${info.labelsPerPair} label(s) per pair; add annotators with: treereward annotate add-user NAME --store ${storeDir}`);
        if (!isLoopback(server.host)) console.log('  warning: not a loopback address: tokens travel in clear text unless a TLS proxy stands in front');
      }
      await server.closed;
      if (opts.json) console.log(JSON.stringify({ stopped: true }));
      else console.log('treereward annotate: stopped; every label is saved');
    });
}
