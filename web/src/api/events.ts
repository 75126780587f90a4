// The live event stream of one run over WebSocket. If the socket drops before the run is over, it reconnects
// with exponential backoff and resumes after the last applied seq; the caller dedupes by seq.

import type { RunEvent } from './types';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed' | 'lost';

export interface EventStreamOptions {
  /** Highest seq already applied; the stream resumes after it. */
  lastSeq: () => number;
  /** Whether the terminal event has been applied (then a close is the normal end). */
  isDone: () => boolean;
  onEvent: (event: RunEvent) => void;
  onState: (state: StreamState, detail?: string) => void;
  /** Base like `ws://host`; defaults to the page's own origin. */
  baseUrl?: string;
  maxAttempts?: number;
  createSocket?: (url: string) => WebSocket;
}

export const CLOSE_NOT_FOUND = 4404;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Where the gateway's WebSockets are: `baseUrl` (like `ws://host`), else the page's own origin. */
export function socketBase(baseUrl?: string): string {
  return baseUrl ?? `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
}

export function eventsUrl(runId: string, after: number, baseUrl?: string): string {
  const base = socketBase(baseUrl);
  const query = after > 0 ? `?after=${after}` : '';
  return `${base}/v1/runs/${encodeURIComponent(runId)}/events${query}`;
}

export class RunEventStream {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = false;

  constructor(
    readonly runId: string,
    private readonly options: EventStreamOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Stops for good: no more events, no reconnects. */
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
    options.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const url = eventsUrl(this.runId, options.lastSeq(), options.baseUrl);
    let socket: WebSocket;
    try {
      socket = options.createSocket ? options.createSocket(url) : new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket === socket) options.onState('live');
    };
    socket.onmessage = (message) => {
      if (this.socket !== socket) return;
      let event: RunEvent;
      try {
        event = JSON.parse(String(message.data)) as RunEvent;
      } catch {
        return; // Not an event; the contract sends only JSON events.
      }
      this.attempt = 0;
      options.onEvent(event);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (close.code === CLOSE_NOT_FOUND) {
        this.stopped = true;
        options.onState('lost', 'This run no longer exists on the server');
      } else if (options.isDone()) {
        this.stopped = true;
        options.onState('closed');
      } else {
        this.retry();
      }
    };
  }

  private retry(): void {
    const max = this.options.maxAttempts ?? 30;
    if (this.attempt >= max) {
      this.stopped = true;
      this.options.onState('lost', 'Lost the connection to the run’s live updates');
      return;
    }
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.options.onState('reconnecting');
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
  }
}
