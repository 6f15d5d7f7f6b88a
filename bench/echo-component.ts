// The ceiling of bench/im.ts: a trivial XEP-0114 component that sends every
// <message/> straight back to its sender with the same id, type and body.
// Run as its own process (like the gateway), configured by environment:
//   ECHO_SERVICE=xmpp://127.0.0.1:PORT ECHO_DOMAIN=echo.example.test ECHO_SECRET=... node --import tsx bench/echo-component.ts
// Prints "ready" on stdout once online; exits on SIGTERM/SIGINT.
import { component, xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';

const service = process.env.ECHO_SERVICE;
const domain = process.env.ECHO_DOMAIN;
const password = process.env.ECHO_SECRET;
if (!service || !domain || !password) {
  console.error('ECHO_SERVICE, ECHO_DOMAIN and ECHO_SECRET are required');
  process.exit(2);
}

const entity = component({ service, domain, password });
entity.reconnect.stop();
entity.on('error', (err: unknown) => console.error('echo component error:', err instanceof Error ? err.message : String(err)));

let echoed = 0;
entity.on('stanza', (el: Element) => {
  if (el.name !== 'message' || el.attrs.type === 'error') return;
  const attrs: Record<string, string> = { from: String(el.attrs.to), to: String(el.attrs.from) };
  if (el.attrs.id) attrs.id = String(el.attrs.id);
  if (el.attrs.type) attrs.type = String(el.attrs.type);
  entity.send(xml('message', attrs, xml('body', {}, el.getChildText('body') ?? ''))).then(
    () => { echoed++; },
    (err: unknown) => console.error('echo send failed:', err instanceof Error ? err.message : String(err)),
  );
});

const stop = (): void => {
  entity.stop().catch(() => undefined).finally(() => {
    console.error(`echo component: ${echoed} messages echoed`);
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

entity.start().then(
  () => console.log('ready'),
  (err: unknown) => {
    console.error('echo component could not start:', err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
