// Upload: drop files or choose them; each goes over tus with its progress, speed and time
// left, and then shows its processing. Uploads an earlier visit left unfinished are listed:
// choosing the same file again resumes it where the server stopped.

import { api, type Asset, terminal } from "../api";
import { badge, processing, reasons } from "../components";
import { announce, fill, h, onDrop, uid } from "../dom";
import { bytes, left, speed } from "../format";
import { follow } from "../live";
import { assetHref } from "../router";
import { type Interrupted, type UploadItem, uploads } from "../uploads";
import type { Context, Mounted } from "./view";

const ACCEPT = "video/*,audio/*,.mp4,.m4v,.mov,.mkv,.webm,.ts,.mts,.avi,.flv,.mp3,.m4a,.aac,.wav,.flac,.ogg,.opus";

export function upload(main: HTMLElement, _context: Context): Mounted {
  const inputId = uid("files");
  const hintId = uid("hint");
  const input = h("input", {
    id: inputId,
    type: "file",
    multiple: true,
    accept: ACCEPT,
    class: "visually-hidden",
    "aria-describedby": hintId,
  });
  const limit = h("span", null, "");
  const zone = h(
    "div",
    { class: "dropzone" },
    h("span", { class: "dropzone-icon", "aria-hidden": "true" }),
    h("p", { class: "dropzone-title" }, "Drop videos here"),
    h("p", { class: "muted" }, "or"),
    input,
    h("label", { for: inputId, class: "button button-primary" }, "Choose files"),
    h(
      "p",
      { id: hintId, class: "help" },
      "Several at once; audio files (MP3, M4A, WAV, FLAC, Ogg) too. ",
      limit,
      "Uploads resume where they stopped after a reload or a lost connection.",
    ),
  );
  const interruptedList = h("div", { class: "interrupted" });
  const list = h("ul", { class: "uploads", "aria-label": "Uploads" });

  main.append(
    h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Upload videos"), h("a", { class: "button", href: "#/" }, "Library")),
      zone,
      interruptedList,
      list,
    ),
  );

  void api.maxUploadSize().then((max) => {
    uploads.maxSize = max;
    if (max !== null) limit.textContent = `Up to ${bytes(max)} a file. `;
  });

  input.addEventListener("change", () => {
    if (input.files?.length) uploads.add(Array.from(input.files));
    input.value = "";
  });
  onDrop(zone, (files) => uploads.add(files));

  async function showInterrupted(): Promise<void> {
    const found = await uploads.interrupted();
    if (!found.length) {
      fill(interruptedList);
      return;
    }
    fill(
      interruptedList,
      h("h2", null, "Unfinished uploads"),
      h("p", { class: "muted" }, "Choose the same file again and it resumes where the server stopped."),
      h("ul", { class: "uploads", "aria-label": "Unfinished uploads" }, ...found.map(interruptedRow)),
    );
  }

  function interruptedRow(stored: Interrupted): HTMLLIElement {
    const percent = stored.offset !== null && stored.size ? (100 * stored.offset) / stored.size : 0;
    const choose = h("button", { type: "button", class: "button button-small", "aria-label": `Choose file ${stored.name} again` }, "Choose file");
    choose.addEventListener("click", () => input.click());
    const discard = h("button", { type: "button", class: "button button-small", "aria-label": `Discard ${stored.name}` }, "Discard");
    discard.addEventListener("click", async () => {
      discard.disabled = true;
      await uploads.discard(stored);
      void showInterrupted();
    });
    return h(
      "li",
      { class: "upload-row upload-interrupted", "data-name": stored.name },
      h(
        "div",
        { class: "upload-head" },
        h("span", { class: "upload-name" }, stored.name),
        h("span", { class: "muted" }, stored.offset !== null ? `${bytes(stored.offset)} of ${bytes(stored.size)} on the server` : bytes(stored.size)),
      ),
      h("progress", { max: 100, value: percent, "aria-label": `${stored.name}: sent before` }),
      h(
        "div",
        { class: "upload-foot" },
        h("span", { class: "muted" }, "Interrupted"),
        h("span", { class: "upload-actions" }, choose, discard),
      ),
    );
  }

  interface Row {
    row: HTMLLIElement;
    bar: HTMLProgressElement;
    status: HTMLElement;
    actions: HTMLElement;
    details: HTMLElement;
    signature: string;
    follow?: () => void;
    asset?: Asset;
  }
  const rows = new Map<string, Row>();
  let count = -1;

  function render(): void {
    const items = uploads.items();
    const keys = new Set(items.map((i) => i.key));
    for (const [key, entry] of rows) {
      if (!keys.has(key)) {
        entry.follow?.();
        entry.row.remove();
        rows.delete(key);
      }
    }
    items.forEach((item, index) => {
      let entry = rows.get(item.key);
      if (!entry) {
        entry = makeRow(item);
        rows.set(item.key, entry);
      }
      if (list.children[index] !== entry.row) list.insertBefore(entry.row, list.children[index] ?? null);
      if (item.assetId && item.state === "done" && !entry.follow) {
        const mine = entry;
        mine.follow = follow(item.assetId, (update) => {
          if ("asset" in update) mine.asset = update.asset;
          updateRow(mine, item);
        });
      }
      updateRow(entry, item);
    });
    if (items.length !== count) {
      count = items.length;
      void showInterrupted(); // a resumed one leaves that list; a finished one leaves storage
    }
  }

  function makeRow(item: UploadItem): Row {
    const bar = h("progress", { max: 100, value: 0, "aria-label": `Uploading ${item.name}` });
    const status = h("span", { class: "upload-status" });
    const actions = h("span", { class: "upload-actions" });
    const details = h("div", { class: "upload-details" });
    const row = h(
      "li",
      { class: "upload-row", "data-name": item.name },
      h("div", { class: "upload-head" }, h("span", { class: "upload-name" }, item.name), h("span", { class: "muted" }, bytes(item.size))),
      bar,
      h("div", { class: "upload-foot" }, status, actions),
      details,
    );
    return { row, bar, status, actions, details, signature: "" };
  }

  /** In place: the progress and its words every time, the buttons only when they change
   * (a button replaced under the pointer would lose its click). */
  function updateRow(entry: Row, item: UploadItem): void {
    const { row, bar, asset } = entry;
    row.dataset.state = item.state;
    if (item.assetId) row.dataset.assetId = item.assetId;
    bar.value = item.size ? (100 * item.sent) / item.size : item.state === "done" ? 100 : 0;
    bar.hidden = item.state === "refused" || item.state === "done"; // then: its processing
    const signature = [item.state, item.message, asset?.status, asset?.progress?.percent, asset?.updatedAt].join("|");
    if (item.state === "uploading" || signature !== entry.signature) {
      if (item.state === "done") {
        fill(
          entry.status,
          ...(asset
            ? [badge(asset.status), asset.status === "COMPLETED" ? h("a", { href: assetHref(asset.assetId) }, "Open") : ""]
            : [h("span", { class: "muted" }, "Uploaded · waiting for a worker…")]),
        );
      } else {
        const error = item.state === "failed" || item.state === "refused";
        fill(entry.status, h("span", { class: error ? "text-error" : "muted" }, describe(item)));
      }
    }
    if (signature === entry.signature) return;
    const actionsKey = [item.state, asset && terminal(asset.status)].join("|");
    if (entry.actions.dataset.key !== actionsKey) {
      entry.actions.dataset.key = actionsKey;
      const hadFocus = entry.actions.contains(document.activeElement);
      fill(entry.actions, ...actionsFor(item, asset));
      if (hadFocus) (entry.actions.querySelector("button") ?? row.querySelector("a"))?.focus();
    }
    fill(
      entry.details,
      asset ? processing(asset) : null,
      asset ? reasons(asset) : null,
      item.message ? h("p", { class: item.state === "refused" || item.state === "failed" ? "text-error" : "muted" }, item.message) : null,
    );
    entry.signature = signature;
  }

  function actionsFor(item: UploadItem, asset?: Asset): HTMLElement[] {
    const actions: HTMLElement[] = [];
    const action = (label: string, run: () => void) => {
      const button = h("button", { type: "button", class: "button button-small", "aria-label": `${label} ${item.name}` }, label);
      button.addEventListener("click", run);
      actions.push(button);
    };
    if (item.state === "uploading" || item.state === "retrying" || item.state === "queued") {
      if (item.state !== "queued") action("Pause", () => uploads.pause(item.key));
      action("Cancel", () => void uploads.cancel(item.key));
    } else if (item.state === "paused" || item.state === "failed" || item.state === "offline") {
      action(item.state === "failed" ? "Try again" : "Resume", () => uploads.resume(item.key));
      action("Cancel", () => void uploads.cancel(item.key));
    } else if (item.state === "refused" || (asset && terminal(asset.status))) {
      action("Dismiss", () => uploads.dismiss(item.key));
    }
    return actions;
  }

  function describe(item: UploadItem): string {
    const percent = item.size ? Math.floor((100 * item.sent) / item.size) : 0;
    switch (item.state) {
      case "queued":
        return "Waiting to start…";
      case "uploading": {
        const parts = [`${percent} %`, speed(item.speed), left(item.eta)].filter(Boolean);
        if (item.resumedAt) parts.push(`resumed at ${bytes(item.resumedAt)}`);
        return parts.join(" · ");
      }
      case "retrying":
        return item.message || "Trying again…";
      case "paused":
        return `Paused at ${percent} %`;
      case "offline":
        return `Offline at ${percent} %`;
      case "failed":
        return "Stopped";
      case "refused":
        return "Not sent";
      default:
        return "";
    }
  }

  const stop = uploads.subscribe(render);
  const stopFinished = uploads.onFinished((item) => announce(`${item.name} is uploaded`));
  render();

  return {
    cleanup: () => {
      stop();
      stopFinished();
      for (const entry of rows.values()) entry.follow?.();
    },
  };
}
