// The HTTP API, as the page calls it: same origin, the session cookie, and the session's
// CSRF token on every change. Its contract is /openapi.json.

export type Status = "PENDING" | "PROCESSING" | "COMPLETED" | "FAILED";
export const STATUSES: Status[] = ["PENDING", "PROCESSING", "COMPLETED", "FAILED"];

export interface Rendition {
  name: string;
  kind: string;
  width: number;
  height: number;
  videoBitrate: number;
  audioBitrate: number | null;
  codecs?: string | null; // RFC 6381, as encoded (video, then audio)
}

export interface AssetError {
  code: string;
  message: string;
  kind: string;
}

export interface Playback {
  hls: string | null;
  dash: string | null;
  mp4?: string | null; // a video's MP4 preview
  m4a?: string | null; // an audio asset's download, in place of the MP4
  poster: string | null; // a video's poster (JPEG), an audio asset's waveform (PNG)
  sprite?: string | null; // a video's scrub previews (WebVTT)
  captions?: Record<string, string> | null; // each language's WebVTT
}

export interface Asset {
  assetId: string;
  status: Status;
  uploaderId: string;
  filename: string;
  createdAt: string;
  updatedAt: string;
  fileSize: number;
  duration: number | null; // seconds, of the source's video, once probed
  attempt: number;
  progress: { percent: number; etaSeconds: number | null; phase: string } | null;
  renditions: Rendition[];
  errors: AssetError[];
  retryable: boolean; // FAILED for a reason another attempt could change (the server's rule)
  playback: Playback | null;
  kind?: "video" | "audio"; // absent on older servers: video
  tracks?: AssetTrack[]; // every audio and text track the outputs carry (absent on older servers)
}

export interface AssetTrack {
  type: "audio" | "text";
  language: string;
  name: string;
  default: boolean;
  forced: boolean;
  kind?: "subtitles" | "captions" | null; // text tracks: captions are SDH
  source?: "embedded" | "sidecar"; // from the upload, or added by its owner
}

/** What the owner says of a caption file they add. */
export interface CaptionOptions {
  label: string;
  kind: "subtitles" | "captions";
  default: boolean;
}

/** An audio-only asset (the API's kind), with a waveform for poster and an M4A download. */
export function isAudio(asset: Asset): boolean {
  return asset.kind === "audio";
}

/** An upload this page finished that no worker has recorded yet: shown as waiting. */
export function pendingAsset(assetId: string, uploaderId: string, filename: string, fileSize: number): Asset {
  const now = new Date().toISOString();
  return {
    assetId, status: "PENDING", uploaderId, filename, createdAt: now, updatedAt: now, fileSize,
    duration: null, attempt: 1, progress: null, renditions: [], errors: [], retryable: false,
    playback: null,
  };
}

export interface AssetList {
  items: Asset[];
  next: string | null;
}

export interface Session {
  uploaderId: string;
  admin: boolean;
  csrfToken: string;
}

export interface DeadLetter {
  queue: string;
  id: string;
  receiveCount: number;
  lastError: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";
let onSignedOut: () => void = () => {};

export function useSession(session: Session | null): void {
  csrfToken = session?.csrfToken ?? "";
}

export function csrf(): string {
  return csrfToken;
}

/** What the page does when a request finds the session gone (401). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export async function request(
  method: string,
  path: string,
  body?: unknown,
  options: { signal?: AbortSignal; quiet401?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const raw = body instanceof Blob; // a file, sent as it is (the server tells what it holds)
  if (body !== undefined && !raw) headers["Content-Type"] = "application/json";
  if (!SAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "The server cannot be reached. Check that `vodkit serve` is running.");
  }
  if (!response.ok) {
    const message = await problem(response);
    if (response.status === 401 && !options.quiet401) onSignedOut();
    throw new ApiError(response.status, message);
  }
  return response;
}

/** The words of an RFC 9457 problem, or of the status. */
async function problem(response: Response): Promise<string> {
  try {
    const data = (await response.json()) as { detail?: unknown; title?: unknown };
    if (typeof data.detail === "string" && data.detail) return data.detail;
    if (Array.isArray(data.detail)) return "The request was not understood.";
    if (typeof data.title === "string" && data.title) return data.title;
  } catch {
    // not JSON
  }
  return `${response.status} ${response.statusText}`.trim();
}

export async function json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await request(method, path, body, { signal });
  return (await response.json()) as T;
}

export const api = {
  /** Who the page is signed in as; null if no one. The server answers a signed-out visitor
   * 200 {"signedIn": false}, not 401: the browser logs every 401 as an error. */
  session: async (): Promise<Session | null> => {
    const found = await json<Session & { signedIn: boolean }>("GET", "/v1/session");
    return found.signedIn ? found : null;
  },
  signIn: async (key: string): Promise<Session> => {
    const response = await request("POST", "/v1/session", { key }, { quiet401: true });
    return (await response.json()) as Session;
  },
  signOut: () => request("DELETE", "/v1/session", undefined, { quiet401: true }),
  assets: (query: { status?: string; uploader?: string; limit?: number; cursor?: string }, signal?: AbortSignal) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") params.set(name, String(value));
    }
    return json<AssetList>("GET", `/v1/assets?${params}`, undefined, signal);
  },
  asset: (id: string, signal?: AbortSignal) => json<Asset>("GET", `/v1/assets/${encodeURIComponent(id)}`, undefined, signal),
  retry: (id: string) => json<Asset>("POST", `/v1/assets/${encodeURIComponent(id)}/retry`),
  remove: (id: string) => request("DELETE", `/v1/assets/${encodeURIComponent(id)}`),
  /** The asset's text tracks: its upload's own (embedded) and those added (sidecar). */
  captions: (id: string, signal?: AbortSignal) =>
    json<AssetTrack[]>("GET", `/v1/assets/${encodeURIComponent(id)}/captions`, undefined, signal),
  /** Add the language's captions (a SubRip or WebVTT file), or replace them: the track, and
   * whether it is new (201) or replaced an added one (200). */
  addCaption: async (id: string, lang: string, file: Blob, options: CaptionOptions) => {
    const query = new URLSearchParams({ kind: options.kind, default: String(options.default) });
    if (options.label) query.set("label", options.label);
    const path = `/v1/assets/${encodeURIComponent(id)}/captions/${encodeURIComponent(lang)}?${query}`;
    const response = await request("PUT", path, file);
    return { track: (await response.json()) as AssetTrack, created: response.status === 201 };
  },
  removeCaption: (id: string, lang: string) =>
    request("DELETE", `/v1/assets/${encodeURIComponent(id)}/captions/${encodeURIComponent(lang)}`),
  deadLetters: () => json<{ items: DeadLetter[] }>("GET", "/v1/dlq"),
  redrive: (ids: string[] | null) => json<{ redriven: number }>("POST", "/v1/dlq/redrive", { ids, queue: null }),
  /** The largest upload the server takes (tus' Tus-Max-Size), or null if it does not say. */
  maxUploadSize: async (): Promise<number | null> => {
    try {
      const response = await fetch("/v1/uploads", { method: "OPTIONS" });
      const value = Number(response.headers.get("Tus-Max-Size"));
      return Number.isFinite(value) && value > 0 ? value : null;
    } catch {
      return null;
    }
  },
};

export function terminal(status: Status): boolean {
  return status === "COMPLETED" || status === "FAILED";
}
