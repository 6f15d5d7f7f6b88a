// Diagnostic preload for the gateway process (bench/im.ts with BENCH_CPU_PROF=<dir>):
// Node 20 refuses --cpu-prof in NODE_OPTIONS, so this starts the V8 sampling
// profiler through node:inspector and writes <dir>/gateway-<pid>.cpuprofile
// when the process exits. Plain JavaScript because it is loaded before tsx.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process session answers synchronously, so this runs before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (!err && result) writeFileSync(join(dir, `gateway-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
