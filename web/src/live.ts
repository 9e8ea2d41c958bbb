// Live status from the server-sent events of /v1/assets/{id}/events, shared by every view
// that shows an asset. A browser holds at most six connections to one server over HTTP/1.1,
// so at most MAX_STREAMS are open at once; the others wait for a free one.

import { api, ApiError, type Asset, terminal } from "./api";

export type Update = { asset: Asset } | { deleted: string } | { missing: string };
type Listener = (update: Update) => void;

const MAX_STREAMS = 3;

interface Follower {
  id: string;
  listeners: Set<Listener>;
  source: EventSource | null;
  timer: number | null;
  waits: number;
  done: boolean;
}

const followers = new Map<string, Follower>();
/** Assets the server has shown (a fresh upload is not one until a worker takes it in). */
export const seen = new Set<string>();
const waiting: Follower[] = [];
let open = 0;

/** Follow an asset until it is COMPLETED, FAILED or deleted; returns the unsubscribe. */
export function follow(id: string, listener: Listener): () => void {
  let follower = followers.get(id);
  if (!follower) {
    follower = { id, listeners: new Set(), source: null, timer: null, waits: 0, done: false };
    followers.set(id, follower);
    queue(follower);
  }
  follower.listeners.add(listener);
  const mine = follower;
  return () => {
    mine.listeners.delete(listener);
    if (mine.listeners.size === 0) stop(mine);
  };
}

function queue(follower: Follower): void {
  if (open < MAX_STREAMS) connect(follower);
  else if (!waiting.includes(follower)) waiting.push(follower);
}

function release(follower: Follower): void {
  if (follower.source) {
    follower.source.close();
    follower.source = null;
    open -= 1;
    const next = waiting.shift();
    if (next) connect(next);
  }
}

function stop(follower: Follower): void {
  follower.done = true;
  if (follower.timer !== null) window.clearTimeout(follower.timer);
  const at = waiting.indexOf(follower);
  if (at >= 0) waiting.splice(at, 1);
  release(follower);
  if (followers.get(follower.id) === follower) followers.delete(follower.id);
}

function emit(follower: Follower, update: Update): void {
  if ("asset" in update) seen.add(follower.id);
  for (const listener of [...follower.listeners]) listener(update);
}

function connect(follower: Follower): void {
  if (follower.done) return;
  open += 1;
  const source = new EventSource(`/v1/assets/${encodeURIComponent(follower.id)}/events`);
  follower.source = source;
  const onAsset = (event: MessageEvent<string>) => {
    const asset = JSON.parse(event.data) as Asset;
    emit(follower, { asset });
    if (terminal(asset.status)) stop(follower); // the stream ends here: no reconnection
  };
  source.addEventListener("progress", onAsset);
  source.addEventListener("status", onAsset);
  source.addEventListener("deleted", () => {
    emit(follower, { deleted: follower.id });
    stop(follower);
  });
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
    release(follower);
    void recover(follower);
  });
}

/** The stream was refused: a fresh upload that no worker has taken in yet (404 until then,
 * however long the worker is busy), an asset gone since, or the session is gone. */
async function recover(follower: Follower): Promise<void> {
  try {
    const asset = await api.asset(follower.id);
    emit(follower, { asset });
    if (terminal(asset.status)) stop(follower);
    else later(follower);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && !seen.has(follower.id)) {
      later(follower);
    } else if (error instanceof ApiError && error.status === 404) {
      emit(follower, { missing: follower.id });
      stop(follower);
    } else if (error instanceof ApiError && error.status === 401) {
      stop(follower);
    } else {
      later(follower);
    }
  }
}

function later(follower: Follower): void {
  if (follower.done) return;
  follower.waits += 1;
  const delay = Math.min(5000, 500 * follower.waits);
  follower.timer = window.setTimeout(() => {
    follower.timer = null;
    queue(follower);
  }, delay);
}

/** Drop every stream (sign-out). */
export function stopAll(): void {
  for (const follower of [...followers.values()]) stop(follower);
}
