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
    // The percent is the phase's own (probing, analysing, encoding, packaging)
    const phase = asset.progress?.phase ?? "";
    const named = phase ? `${phase[0].toUpperCase()}${phase.slice(1)} ` : "";
    return h(
      "div",
      { class: "processing" },
      h("progress", { max: 100, value: percent, "aria-label": `Processing ${asset.filename}` }),
      h(
        "span",
        { class: "processing-text", "data-percent": percent, "data-phase": phase },
        `${named}${Math.round(percent)} %`,
        eta ? ` · ${eta}` : "",
      ),
    );
  }
  if (asset.status === "PENDING") {
    return h("div", { class: "processing" }, h("span", { class: "muted" }, "Waiting for a worker…"));
  }
  return null;
}

interface Reason {
  code: string;
  message: string;
  kind: string;
  times: number; // the attempts that ended with it
}

/** Each reason once, in the order first met, with how many attempts ended with it. */
function distinct(asset: Asset): Reason[] {
  const found = new Map<string, Reason>();
  for (const error of asset.errors) {
    const key = `${error.code}\u0000${error.message}`;
    const seen = found.get(key);
    if (seen) seen.times += 1;
    else found.set(key, { ...error, times: 1 });
  }
  return found.size ? [...found.values()] : [{ code: "", message: "vodkit did not record why.", kind: "", times: 1 }];
}

function said(reason: Reason): Array<HTMLElement | string> {
  return [
    h("span", { class: "reason-kind" }, reason.kind === "input" ? "The upload cannot be used: " : "It failed: "),
    reason.message,
    reason.times > 1 ? h("span", { class: "reason-count" }, ` (failed ${reason.times} times)`) : "",
  ];
}

/** Why it failed, in words: every reason in full, each once (the asset's page). */
export function reasons(asset: Asset): HTMLElement | null {
  if (asset.status !== "FAILED") return null;
  return h("div", { class: "reason", role: "note" }, ...distinct(asset).map((reason) => h("p", null, ...said(reason))));
}

/** Why it failed, on one line cut with an ellipsis (a card): the latest reason; the full
 * text is in its tooltip and on the asset's page. */
export function shortReason(asset: Asset): HTMLElement | null {
  if (asset.status !== "FAILED") return null;
  const latest = asset.errors.at(-1);
  const reason = distinct(asset).find((r) => r.code === latest?.code && r.message === latest?.message) ?? distinct(asset)[0];
  const line = h("p", { class: "reason reason-short", role: "note" }, ...said(reason));
  line.title = line.textContent ?? "";
  return line;
}

/** Whether a retry can help, as the server says: not after a verdict on the file itself
 * (it refuses those: the same file would fail the same way). */
export function retryable(asset: Asset): boolean {
  return asset.retryable;
}

export function spinner(label: string): HTMLElement {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

export function errorBox(message: string): HTMLElement {
  return h("p", { class: "error-box", role: "alert" }, message);
}
