// Local declarations for @xmpp/component 0.13.1, which ships no types and has
// no @types package (architecture doc, known traps). Only what the gateway
// uses is declared; elements are ltx elements, as @xmpp/xml's types say.
declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';
  import type { Element } from '@xmpp/xml';

  export type Status =
    | 'offline' | 'connecting' | 'connect' | 'opening' | 'open' | 'online'
    | 'closing' | 'close' | 'disconnecting' | 'disconnect';

  export interface IncomingContext {
    stanza: Element;
    /** For iq get/set handled by the callee: the single child element. */
    element: Element;
    name: string;
    type: string;
    id: string;
    from: { toString(): string; local: string; domain: string; resource: string; bare(): { toString(): string } } | null;
    to: { toString(): string; local: string; domain: string; resource: string; bare(): { toString(): string } } | null;
    local: string;
    domain: string;
    resource: string;
  }

  export type IncomingMiddleware = (ctx: IncomingContext, next: () => Promise<unknown>) => unknown;
  /**
   * Return an element to send it as the result's child (an <error/> element
   * makes an error reply), any other truthy value for an empty result, and a
   * falsy value (or next()'s) for service-unavailable.
   */
  export type IqHandler = (ctx: IncomingContext, next: () => Promise<unknown>) => unknown;

  export interface Middleware {
    use(fn: IncomingMiddleware): IncomingMiddleware;
    filter(fn: IncomingMiddleware): IncomingMiddleware;
  }

  export interface IqCallee {
    get(ns: string, name: string, handler: IqHandler): void;
    set(ns: string, name: string, handler: IqHandler): void;
  }

  export interface IqCaller {
    /** Sends an iq get/set and resolves with the result stanza; rejects with a StanzaError or TimeoutError. */
    request(stanza: Element, timeout?: number): Promise<Element>;
  }

  export interface Reconnect extends EventEmitter {
    delay: number;
    start(): void;
    stop(): void;
  }

  export interface Component extends EventEmitter {
    status: Status;
    jid: { toString(): string } | null;
    socket: Socket | null;
    timeout: number;
    options: { service: string; domain: string; password: string };
    middleware: Middleware;
    iqCaller: IqCaller;
    iqCallee: IqCallee;
    reconnect: Reconnect;
    start(): Promise<void>;
    stop(): Promise<void>;
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string; timeout?: number }): Promise<Element>;
    send(element: Element): Promise<void>;
  }

  export interface ComponentOptions {
    service: string;
    domain: string;
    password: string;
  }

  export function component(options: ComponentOptions): Component;
  export const xml: typeof import('@xmpp/xml').default;
  export function jid(address: string): { toString(): string; local: string; domain: string; resource: string };
}

declare module '@xmpp/xml/lib/parse.js' {
  import type { Element } from '@xmpp/xml';
  /** Parses one XML document into an element tree; throws on malformed input. */
  export default function parse(data: string): Element;
}
