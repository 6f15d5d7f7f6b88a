// Composition root: the only place with process-level side effects
// (arguments, signals, exit codes).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger } from './log/logger.js';
import { Gateway } from './gateway.js';
import { SOFTWARE } from './version.js';

const USAGE = `usage: ${SOFTWARE.name} [--config FILE] [--check-config]

  --config FILE    JSON configuration file (also GW_CONFIG); environment variables override it
  --check-config   validate the configuration, print it with secrets hidden, and exit
Exit codes: 0 ok, 1 start-up failure, 2 bad configuration or arguments.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string' }, 'check-config': { type: 'boolean' }, help: { type: 'boolean' } },
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let cfg;
  try {
    cfg = loadConfig({ file: args.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args['check-config']) {
    const shown = JSON.parse(JSON.stringify(cfg)) as typeof cfg;
    shown.xmpp.secret = '********';
    shown.sip.drachtio.secret = '********';
    process.stdout.write(`configuration OK\n${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }

  const log = createLogger(cfg.log);
  const gateway = new Gateway(cfg, log);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal, exiting at once', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal });
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (reason) => {
    gateway.metrics.errors.inc({ side: 'process', kind: 'unhandled-rejection' });
    log.error('unhandled promise rejection', { err: reason instanceof Error ? reason.stack : String(reason) });
  });

  try {
    await gateway.start();
  } catch (err) {
    log.error('start-up failed', { err: err instanceof Error ? err.message : String(err) });
    process.stderr.write(`start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  return -1; // keep running
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
