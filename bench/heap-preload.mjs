// Diagnostic preload for the gateway process (bench/presence.ts and
// bench/chat.ts load it through NODE_OPTIONS, see bench/gateway.ts): on
// SIGUSR2 it runs a full garbage collection (two, 200 ms apart) and writes one
// line `BENCH_HEAP {...process.memoryUsage()}` on stderr, so that the
// benchmark can tell live memory from garbage that RSS has not given back. It
// changes nothing else (src/ installs no SIGUSR2 handler). With
// BENCH_HEAP_SNAPSHOT_DIR set it also writes a heap snapshot there each time
// (diagnostic: it takes seconds and blocks the gateway).
// Plain JavaScript because it is loaded before tsx.
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

process.on('SIGUSR2', () => {
  gc();
  // V8 frees the backing stores of dead ArrayBuffers (socket and parser buffers) on a
  // background thread: a second collection a moment later reads what is really live.
  setTimeout(() => {
    gc();
    const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    if (dir) v8.writeHeapSnapshot(join(dir, `gateway-${process.pid}-${Date.now()}.heapsnapshot`));
    process.stderr.write(`BENCH_HEAP ${JSON.stringify(process.memoryUsage())}\n`);
  }, 200);
});
