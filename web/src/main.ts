// vodkit's page: sign-in, the library, upload, an asset, admin. It talks to the HTTP API
// of the server that serves it and to nothing else.

import "./styles.css";
import { api, type Session, useSession, whenSignedOut } from "./api";
import { errorBox } from "./components";
import { fill, h } from "./dom";
import { stopAll } from "./live";
import { go, parse, type Route } from "./router";
import { uploads } from "./uploads";
import { admin } from "./views/admin";
import { assetView } from "./views/asset";
import { library } from "./views/library";
import { signIn } from "./views/signin";
import { upload } from "./views/upload";
import type { Mounted, View } from "./views/view";

const VIEWS: Record<string, { view: View; title: string }> = {
  library: { view: library, title: "Library" },
  upload: { view: upload, title: "Upload" },
  asset: { view: assetView, title: "Video" },
  admin: { view: admin, title: "Admin" },
};

let session: Session | null = null;
let mounted: { key: string; view: Mounted } | null = null;

const app = document.getElementById("app") ?? document.body;
const main = h("main", { id: "main", tabindex: -1 });
const nav = h("nav", { class: "nav", "aria-label": "Main" });
const user = h("div", { class: "topbar-user" });
const header = h(
  "header",
  { class: "topbar" },
  h("a", { class: "brand", href: "#/" }, h("span", { class: "logo", "aria-hidden": "true" }), "vodkit"),
  nav,
  user,
);
const busy = h("span", { class: "nav-busy", hidden: true });

fill(
  app,
  h("a", { class: "skip", href: "#main" }, "Skip to content"),
  header,
  main,
  h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" }),
);
// the skip link must not change the route
app.querySelector(".skip")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

function renderNav(route: Route): void {
  if (!session) {
    header.hidden = true;
    return;
  }
  header.hidden = false;
  const link = (href: string, label: string, name: string, extra?: HTMLElement) =>
    h("a", { href, class: "nav-link", "aria-current": route.name === name ? "page" : null }, label, extra ?? null);
  const out = h("button", { type: "button", class: "button button-small button-quiet" }, "Sign out");
  out.addEventListener("click", () => void signOut());
  fill(
    nav,
    link("#/", "Library", "library"),
    link("#/upload", "Upload", "upload", busy),
    session.admin ? link("#/admin", "Admin", "admin") : null,
  );
  fill(
    user,
    h("span", { class: "nav-user", title: session.admin ? "admin key" : "uploader" }, session.uploaderId, session.admin ? " (admin)" : ""),
    out,
  );
}

function renderBusy(): void {
  const active = uploads.active();
  busy.hidden = active.length === 0;
  const sent = active.reduce((n, i) => n + i.sent, 0);
  const total = active.reduce((n, i) => n + i.size, 0);
  busy.textContent = active.length ? ` ${Math.floor((100 * sent) / Math.max(1, total))} %` : "";
  busy.setAttribute("aria-label", active.length ? `${active.length} uploading` : "");
}
uploads.subscribe(renderBusy);

async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } catch {
    // the cookie goes with the answer; nothing else to undo
  }
  ended();
}

function ended(): void {
  session = null;
  useSession(null);
  stopAll();
  uploads.useUploader("");
  render();
}

whenSignedOut(ended);

function render(): void {
  const route = parse();
  if (!session) {
    if (route.name !== "signin") {
      go(`#/signin?next=${encodeURIComponent(route.path)}`, true);
      return;
    }
    mount("signin", route, (target) => {
      signIn(target, (opened) => {
        start(opened);
        const next = route.query.get("next") ?? "/";
        go(`#${next.startsWith("/") && !next.startsWith("/signin") ? next : "/"}`, true); // renders
      });
    });
    return;
  }
  if (route.name === "signin") {
    const next = route.query.get("next") ?? "/";
    go(`#${next.startsWith("/") && !next.startsWith("/signin") ? next : "/"}`, true);
    return;
  }
  const chosen = VIEWS[route.name];
  const key = `${route.name}/${route.id}`;
  if (mounted && mounted.key === key && mounted.view.update) {
    mounted.view.update(route);
    return;
  }
  mount(key, route, (target) => {
    if (!chosen) {
      fill(target, h("section", { class: "page" }, h("h1", { tabindex: -1 }, "Page not found"), h("p", null, h("a", { href: "#/" }, "Back to the library"))));
      return {};
    }
    document.title = `${chosen.title} · vodkit`;
    return chosen.view(target, { session: session as Session, route }) ?? {};
  });
}

function mount(key: string, route: Route, make: (target: HTMLElement) => Mounted | void): void {
  mounted?.view.cleanup?.();
  mounted = null;
  renderNav(route);
  main.replaceChildren();
  document.title = route.name === "signin" ? "Sign in · vodkit" : "vodkit";
  main.className = route.name === "signin" ? "main-signin" : "";
  const view = make(main) ?? {};
  mounted = { key, view };
  // the new view's heading takes the focus, so that a screen reader starts there
  const heading = main.querySelector<HTMLElement>("h1");
  if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function start(opened: Session): void {
  session = opened;
  useSession(opened);
  uploads.useUploader(opened.uploaderId);
}

window.addEventListener("hashchange", render);

async function boot(): Promise<void> {
  try {
    const found = await api.session();
    if (found) start(found);
    render();
  } catch (error) {
    fill(main, h("section", { class: "page" }, h("h1", null, "vodkit"), errorBox(error instanceof Error ? error.message : String(error))));
  }
}

void boot();
