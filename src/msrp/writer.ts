/**
 * The write side of a connection: what is sent, in which order (RFC 4975 §7.1.1).
 *
 * - Urgent frames (responses, REPORTs, bodiless SENDs) go before message chunks:
 *   §7.1.1 wants pending responses and REPORTs to get through while a long
 *   message is being sent.
 * - Chunks of different messages (and sessions) alternate one chunk at a time,
 *   round-robin (§7.1.1: "alternate between them such that each concurrent
 *   request gets a chance to send some fair portion of data").
 * - Chunks are pulled from their message lazily, and the writer yields to the
 *   event loop every 64 KiB, so that a 413 that arrives meanwhile can stop the
 *   rest of the message (§10.5).
 * - The socket's backpressure is honoured ('drain').
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { describe as describeError } from '../sip/bodies/result.js';

export interface Tracking {
  timeoutMs: number;
  /** Called once with the response code, or 408 on timeout unless `silentTimeout`. */
  settle: (code: number, comment: string | undefined) => void;
  /** Failure-Report "partial": wait for error responses but report nothing when none comes (§7.1.1). */
  silentTimeout?: boolean;
}

export interface OutboundFrame {
  bytes: Buffer;
  tid: string;
  /** Set when a response is awaited (Failure-Report "yes" or "partial"). */
  track?: Tracking;
}

/** One outgoing message: yields its chunks one by one. */
export interface OutboundJob {
  /** The next frame, or null when the job is finished or was stopped. */
  next(): OutboundFrame | null;
}

const WRITE_SLICE = 64 * 1024;
/**
 * Urgent frames waiting for the socket. Only a peer that keeps sending requests
 * without reading our responses gets near this; it is cut off rather than being
 * allowed to grow our memory without bound.
 */
const MAX_URGENT = 1024;

export class FrameWriter {
  private readonly urgent: OutboundFrame[] = [];
  private readonly jobs: OutboundJob[] = [];
  private pumping = false;
  private waitingDrain = false;
  private scheduled = false;
  private stopped = false;

  /** `written` is told about every frame handed to the socket (transaction timers start then, §7.1.1). */
  constructor(
    private readonly socket: Socket,
    private readonly log: Logger,
    private readonly written: (f: OutboundFrame) => void,
    private readonly overflow: () => void,
  ) {
    socket.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  sendUrgent(frame: OutboundFrame): void {
    if (this.stopped) return;
    if (this.urgent.length >= MAX_URGENT) {
      this.overflow();
      return;
    }
    this.urgent.push(frame);
    this.pump();
  }

  addJob(job: OutboundJob): void {
    if (this.stopped) return;
    this.jobs.push(job);
    this.pump();
  }

  /** Drops everything queued; nothing more is written. */
  stop(): void {
    this.stopped = true;
    this.urgent.length = 0;
    this.jobs.length = 0;
  }

  private pump(): void {
    if (this.pumping || this.waitingDrain || this.stopped) return;
    this.pumping = true;
    try {
      let written = 0;
      for (;;) {
        if (this.stopped) return;
        if (this.socket.writableNeedDrain) {
          this.waitingDrain = true;
          return;
        }
        if (written >= WRITE_SLICE) {
          this.schedule();
          return;
        }
        const frame = this.urgent.shift() ?? this.nextJobFrame();
        if (!frame) return;
        this.socket.write(frame.bytes);
        this.written(frame);
        written += frame.bytes.length;
      }
    } finally {
      this.pumping = false;
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Round-robin over the jobs: one frame from the first, which then goes to the back. */
  private nextJobFrame(): OutboundFrame | null {
    for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
      let frame: OutboundFrame | null = null;
      try {
        frame = job.next();
      } catch (e) {
        this.log.error('MSRP send job failed', { error: describeError(e) });
      }
      if (frame) {
        this.jobs.push(job);
        return frame;
      }
    }
    return null;
  }
}
