// Connection state of both sides, as the health endpoint and metrics see it.
// Protocol-neutral: the adapters report into it, nothing here does I/O.
export type SideName = 'xmpp' | 'sip';

export interface SideStatus {
  connected: boolean;
  /** ISO time of the last change. */
  since: string;
  /** Why the side is down, when it is. */
  reason?: string;
}

export class Health {
  private readonly sides = new Map<SideName, SideStatus>();
  private draining = false;
  private readonly listeners = new Set<(side: SideName, status: SideStatus) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {
    for (const side of ['xmpp', 'sip'] as const) {
      this.sides.set(side, { connected: false, since: now().toISOString(), reason: 'not connected yet' });
    }
  }

  set(side: SideName, connected: boolean, reason?: string): void {
    const prev = this.sides.get(side);
    if (prev && prev.connected === connected && prev.reason === reason) return;
    const status: SideStatus = { connected, since: this.now().toISOString() };
    if (!connected && reason !== undefined) status.reason = reason;
    this.sides.set(side, status);
    for (const l of this.listeners) l(side, status);
  }

  onChange(listener: (side: SideName, status: SideStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(side: SideName): SideStatus {
    return this.sides.get(side)!;
  }

  startDraining(): void {
    this.draining = true;
  }

  /** Healthy only when both sides are connected and the gateway is not shutting down. */
  get healthy(): boolean {
    return !this.draining && [...this.sides.values()].every((s) => s.connected);
  }

  report(): { status: 'ok' | 'down' | 'shutting-down'; down: SideName[]; xmpp: SideStatus; sip: SideStatus } {
    const down = [...this.sides.entries()].filter(([, s]) => !s.connected).map(([k]) => k);
    const status = this.draining ? 'shutting-down' : down.length === 0 ? 'ok' : 'down';
    return { status, down, xmpp: this.get('xmpp'), sip: this.get('sip') };
  }
}
