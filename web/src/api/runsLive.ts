// Run summaries as they change, over the WebSocket `/v1/runs/live` (session cookie, as the run event stream): one
// JSON text frame per change, each shaped as an item of GET /v1/runs's `runs`. History applies them in place. A
// dropped socket reconnects with backoff for as long as it is wanted; `onOpen` says when it (re)connects, because
// changes made while it was down are not replayed: the caller reloads the list then.

import { backoffDelay, socketBase } from './events';
import type { RunSummary } from './types';

export interface RunsLiveOptions {
  onSummary: (summary: RunSummary) => void;
  onOpen?: () => void;
  /** Base like `ws://host`; defaults to the page's own origin. */
  baseUrl?: string;
  createSocket?: (url: string) => WebSocket;
  /** Waits before reconnecting; the events stream's backoff by default. */
  delay?: (attempt: number) => number;
}

export function liveRunsUrl(baseUrl?: string): string {
  return `${socketBase(baseUrl)}/v1/runs/live`;
}

/** The fields History reads, checked: a frame that is not a run summary is ignored, never shown half. */
export function asRunSummary(value: unknown): RunSummary | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || typeof v.status !== 'string' || typeof v.createdAt !== 'string') return null;
  return v as unknown as RunSummary;
}

export class RunsLive {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = true;

  constructor(private readonly options: RunsLiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(1000);
  }

  private open(): void {
    const { options } = this;
    let socket: WebSocket;
    try {
      const url = liveRunsUrl(options.baseUrl);
      socket = options.createSocket ? options.createSocket(url) : new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      options.onOpen?.();
    };
    socket.onmessage = (message) => {
      if (this.socket !== socket) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(message.data));
      } catch {
        return; // The contract sends only JSON summaries.
      }
      const summary = asRunSummary(parsed);
      if (summary) options.onSummary(summary);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.stopped) this.retry();
    };
  }

  private retry(): void {
    const wait = (this.options.delay ?? backoffDelay)(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, wait);
  }
}
