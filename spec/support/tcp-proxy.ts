// A loopback TCP relay that a test can turn into a black hole: sockets stay
// open but nothing passes, which is what a half-open link looks like to the
// gateway (peer gone without FIN/RST, e.g. a NAT or firewall dropped state).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private blackholed = false;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      const relay = (from: Socket, to: Socket) => from.on('data', (chunk) => { if (!proxy.blackholed) to.write(chunk); });
      relay(client, upstream);
      relay(upstream, client);
      const close = () => {
        proxy.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const s of pair) {
        s.on('error', close);
        s.on('close', () => { if (!proxy.blackholed) close(); });
      }
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** From now on, drop every byte in both directions and never close anything. */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Pass traffic again for new connections; black-holed ones are cut. */
  resume(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    this.blackholed = false;
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}
