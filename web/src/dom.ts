// Elements are made here and only here: every string becomes a text node or an attribute
// value, never markup. Nothing in the page sets innerHTML, outerHTML or insertAdjacentHTML.

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

const FORBIDDEN = new Set(["style", "innerhtml", "outerhtml", "srcdoc"]);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.replace(/^on/, ""), value);
    } else if (FORBIDDEN.has(name.toLowerCase()) || /^on/i.test(name)) {
      throw new Error(`h(): ${name} is not set from strings`);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace what `parent` holds. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A link into the page (hash routes); only http(s) for anything else. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

let ids = 0;
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** Files dropped on ``zone`` go to ``take`` (none: not called); the zone is marked
 * ``dropzone-over`` while something is dragged over it, children included. */
export function onDrop(zone: HTMLElement, take: (files: File[]) => void): void {
  let depth = 0;
  zone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    depth += 1;
    zone.classList.add("dropzone-over");
  });
  zone.addEventListener("dragover", (event) => event.preventDefault());
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dropzone-over");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dropzone-over");
    const files = Array.from(event.dataTransfer?.files ?? []);
    if (files.length) take(files);
  });
}

/** Polite announcements for screen readers, and a visible toast. */
export function announce(message: string, tone: "info" | "error" = "info"): void {
  const region = document.getElementById("toasts");
  if (!region) return;
  const toast = h("div", { class: `toast toast-${tone}` }, message);
  region.appendChild(toast);
  window.setTimeout(() => toast.remove(), 6000);
}
