// Human-readable durations and times for the run panel and history.

import { cancelReasonOf } from './runState';

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '';
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return '';
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(then).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A run id short enough for a row, long enough to tell runs apart: run ids begin with their time, so runs started
 * together share a prefix, and the end is what differs. */
export function shortRunId(id: string): string {
  return id.length <= 8 ? id : `…${id.slice(-8)}`;
}

/** A server log line as a person reads it: the old "Run cancelled: cancelled through the API" (said of a button press
 * too) says "Run cancelled", and "Run cancelled: cancelled by ci" says "Run cancelled by ci". */
export function plainLogMessage(msg: string): string {
  const reason = cancelReasonOf(msg);
  if (reason === null) return msg;
  return reason === '' ? 'Run cancelled' : `Run cancelled${reason.startsWith(':') ? '' : ' '}${reason}`;
}
