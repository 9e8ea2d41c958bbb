// Live status from the server-sent events of /v1/events, shared by every view that shows an
// asset: one stream for every asset followed (a browser opens at most six connections to a
// server over HTTP/1.1), opened again with the new set whenever the set changes.

import { type Asset, terminal } from "./api";

export type Update = { asset: Asset } | { deleted: string } | { missing: string };
type Listener = (update: Update) => void;

const MAX_FOLLOWED = 100; // the server's limit for one stream; more wait for a free place

const followers = new Map<string, Set<Listener>>();
/** Assets the server has shown (a fresh upload is not one until a worker takes it in). */
export const seen = new Set<string>();
let source: EventSource | null = null;
let streamed = ""; // the ids the open stream follows
let timer: number | null = null;
let failures = 0;

/** Follow an asset until it is COMPLETED, FAILED or deleted; returns the unsubscribe. */
export function follow(id: string, listener: Listener): () => void {
  let listeners = followers.get(id);
  if (!listeners) {
    listeners = new Set();
    followers.set(id, listeners);
    resync();
  }
  listeners.add(listener);
  const mine = listeners;
  return () => {
    mine.delete(listener);
    if (mine.size === 0 && followers.get(id) === mine) end(id);
  };
}

/** No one follows it any more, or the server has said its last word on it. */
function end(id: string): void {
  if (followers.delete(id)) resync();
}

function emit(id: string, update: Update): void {
  if ("asset" in update) seen.add(id);
  for (const listener of [...(followers.get(id) ?? [])]) listener(update);
}

/** Open the stream for the set now followed once this turn is done: the cards of a page
 * followed one after another cost one connection, not one each. */
function resync(delay = 0): void {
  if (timer !== null) return;
  timer = window.setTimeout(() => {
    timer = null;
    connect();
  }, delay);
}

function connect(): void {
  const ids = [...followers.keys()].slice(0, MAX_FOLLOWED).sort().join(",");
  if (source && ids === streamed) return;
  source?.close();
  source = null;
  streamed = ids;
  if (!ids) return;
  const stream = new EventSource(`/v1/events?assets=${encodeURIComponent(ids)}`);
  source = stream;
  const onAsset = (event: MessageEvent<string>) => {
    failures = 0;
    const asset = JSON.parse(event.data) as Asset;
    emit(asset.assetId, { asset });
    if (terminal(asset.status)) end(asset.assetId); // the server follows it no further
  };
  const named = (event: MessageEvent<string>) => (JSON.parse(event.data) as { assetId: string }).assetId;
  stream.addEventListener("progress", onAsset);
  stream.addEventListener("status", onAsset);
  stream.addEventListener("deleted", (event) => {
    const id = named(event);
    emit(id, { deleted: id });
    end(id);
  });
  stream.addEventListener("missing", (event) => {
    // not there for this key: one shown before is gone; a fresh upload that no worker has
    // taken in yet appears in this stream once it is recorded (the server keeps looking)
    const id = named(event);
    if (!seen.has(id)) return;
    emit(id, { missing: id });
    end(id);
  });
  stream.addEventListener("error", () => {
    // a dropped connection: the browser reconnects by itself; a refused one: try again later
    if (stream !== source || stream.readyState !== EventSource.CLOSED) return;
    source = null;
    failures += 1;
    resync(Math.min(5000, 500 * failures));
  });
}

/** Drop every stream (sign-out). */
export function stopAll(): void {
  followers.clear();
  if (timer !== null) window.clearTimeout(timer);
  timer = null;
  source?.close();
  source = null;
  streamed = "";
}
