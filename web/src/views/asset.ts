// An asset: its player (HLS, DASH or MP4, scrub previews, quality; an audio asset's waveform
// and M4A), its captions (listed, added, removed), its renditions, its playback URLs and an
// embed snippet to copy, its processing while it runs, and Delete.

import { api, ApiError, type Asset, isAudio, pendingAsset, terminal } from "../api";
import { badge, errorBox, processing, reasons, retryable, spinner } from "../components";
import { announce, fill, h, safeUrl, uid } from "../dom";
import { bitrate, bytes, clock, when } from "../format";
import { icon } from "../icons";
import { follow, seen } from "../live";
import { codecName } from "../manifests";
import { player, type PlayerHandle } from "../playerView";
import { go } from "../router";
import { uploads } from "../uploads";
import { type CaptionsPanel, captionsPanel } from "./captions";
import type { Context, Mounted } from "./view";

export function assetView(main: HTMLElement, { session, route }: Context): Mounted {
  const id = route.id;
  const page = h("section", { class: "page" });
  main.append(page);
  fill(page, h("h1", { tabindex: -1, class: "visually-hidden" }, "Video"), spinner("Loading the video…"));
  let handle: PlayerHandle | null = null;
  let panel: CaptionsPanel | null = null;
  let reloads = 0; // the player made again after a caption change: the latest one wins
  let unfollow: (() => void) | null = null;
  let shown: Asset | null = null;
  let gone = false;

  function notFound(): void {
    handle?.destroy();
    handle = null;
    panel?.destroy();
    panel = null;
    fill(
      page,
      h("h1", { tabindex: -1 }, "Video not found"),
      h("p", null, "There is no video ", h("code", null, id), " in this library: it was deleted, or it is not yours."),
      h("p", null, h("a", { href: "#/" }, "Back to the library")),
    );
    page.querySelector("h1")?.focus();
  }

  function show(asset: Asset): void {
    const before = shown;
    shown = asset;
    document.title = `${asset.filename} · vodkit`;
    if (before && before.status === asset.status) {
      const old = page.querySelector(".processing");
      const fresh = processing(asset);
      if (old && fresh) old.replaceWith(fresh);
      // its tracks changed (captions added or removed elsewhere while it processes)
      if (JSON.stringify(before.tracks ?? []) !== JSON.stringify(asset.tracks ?? [])) panel?.refresh();
      return;
    }
    handle?.destroy();
    handle = null;
    panel?.destroy();
    panel = null;
    const head = h(
      "div",
      { class: "asset-head" },
      h("a", { class: "back", href: "#/" }, icon("back"), "Library"),
      h("h1", { tabindex: -1, class: "asset-title" }, asset.filename || "(no name)"),
      h("div", { class: "asset-status" }, badge(asset.status)),
    );
    const primary = h("div", { class: "asset-main" });
    // captions may be added to any asset that can still become playable (the server judges
    // when: a 409 is shown as it says); a placeholder the server has not recorded has none
    const known = seen.has(asset.assetId);
    if (asset.status !== "FAILED" && known) panel = captionsPanel(asset, () => void reloadPlayer(asset.assetId));
    if (asset.status === "COMPLETED") {
      handle = player(asset);
      primary.append(handle.element);
      if (isAudio(asset)) primary.append(download(asset) ?? "");
      primary.append(panel?.element ?? "", renditions(asset), urls(asset));
    } else {
      primary.append(pending(asset), panel?.element ?? "");
    }
    fill(page, head, h("div", { class: "asset-layout" }, primary, aside(asset)));
    if (before) page.querySelector<HTMLElement>(".asset-title")?.focus();
    if (!terminal(asset.status) && !unfollow) {
      unfollow = follow(asset.assetId, (update) => {
        if ("asset" in update) show(update.asset);
        else if (!gone) notFound();
        if ("asset" in update && terminal(update.asset.status)) {
          unfollow?.();
          unfollow = null;
        }
      });
    }
  }

  /** After a caption change: the asset again (its tracks), its manifests fetched past the
   * browser's cache (they are cached for a minute), and a new player where the old one was. */
  async function reloadPlayer(assetId: string): Promise<void> {
    reloads += 1;
    const mine = reloads;
    try {
      const fresh = await api.asset(assetId);
      if (mine !== reloads || gone || shown?.assetId !== assetId) return;
      if (fresh.status !== "COMPLETED" || shown.status !== "COMPLETED" || !handle) {
        shown = fresh; // not playable yet: the player comes with COMPLETED
        return;
      }
      const p = fresh.playback;
      const manifests = [p?.hls, p?.dash, ...Object.values(p?.captions ?? {}).flatMap((vtt) => [vtt, vtt.replace(/\.vtt$/, ".m3u8")])];
      await Promise.all(
        manifests.map((url) => (safeUrl(url) ? fetch(safeUrl(url) ?? "", { cache: "reload" }).catch(() => null) : null)),
      );
      if (mine !== reloads || !handle || !handle.element.isConnected) return;
      shown = fresh;
      const before = handle;
      handle = player(fresh, before.state());
      before.destroy();
      before.element.replaceWith(handle.element);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        announce(`The player could not be reloaded: ${error instanceof Error ? error.message : String(error)}`, "error");
      }
    }
  }

  /** An audio asset's M4A, to keep. */
  function download(asset: Asset): HTMLElement | null {
    const url = safeUrl(asset.playback?.m4a);
    if (!url) return null;
    const name = `${asset.filename.replace(/\.[^.]*$/, "") || "audio"}.m4a`;
    return h(
      "p",
      { class: "download" },
      h("a", { class: "button", href: url, download: name }, icon("download"), "Download M4A"),
      h("span", { class: "muted" }, " AAC in an MP4 file: any player opens it."),
    );
  }

  function pending(asset: Asset): HTMLElement {
    const panel = h("div", { class: "panel panel-pending" });
    if (asset.status === "FAILED" && !retryable(asset)) {
      panel.append(
        h("h2", null, "It did not work"),
        reasons(asset) ?? "",
        h("p", { class: "muted" }, "A retry would read the same file: upload a new one instead."),
      );
    } else if (asset.status === "FAILED") {
      const retry = h("button", { type: "button", class: "button button-primary" }, "Retry");
      retry.addEventListener("click", async () => {
        retry.disabled = true;
        try {
          show(await api.retry(asset.assetId));
          announce(`${asset.filename}: trying again`);
        } catch (error) {
          retry.disabled = false;
          announce(error instanceof Error ? error.message : "Retry failed", "error");
        }
      });
      panel.append(h("h2", null, "It did not work"), reasons(asset) ?? "", h("div", { class: "actions" }, retry));
    } else {
      panel.append(
        h("h2", null, asset.status === "PENDING" ? "Waiting for a worker" : "Processing"),
        processing(asset) ?? "",
        h("p", { class: "muted" }, "This page follows it live: the player appears when it is ready."),
      );
    }
    return panel;
  }

  function renditions(asset: Asset): HTMLElement {
    const rows = [...asset.renditions]
      .sort((a, b) => (a.kind === b.kind ? b.width * b.height - a.width * a.height : a.kind === "stream" ? -1 : 1))
      .map((r) => {
        const cell = h("td", null, r.codecs ? r.codecs.split(",").map(codecName).join(" + ") : "—");
        return h(
          "tr",
          null,
          h("th", { scope: "row" }, r.name),
          h("td", null, r.kind === "stream" ? "HLS + DASH" : r.kind.toUpperCase()),
          h("td", null, r.width && r.height ? `${r.width}×${r.height}` : "—"),
          h("td", null, bitrate(r.videoBitrate)),
          h("td", null, bitrate(r.audioBitrate)),
          cell,
        );
      });
    return h(
      "section",
      { class: "panel" },
      h("h2", null, "Renditions"),
      h(
        "div",
        { class: "table-wrap", tabindex: 0, role: "group", "aria-label": "Renditions table" },
        h(
          "table",
          { class: "renditions" },
          h("thead", null, h("tr", null, ...["Name", "Kind", "Size", "Video", "Audio", "Codecs"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, ...rows),
        ),
      ),
    );
  }

  function urls(asset: Asset): HTMLElement {
    const p = asset.playback;
    const audioOnly = isAudio(asset);
    const entries: Array<[string, string | null]> = [
      ["HLS", safeUrl(p?.hls)],
      ["DASH", safeUrl(p?.dash)],
      ["MP4", safeUrl(p?.mp4)],
      ["M4A", safeUrl(p?.m4a)],
      [audioOnly ? "Waveform (PNG)" : "Poster", safeUrl(p?.poster)],
      ["Scrub previews (WebVTT)", safeUrl(p?.sprite)],
      ...Object.entries(p?.captions ?? {}).map(([lang, url]): [string, string | null] => [`Captions, ${lang} (WebVTT)`, safeUrl(url)]),
    ];
    const rows = entries.filter((e): e is [string, string] => Boolean(e[1])).map(([label, url]) => copyRow(label, url));
    const stream = asset.renditions.find((r) => r.kind === "stream");
    const size = stream?.width && stream.height ? ` width="${stream.width}" height="${stream.height}"` : "";
    const lines = audioOnly
      ? [
          `<audio controls preload="metadata">`,
          p?.hls ? `  <source src="${attr(p.hls)}" type="application/vnd.apple.mpegurl">` : "",
          p?.m4a ? `  <source src="${attr(p.m4a)}" type="audio/mp4">` : "",
          "</audio>",
        ].filter(Boolean)
      : [
          `<video controls playsinline preload="metadata"${size}${p?.poster ? ` poster="${attr(p.poster)}"` : ""}>`,
          p?.hls ? `  <source src="${attr(p.hls)}" type="application/vnd.apple.mpegurl">` : "",
          p?.mp4 ? `  <source src="${attr(p.mp4)}" type="video/mp4">` : "",
          "</video>",
        ].filter(Boolean);
    const embedId = uid("embed");
    const embed = h("textarea", { id: embedId, class: "code", readonly: true, rows: lines.length + 1, spellcheck: "false" });
    embed.value = lines.join("\n");
    return h(
      "section",
      { class: "panel" },
      h("h2", null, "Playback URLs"),
      h("p", { class: "muted" }, "Signed URLs: any player opens them, until their token expires (VODKIT_PLAYBACK_TTL, 6 h by default)."),
      h("div", { class: "copy-list" }, ...rows),
      h("h3", null, h("label", { for: embedId }, "Embed")),
      h("p", { class: "muted" }, `HLS where the browser plays it (Safari, iOS, Android), the ${audioOnly ? "M4A" : "MP4"} elsewhere.`),
      embed,
      h("div", { class: "actions" }, copyButton(() => embed.value, "embed snippet")),
    );
  }

  function aside(asset: Asset): HTMLElement {
    const facts: Array<[string, string | HTMLElement]> = [
      ["Status", badge(asset.status)],
      ["File", bytes(asset.fileSize)],
      ...(asset.duration !== null ? ([["Duration", clock(asset.duration)]] as Array<[string, string]>) : []),
      ["Uploaded", when(asset.createdAt)],
      ["Updated", when(asset.updatedAt)],
      ["Attempt", String(asset.attempt)],
      ["Asset id", h("code", { class: "wrap" }, asset.assetId)],
    ];
    if (session.admin || asset.uploaderId !== session.uploaderId) facts.splice(1, 0, ["Uploader", asset.uploaderId]);
    const remove = h("button", { type: "button", class: "button button-danger" }, `Delete ${noun(asset)}…`);
    remove.addEventListener("click", () => confirmDelete(asset, remove));
    return h(
      "aside",
      { class: "asset-aside", "aria-label": "About this video" },
      h("section", { class: "panel" }, h("h2", null, "Details"), h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]))),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Delete"),
        h("p", { class: "muted" }, `Removes the renditions, the ${isAudio(asset) ? "waveform, the M4A" : "poster, the previews"} and the upload.`),
        remove,
      ),
    );
  }

  function confirmDelete(asset: Asset, opener: HTMLElement): void {
    const titleId = uid("dialog-title");
    const cancel = h("button", { type: "button", class: "button", value: "cancel" }, "Cancel");
    const confirm = h("button", { type: "button", class: "button button-danger", value: "delete" }, "Delete");
    const problem = h("p", { class: "text-error", role: "alert" });
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId }, `Delete this ${noun(asset)}?`),
      h("p", null, h("strong", { class: "wrap" }, asset.filename), " and everything made from it are removed. This cannot be undone."),
      problem,
      h("div", { class: "actions actions-end" }, cancel, confirm),
    );
    document.body.append(dialog);
    const close = () => {
      dialog.close();
      dialog.remove();
      opener.focus();
    };
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close();
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      cancel.disabled = true;
      try {
        await api.remove(asset.assetId);
        gone = true;
        dialog.close();
        dialog.remove();
        announce(`${asset.filename} is deleted`);
        go("#/");
      } catch (error) {
        problem.textContent = error instanceof Error ? error.message : "It could not be deleted.";
        confirm.disabled = false;
        cancel.disabled = false;
      }
    });
    dialog.showModal();
    cancel.focus();
  }

  const controller = new AbortController();
  api
    .asset(id, controller.signal)
    .then((asset) => {
      seen.add(asset.assetId);
      show(asset);
      page.querySelector<HTMLElement>(".asset-title")?.focus();
    })
    .catch((error: unknown) => {
      if (error instanceof DOMException && error.name === "AbortError") return;
      if (error instanceof ApiError && error.status === 404) {
        // an upload of this page that no worker has taken in yet is not missing: it waits
        const fresh = uploads.items().find((i) => i.assetId === id && i.state === "done");
        if (fresh && !seen.has(id)) {
          show(pendingAsset(id, session.uploaderId, fresh.name, fresh.size));
          page.querySelector<HTMLElement>(".asset-title")?.focus();
        } else {
          notFound();
        }
      }
      else if (!(error instanceof ApiError && error.status === 401)) {
        fill(page, h("h1", { tabindex: -1 }, "Video"), errorBox(error instanceof Error ? error.message : "It could not be loaded."));
      }
    });

  return {
    cleanup: () => {
      controller.abort();
      unfollow?.();
      handle?.destroy();
      panel?.destroy();
      reloads += 1;
      document.querySelectorAll("dialog").forEach((d) => d.remove());
    },
  };
}

/** What the page calls it. */
function noun(asset: Asset): string {
  return isAudio(asset) ? "recording" : "video";
}

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

function copyRow(label: string, url: string): HTMLElement {
  const id = uid("url");
  const input = h("input", { id, type: "text", readonly: true, class: "code", spellcheck: "false" });
  input.value = url;
  input.addEventListener("focus", () => input.select());
  return h(
    "div",
    { class: "copy-row" },
    h("label", { for: id }, label),
    h("div", { class: "copy-field" }, input, copyButton(() => url, label)),
  );
}

function copyButton(value: () => string, what: string): HTMLButtonElement {
  const button = h("button", { type: "button", class: "button button-small", "aria-label": `Copy ${what}` }, "Copy");
  button.addEventListener("click", async () => {
    const text = value();
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // not a secure context (http on another host than localhost): the old way
      const area = h("textarea", { class: "visually-hidden", readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      copied = document.execCommand("copy");
      area.remove();
    }
    button.textContent = copied ? "Copied" : "Copy failed";
    announce(copied ? `${what}: copied` : `${what}: select it and copy`);
    window.setTimeout(() => {
      button.textContent = "Copy";
    }, 2000);
  });
  return button;
}
