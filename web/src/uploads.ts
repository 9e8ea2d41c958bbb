// Uploads over tus (tus-js-client): resumable across reloads and lost connections. Each
// upload's URL is kept in localStorage under a fingerprint of the file (its name, size and
// modification time, and the uploader), so choosing the same file again after a reload
// resumes at the server's offset instead of sending it again.

import * as tus from "tus-js-client";
import { csrf } from "./api";
import { bytes } from "./format";

export type UploadState =
  | "queued"
  | "uploading"
  | "retrying"
  | "paused"
  | "offline"
  | "failed"
  | "refused"
  | "done";

export interface UploadItem {
  key: string;
  name: string;
  size: number;
  state: UploadState;
  sent: number;
  /** bytes the server already had when this upload resumed */
  resumedAt: number | null;
  speed: number | null;
  eta: number | null;
  message: string;
  assetId: string | null;
  startedAt: number;
}

/** An upload left unfinished by an earlier visit: the file must be chosen again. */
export interface Interrupted {
  storageKey: string;
  url: string;
  name: string;
  size: number;
  offset: number | null;
  createdAt: string;
}

interface Entry {
  item: UploadItem;
  file: File;
  upload: tus.Upload | null;
  samples: Array<[number, number]>;
  seq: number;
}

let sequence = 0;

const PARALLEL = 2;
const CHUNK = 32 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];

type Listener = () => void;
type Finished = (item: UploadItem) => void;

class Uploads {
  private entries: Entry[] = [];
  private listeners = new Set<Listener>();
  private finished = new Set<Finished>();
  private uploader = "";
  maxSize: number | null = null;

  constructor() {
    window.addEventListener("online", () => {
      for (const entry of this.entries) if (entry.item.state === "offline") this.resume(entry.item.key);
    });
  }

  /** Whose uploads these are: a sign-out stops them, another uploader never sees them. */
  useUploader(uploader: string): void {
    if (uploader === this.uploader) return;
    for (const entry of this.entries) void entry.upload?.abort();
    this.entries = [];
    this.uploader = uploader;
    this.changed();
  }

  items(): UploadItem[] {
    return this.entries.map((e) => e.item);
  }

