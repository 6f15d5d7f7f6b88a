// Framing of the drachtio admin protocol: `<N>#<payload>` where N is the
// UTF-8 byte length of the payload (drachtio-protocol.md A.1).
import { randomUUID } from 'node:crypto';

export const CRLF = '\r\n';

/**
 * drachtio-server reads the length prefix with readMessageLength(), which
 * accepts at most 5 digits: a frame of >= 100 000 bytes from the app makes the
 * server throw and drop the client (drachtio-protocol.md A.1). The app side
 * (srf) has no such limit, so the limit only applies when decoding app frames.
 */
export const MAX_APP_FRAME_DIGITS = 5;

export class FrameError extends Error {}

export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}#`, 'ascii'), body]);
}

/** Reassembles frames split across TCP chunks, and splits coalesced frames. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxDigits: number = Number.POSITIVE_INFINITY) {}

  /** Returns every complete payload; throws FrameError on a framing violation. */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const hash = this.buf.indexOf(0x23 /* # */);
      const digitsAvailable = hash === -1 ? this.buf.length : hash;
      for (let i = 0; i < digitsAvailable; i++) {
        const c = this.buf[i]!;
        if (c < 0x30 || c > 0x39) throw new FrameError(`invalid length prefix byte 0x${c.toString(16)}`);
      }
      if (digitsAvailable > this.maxDigits) {
        throw new FrameError(`length prefix longer than ${this.maxDigits} digits`);
      }
      if (hash === -1) return out;
      if (hash === 0) throw new FrameError('empty length prefix');
      const len = Number(this.buf.toString('ascii', 0, hash));
      if (len <= 0) throw new FrameError('zero-length frame');
      const end = hash + 1 + len;
      if (this.buf.length < end) return out;
      out.push(this.buf.toString('utf8', hash + 1, end));
      this.buf = this.buf.subarray(end);
    }
  }
}

/** A fresh message id; both sides start every message with one (A.1). */
export function newMsgId(): string {
  return randomUUID();
}

export interface SplitPayload {
  /** Part before the first CR (srf splits this on `|`). */
  leader: string;
  tokens: string[];
  /** Text after the first CRLF, if any (a SIP message). */
  body: string | undefined;
}

/** Same split srf does in DrachtioAgent._onMsg (A.1 "Payload"). */
export function splitPayload(payload: string): SplitPayload {
  const pos = payload.indexOf('\r');
  const leader = pos === -1 ? payload : payload.slice(0, pos);
  const body = pos === -1 ? undefined : payload.slice(pos + 2);
  return { leader, tokens: leader.split('|'), body };
}

/** `HH:MM:SS.uuuuuu` UTC time of day, as in token 7 of `sip` frames (A.5). */
export function stackTime(now: Date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const micros = now.getUTCMilliseconds() * 1000 + Math.floor(Math.random() * 1000);
  return `${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:${p(now.getUTCSeconds())}.${p(micros, 6)}`;
}
