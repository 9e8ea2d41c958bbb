// Admin: the dead-letter queues, each message with the reason it failed, and Redrive.

import { api, type DeadLetter } from "../api";
import { errorBox, spinner } from "../components";
import { announce, fill, h } from "../dom";
import type { Context, Mounted } from "./view";

export function admin(main: HTMLElement, { session }: Context): Mounted {
  const body = h("div");
  const selected = new Set<string>();
  const redriveSelected = h("button", { type: "button", class: "button", disabled: true }, "Redrive selected");
  const redriveAll = h("button", { type: "button", class: "button button-primary", disabled: true }, "Redrive all");
  const refresh = h("button", { type: "button", class: "button" }, "Refresh");
  main.append(
    h(
      "section",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Admin"), h("a", { class: "button", href: "#/" }, "All videos")),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Dead letters"),
        h(
          "p",
          { class: "muted" },
          "Messages that failed every delivery (three receives). Redrive puts them back on their queue once the cause is fixed.",
        ),
        h("div", { class: "actions" }, redriveSelected, redriveAll, refresh),
        body,
      ),
    ),
  );
  if (!session.admin) {
    fill(body, errorBox("This needs an admin key (vodkit keys create --admin)."));
    for (const b of [redriveSelected, redriveAll, refresh]) b.disabled = true;
    return {};
  }

  async function load(): Promise<void> {
    fill(body, spinner("Loading the dead-letter queues…"));
    selected.clear();
    try {
      const { items } = await api.deadLetters();
      redriveAll.disabled = items.length === 0;
      redriveSelected.disabled = true;
      fill(body, items.length ? table(items) : h("p", { class: "empty" }, "No dead letters: every message was handled."));
    } catch (error) {
      fill(body, errorBox(error instanceof Error ? error.message : "The dead letters could not be listed."));
    }
  }

  function table(items: DeadLetter[]): HTMLElement {
    return h(
      "div",
      { class: "table-wrap", tabindex: 0, role: "group", "aria-label": "Dead letters table" },
      h(
        "table",
        null,
        h(
          "thead",
          null,
          h("tr", null, h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Select")), ...["Queue", "Message", "Receives", "Last error"].map((c) => h("th", { scope: "col" }, c))),
        ),
        h(
          "tbody",
          null,
          ...items.map((letter) => {
            const box = h("input", { type: "checkbox", "aria-label": `Select message ${letter.id}` });
            box.addEventListener("change", () => {
              if (box.checked) selected.add(letter.id);
              else selected.delete(letter.id);
              redriveSelected.disabled = selected.size === 0;
            });
            return h(
              "tr",
              { "data-id": letter.id },
              h("td", null, box),
              h("td", null, letter.queue),
              h("td", null, h("code", { class: "wrap" }, letter.id)),
              h("td", null, String(letter.receiveCount)),
              h("td", { class: "wrap" }, letter.lastError || "—"),
            );
          }),
        ),
      ),
    );
  }

  async function redrive(ids: string[] | null): Promise<void> {
    try {
      const { redriven } = await api.redrive(ids);
      announce(`${redriven} message${redriven === 1 ? "" : "s"} put back on their queue`);
    } catch (error) {
      announce(error instanceof Error ? error.message : "Redrive failed", "error");
    }
    await load();
  }

  redriveSelected.addEventListener("click", () => void redrive([...selected]));
  redriveAll.addEventListener("click", () => void redrive(null));
  refresh.addEventListener("click", () => void load());
  void load();
  return {};
}