  active(): UploadItem[] {
    return this.items().filter((i) => ["queued", "uploading", "retrying"].includes(i.state));
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once per upload whose last byte the server has (with its asset id). */
  onFinished(listener: Finished): () => void {
    this.finished.add(listener);
    return () => this.finished.delete(listener);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  add(files: Iterable<File>): void {
    const added: Entry[] = [];
    for (const file of files) {
      const item: UploadItem = {
        key: `${file.name}|${file.size}|${file.lastModified}|${Math.random().toString(36).slice(2)}`,
        name: file.name,
        size: file.size,
        state: "queued",
        sent: 0,
        resumedAt: null,
        speed: null,
        eta: null,
        message: "",
        assetId: null,
        startedAt: Date.now(),
      };
      if (this.maxSize !== null && file.size > this.maxSize) {
        item.state = "refused";
        item.message = `Not sent: this file is ${bytes(file.size)}, and the server takes files of up to ${bytes(this.maxSize)}.`;
      }
      added.push({ item, file, upload: null, samples: [], seq: (sequence += 1) });
    }
    this.entries = [...added, ...this.entries]; // the newest on top, in the order chosen
    this.changed();
    this.pump();
  }

  private pump(): void {
    let running = this.entries.filter((e) => e.item.state === "uploading" || e.item.state === "retrying").length;
    for (const entry of [...this.entries].sort((a, b) => a.seq - b.seq)) {
      if (running >= PARALLEL) break;
      if (entry.item.state === "queued") {
        running += 1;
        void this.start(entry);
      }
    }
  }

  private fingerprint(file: File): string {
    return ["vodkit", this.uploader, file.name, file.size, file.lastModified, file.type].join("|");
  }

  private async start(entry: Entry): Promise<void> {
    const { item, file } = entry;
    item.state = "uploading";
    item.message = "";
    entry.samples = [];
    this.changed();
    const upload = new tus.Upload(file, {
      endpoint: "/v1/uploads",
      chunkSize: CHUNK,
      retryDelays: RETRY_DELAYS,
      metadata: { filename: file.name },
      onBeforeRequest: (request) => request.setHeader("X-CSRF-Token", csrf()), // the session's, now
      fingerprint: async (f) => this.fingerprint(f as File),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onShouldRetry: (error, attempt) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        const retry = (status < 400 || status >= 500 || status === 409 || status === 423) && navigator.onLine;
        if (retry) {
          item.state = "retrying";
          item.message = `Connection trouble: trying again (${attempt + 1} of ${RETRY_DELAYS.length})…`;
          this.changed();
        }
        return retry;
      },
      onProgress: (sent) => this.progress(entry, sent),
      onAfterResponse: (request, response) => {
        const asset = response.getHeader("Vodkit-Asset-Id");
        if (asset) item.assetId = asset;
        const offset = Number(response.getHeader("Upload-Offset"));
        if (item.resumedAt === null && request.getMethod() === "POST") item.resumedAt = 0;
        if (item.resumedAt === null && request.getMethod() === "HEAD" && Number.isFinite(offset)) {
          item.resumedAt = offset; // resumed: the server already had this much
          item.sent = offset;
          this.changed();
        }
      },
      onSuccess: () => {
        item.state = "done";
        item.sent = item.size;
        item.speed = null;
        item.eta = null;
        item.message = "";
        this.changed();
        for (const listener of [...this.finished]) listener(item);
        this.pump();
      },
      onError: (error) => {
        const status = (error as tus.DetailedError).originalResponse?.getStatus() ?? 0;
        if (!navigator.onLine) {
          item.state = "offline";
          item.message = "The connection is lost: the upload resumes when it is back.";
        } else {
          item.state = "failed";
          item.message = describe(status, error);
        }
        item.speed = null;
        item.eta = null;
        this.changed();
        this.pump();
      },
    });
    entry.upload = upload;
    const twin = this.entries.some(
      (e) => e !== entry && e.upload && this.fingerprint(e.file) === this.fingerprint(file) && e.item.state !== "done",
    );
    try {
      const previous = twin ? [] : await upload.findPreviousUploads(); // the same file twice: two uploads
      previous.sort((a, b) => b.creationTime.localeCompare(a.creationTime));
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
    } catch {
      // no stored uploads: a new one
    }
    if (entry.upload === upload && item.state === "uploading") upload.start();
  }

  private progress(entry: Entry, sent: number): void {
    const { item } = entry;
    const now = performance.now();
    item.sent = sent;
    item.state = "uploading";
    item.message = "";
    entry.samples.push([now, sent]);
    while (entry.samples.length > 2 && now - entry.samples[0][0] > 4000) entry.samples.shift();
    const [t0, b0] = entry.samples[0];
    if (now - t0 > 400 && sent > b0) {
      item.speed = ((sent - b0) * 1000) / (now - t0);
      item.eta = (item.size - sent) / item.speed;
    }
    this.changed();
  }

  pause(key: string): void {
    const entry = this.find(key);
    if (!entry || !entry.upload) return;
    void entry.upload.abort();
    entry.item.state = "paused";
    entry.item.speed = null;
    entry.item.eta = null;
    this.changed();
    this.pump();
  }

  resume(key: string): void {
    const entry = this.find(key);
    if (!entry) return;
    entry.item.state = "queued";
    entry.item.resumedAt = null;
    this.changed();
    this.pump();
  }

  /** Stop, and delete what the server holds of it (tus termination). */
  async cancel(key: string): Promise<void> {
    const entry = this.find(key);
    if (!entry) return;
    this.entries = this.entries.filter((e) => e !== entry);
    this.changed();
    if (entry.upload && entry.item.state !== "done") {
      try {
        await entry.upload.abort(true);
      } catch {
        // already gone
      }
    }
    this.pump();
  }

  dismiss(key: string): void {
    this.entries = this.entries.filter((e) => e.item.key !== key);
    this.changed();
  }

  private find(key: string): Entry | undefined {
    return this.entries.find((e) => e.item.key === key);
  }

  /** Uploads an earlier visit left unfinished, with what the server holds of each. */
  async interrupted(): Promise<Interrupted[]> {
    if (!tus.canStoreURLs) return [];
    const storage = tus.defaultOptions.urlStorage;
    const prefix = `tus::vodkit|${this.uploader}|`;
    const running = new Set(this.entries.map((e) => this.fingerprint(e.file)));
    const found: Interrupted[] = [];
    for (const stored of await storage.findAllUploads()) {
      if (!stored.urlStorageKey.startsWith(prefix) || !stored.uploadUrl) continue;
      const fingerprint = stored.urlStorageKey.slice("tus::".length).replace(/::[^:]*$/, "");
      if (running.has(fingerprint)) continue;
      const state = await head(stored.uploadUrl);
      if (state === "gone" || (state !== "unknown" && state.done)) {
        await storage.removeUpload(stored.urlStorageKey);
        continue;
      }
      found.push({
        storageKey: stored.urlStorageKey,
        url: stored.uploadUrl,
        name: stored.metadata.filename ?? "(no name)",
        size: stored.size ?? 0,
        offset: state === "unknown" ? null : state.offset,
        createdAt: stored.creationTime,
      });
    }
    return found;
  }

  async discard(stored: Interrupted): Promise<void> {
    try {
      await tus.Upload.terminate(stored.url, { headers: { "X-CSRF-Token": csrf() }, retryDelays: [] });
    } catch {
      // expired or gone already
    }
    await tus.defaultOptions.urlStorage.removeUpload(stored.storageKey);
  }
}

async function head(url: string): Promise<"gone" | "unknown" | { offset: number; done: boolean }> {
  try {
    const response = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } });
    if (response.status === 404 || response.status === 410) return "gone";
    if (!response.ok) return "unknown";
    const offset = Number(response.headers.get("Upload-Offset"));
    return { offset, done: response.headers.has("Vodkit-Asset-Id") };
  } catch {
    return "unknown";
  }
}

function describe(status: number, error: Error): string {
  if (status === 413) return "Refused: the file is larger than the server takes.";
  if (status === 401) return "Your session ended: sign in again, then choose the file to resume.";
  if (status === 403) return "Refused: this session may not upload (sign in again).";
  if (status === 410) return "The upload expired on the server: start it again.";
  if (status) return `The server refused the upload (${status}).`;
  return `The upload stopped: ${error.message.split("\n")[0]}`;
}

export const uploads = new Uploads();
