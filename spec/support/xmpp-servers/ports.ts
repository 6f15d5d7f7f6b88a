// Free TCP ports on 127.0.0.1 for private test servers.
//
// Candidates are tried with listen-then-close. They are drawn at random from
// below the kernel's ephemeral range when that range leaves room, because a
// port inside the ephemeral range can be taken as the local port of some
// outgoing connection between our close() and the server's bind(), and again
// while a server is down during restart(). Where there is no room below the
// ephemeral range we fall back to listen(0). Collisions that still happen
// (another process binding the port first) are handled by the callers, which
// retry the start with fresh ports.

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const HOST = '127.0.0.1';
const LOWEST = 10000;
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    return Number.isInteger(n) && n > 0 ? n : 32768;
  } catch {
    return 32768;
  }
}

function listenOn(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(null));
    srv.listen({ host: HOST, port, exclusive: true }, () => resolve(srv));
  });
}

function close(srv: Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** Returns `count` distinct ports that were free on 127.0.0.1 a moment ago and were not handed out before by this process. */
export async function allocatePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  const high = ephemeralLow() - 1;
  const useRange = high - LOWEST >= 2000;
  try {
    for (let attempts = 0; ports.length < count; attempts++) {
      if (attempts > 500) throw new Error(`could not find ${count} free ports on ${HOST}`);
      const candidate = useRange ? LOWEST + Math.floor(Math.random() * (high - LOWEST + 1)) : 0;
      if (candidate !== 0 && handedOut.has(candidate)) continue;
      const srv = await listenOn(candidate);
      if (!srv) continue;
      held.push(srv);
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      if (port === 0 || handedOut.has(port)) continue;
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map(close));
  }
  for (const p of ports) handedOut.add(p);
  return ports;
}
