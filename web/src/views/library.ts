// The library: the uploader's videos (an admin's: everyone's), newest first, with live
// status from server-sent events, a status filter and pages over the API's cursor. An audio
// asset's card shows its waveform and says "Audio".

import { api, type Asset, isAudio, pendingAsset, STATUSES, type Status, terminal } from "../api";
import { badge, errorBox, processing, retryable, shortReason, spinner, statusLabel } from "../components";
import { announce, fill, h, safeUrl, uid } from "../dom";
import { ago, bytes, clock, when } from "../format";
import { icon } from "../icons";
import { follow, seen } from "../live";
import { assetHref, libraryHref, type Route } from "../router";
import { uploads } from "../uploads";
import type { Context, Mounted } from "./view";

const PAGE = 20; // #/?limit=N shows N a page (1-100)
const RECENT = 10 * 60_000; // an upload finished this recently shows even before the API lists it

export function library(main: HTMLElement, { session, route }: Context): Mounted {
  let status = "";
  let uploader = "";
  let cursors: Array<string | undefined> = [undefined]; // the cursor of each page seen
  let page = 0;
  let limit = PAGE;
  let controller: AbortController | null = null;
  const followed = new Map<string, () => void>();
  const cards = new Map<string, HTMLLIElement>();
  const assets = new Map<string, Asset>();

  const statusId = uid("status");
  const statusSelect = h(
    "select",
    { id: statusId, name: "status" },
    h("option", { value: "" }, "All"),
    ...STATUSES.map((s) => h("option", { value: s }, statusLabel(s))),
  );
  const uploaderId = uid("uploader");
  const uploaderInput = h("input", {
    id: uploaderId,
    name: "uploader",
    type: "search",
    placeholder: "every uploader",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 128,
  });
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter videos" },
    h("div", { class: "field-inline" }, h("label", { for: statusId }, "Status"), statusSelect),
    session.admin
      ? h(
          "div",
          { class: "field-inline" },
          h("label", { for: uploaderId }, "Uploader"),
          uploaderInput,
          h("button", { type: "submit", class: "button" }, "Show"),
        )
      : null,
  );
  const summary = h("p", { class: "summary muted", role: "status" });
  const grid = h("ul", { class: "grid", "aria-label": "Videos" });
  const newer = h("button", { type: "button", class: "button" }, "← Newer");
  const older = h("button", { type: "button", class: "button" }, "Older →");
  const pageLabel = h("span", { class: "muted" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" }, newer, pageLabel, older);
  const body = h("div", { class: "library-body" });

  main.append(
    h(
      "section",
      { class: "page" },
      h(
        "div",
        { class: "page-head" },
        h("h1", { tabindex: -1 }, session.admin ? "All videos" : "Library"),
        h("a", { class: "button button-primary", href: "#/upload" }, "Upload videos"),
      ),
      filters,
      summary,
      body,
      pager,
    ),
  );

  const setQuery = () => {
    history.replaceState(null, "", libraryHref({ status, uploader, limit: limit === PAGE ? "" : String(limit) }));
  };
  statusSelect.addEventListener("change", () => {
    status = statusSelect.value;
    setQuery();
    restart();
  });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    uploader = uploaderInput.value.trim();
    setQuery();
    restart();
  });
  newer.addEventListener("click", () => {
    if (page > 0) {
      page -= 1;
      void load(newer);
    }
  });
  older.addEventListener("click", () => {
    if (cursors[page + 1] !== undefined) {
      page += 1;
      void load(older);
    }
  });

  function unfollowAll(): void {
    for (const stop of followed.values()) stop();
    followed.clear();
  }

  function restart(): void {
    cursors = [undefined];
    page = 0;
    void load();
  }

  function read(from: Route): void {
    const wanted = from.query.get("status") ?? "";
    status = (STATUSES as string[]).includes(wanted) ? wanted : "";
    uploader = session.admin ? (from.query.get("uploader") ?? "") : "";
    const wantedLimit = Number(from.query.get("limit") ?? PAGE);
    limit = Number.isInteger(wantedLimit) && wantedLimit >= 1 && wantedLimit <= 100 ? wantedLimit : PAGE;
    statusSelect.value = status;
    uploaderInput.value = uploader;
  }

  async function load(focusAfter?: HTMLElement): Promise<void> {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    unfollowAll();
    cards.clear();
    assets.clear();
    fill(body, spinner("Loading videos…"));
    pager.hidden = true;
    try {
      const list = await api.assets({ status, uploader, limit, cursor: cursors[page] }, mine.signal);
      if (mine.signal.aborted) return;
      for (const asset of list.items) seen.add(asset.assetId);
      cursors[page + 1] = list.next ?? undefined;
      cursors.length = page + 2;
      fill(grid);
      const shown = [...recentUploads(list.items), ...list.items];
      for (const asset of shown) place(asset, "end");
      fill(body, shown.length ? grid : empty());
      renderPager(list.next);
      summarise();
      focusAfter?.focus();
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return;
      fill(body, errorBox(error instanceof Error ? error.message : "The videos could not be listed."));
    }
  }

  /** Uploads this page finished that the API does not list yet (a worker has not taken them in). */
  function recentUploads(listed: Asset[]): Asset[] {
    if (page !== 0 || (status && status !== "PENDING") || (uploader && uploader !== session.uploaderId)) return [];
    const known = new Set(listed.map((a) => a.assetId));
    return uploads
      .items()
      .filter((i) => i.state === "done" && i.assetId && !known.has(i.assetId) && !seen.has(i.assetId))
      .filter((i) => Date.now() - i.startedAt < RECENT)
      .map((i) => pendingAsset(i.assetId ?? "", session.uploaderId, i.name, i.size));
  }

  function empty(): HTMLElement {
    if (status || uploader) {
      return h("div", { class: "empty" }, h("p", null, "No videos match this filter."));
    }
    return h(
      "div",
      { class: "empty" },
      h("p", { class: "empty-title" }, "No videos yet"),
      h("p", { class: "muted" }, "Upload a video: it is turned into an HLS and DASH ladder, an MP4, a poster and scrub previews."),
      h("a", { class: "button button-primary", href: "#/upload" }, "Upload videos"),
    );
  }

  function renderPager(next: string | null): void {
    pager.hidden = page === 0 && !next;
    newer.disabled = page === 0;
    older.disabled = !next;
    pageLabel.textContent = `Page ${page + 1}`;
  }

  function summarise(): void {
    const count = cards.size;
    const busy = [...assets.values()].filter((a) => !terminal(a.status)).length;
    summary.textContent = count
      ? `${count} video${count === 1 ? "" : "s"} on this page${busy ? `, ${busy} processing` : ""}`
      : "";
  }

  function place(asset: Asset, where: "start" | "end"): void {
    if (!grid.isConnected && body.isConnected && !body.querySelector(".loading")) fill(body, grid);
    assets.set(asset.assetId, asset);
    const card = h("li", { class: "card" });
    cards.set(asset.assetId, card);
    renderCard(card, asset);
    if (where === "start") grid.prepend(card);
    else grid.append(card);
    if (!terminal(asset.status) && !followed.has(asset.assetId)) {
      followed.set(asset.assetId, follow(asset.assetId, (update) => {
        if ("asset" in update) {
          const before = assets.get(asset.assetId)?.status;
          assets.set(asset.assetId, update.asset);
          const current = cards.get(asset.assetId);
          if (current) renderCard(current, update.asset);
          if (before !== update.asset.status && terminal(update.asset.status)) {
            announce(`${update.asset.filename}: ${statusLabel(update.asset.status).toLowerCase()}`);
          }
        } else {
          remove(asset.assetId);
        }
        summarise();
      }));
    }
  }

  function remove(id: string): void {
    cards.get(id)?.remove();
    cards.delete(id);
    assets.delete(id);
    followed.get(id)?.();
    followed.delete(id);
    if (!cards.size) fill(body, empty());
  }

  function renderCard(card: HTMLLIElement, asset: Asset): void {
    if (card.dataset.status === asset.status && card.firstChild) {
      // the same status: only its progress changes (links and buttons stay under the pointer)
      const before = card.querySelector(".processing");
      const after = processing(asset);
      if (before && after) before.replaceWith(after);
      return;
    }
    card.dataset.assetId = asset.assetId;
    card.dataset.status = asset.status;
    const href = assetHref(asset.assetId);
    const poster = asset.status === "COMPLETED" ? safeUrl(asset.playback?.poster) : null;
    const length = h("span", { class: "duration", hidden: asset.duration === null });
    if (asset.duration !== null) {
      length.textContent = clock(asset.duration);
      length.setAttribute("aria-label", `duration ${clock(asset.duration)}`);
    }
    const retry = retryable(asset) ? h("button", { type: "button", class: "button button-small" }, "Retry") : null;
    retry?.addEventListener("click", async () => {
      retry.disabled = true;
      try {
        const again = await api.retry(asset.assetId);
        remove(asset.assetId);
        place(again, "start");
        cards.get(asset.assetId)?.querySelector<HTMLAnchorElement>(".card-title a")?.focus();
        announce(`${asset.filename}: trying again`);
      } catch (error) {
        retry.disabled = false;
        announce(error instanceof Error ? error.message : "Retry failed", "error");
      }
    });
    fill(
      card,
      h(
        "a",
        { class: "thumb", href, tabindex: -1, "aria-hidden": "true" },
        poster
          ? h("img", { src: poster, alt: "", loading: "lazy", decoding: "async", class: isAudio(asset) ? "thumb-waveform" : null })
          : h("span", { class: `thumb-empty thumb-${asset.status.toLowerCase()}` }),
        isAudio(asset) ? h("span", { class: "thumb-kind" }, icon("audio")) : null,
        length,
      ),
      h(
        "div",
        { class: "card-body" },
        h("h2", { class: "card-title" }, h("a", { href, title: asset.filename }, asset.filename || "(no name)")),
        h(
          "p",
          { class: "card-meta" },
          badge(asset.status as Status),
          isAudio(asset) ? h("span", { class: "kind-tag", "data-kind": "audio" }, icon("audio"), "Audio") : null,
          h("span", null, bytes(asset.fileSize)),
          h("time", { datetime: asset.createdAt, title: when(asset.createdAt) }, ago(asset.createdAt)),
          session.admin ? h("span", { class: "uploader" }, asset.uploaderId) : null,
        ),
        processing(asset),
        shortReason(asset),
        retry ? h("div", { class: "card-actions" }, retry) : null,
      ),
    );
  }

  const stopFinished = uploads.onFinished((item) => {
    if (!item.assetId || cards.has(item.assetId) || page !== 0) return;
    if ((status && status !== "PENDING") || (uploader && uploader !== session.uploaderId)) return;
    if (!grid.isConnected) fill(body, grid);
    place(pendingAsset(item.assetId, session.uploaderId, item.name, item.size), "start");
    summarise();
  });

  read(route);
  void load();

  return {
    cleanup: () => {
      controller?.abort();
      unfollowAll();
      stopFinished();
    },
    update: (next) => {
      read(next);
      restart();
    },
  };
}
