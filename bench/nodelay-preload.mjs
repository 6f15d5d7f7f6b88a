// Diagnostic preload for the gateway process (bench/im.ts with BENCH_NODELAY=1):
// turns on TCP_NODELAY for outgoing TCP connections to port
// $BENCH_NODELAY_PORT (the XMPP component port), which @xmpp/connection-tcp
// 0.13 leaves with Nagle's algorithm on. It changes nothing else; it exists
// to measure what the setting is worth without touching src/.
// Plain JavaScript because it is loaded through NODE_OPTIONS before tsx.
import net from 'node:net';

const port = Number(process.env.BENCH_NODELAY_PORT);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function patchedConnect(...args) {
  const socket = connect.apply(this, args);
  socket.once('connect', () => {
    if (!port || socket.remotePort === port) socket.setNoDelay(true);
  });
  return socket;
};
