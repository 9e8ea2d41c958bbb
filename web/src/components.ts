// Small pieces shared by the views.

import type { Asset, Status } from "./api";
import { h } from "./dom";
import { left } from "./format";

const LABELS: Record<Status, string> = {
  PENDING: "Pending",
  PROCESSING: "Processing",
  COMPLETED: "Ready",
  FAILED: "Failed",
};

export function statusLabel(status: Status): string {
  return LABELS[status] ?? status;
}

export function badge(status: Status): HTMLElement {
  return h(
    "span",
    { class: `badge badge-${status.toLowerCase()}`, "data-status": status },
    h("span", { class: "badge-dot", "aria-hidden": "true" }),
    statusLabel(status),
  );
}

/** Percent and time left while processing; what waits, while pending. */
export function processing(asset: Asset): HTMLElement | null {
  if (asset.status === "PROCESSING") {
    const percent = asset.progress?.percent ?? 0;
    const eta = left(asset.progress?.etaSeconds);
    return h(
      "div",
      { class: "processing" },
      h("progress", { max: 100, value: percent, "aria-label": `Processing ${asset.filename}` }),
      h("span", { class: "processing-text", "data-percent": percent }, `${Math.round(percent)} %`, eta ? ` · ${eta}` : ""),
    );
  }
  if (asset.status === "PENDING") {
    return h("div", { class: "processing" }, h("span", { class: "muted" }, "Waiting for a worker…"));
  }
  return null;
}

/** Why it failed, in words. */
export function reasons(asset: Asset): HTMLElement | null {
  if (asset.status !== "FAILED") return null;
  const errors = asset.errors.length ? asset.errors : [{ code: "", message: "vodkit did not record why.", kind: "" }];
  return h(
    "div",
    { class: "reason", role: "note" },
    ...errors.map((error) =>
      h(
        "p",
        null,
        h("span", { class: "reason-kind" }, error.kind === "input" ? "The upload cannot be used: " : "It failed: "),
        error.message,
      ),
    ),
  );
}

export function spinner(label: string): HTMLElement {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

export function errorBox(message: string): HTMLElement {
  return h("p", { class: "error-box", role: "alert" }, message);
}
