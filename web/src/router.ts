// Hash routes (the server serves only /): #/, #/upload, #/asset/ID, #/admin, #/signin.

export type RouteName = "library" | "upload" | "asset" | "admin" | "signin" | "missing";

export interface Route {
  name: RouteName;
  id: string;
  query: URLSearchParams;
  /** the hash without '#', for coming back after sign-in */
  path: string;
}

export function parse(hash = location.hash): Route {
  const raw = hash.replace(/^#/, "") || "/";
  const [pathname, search = ""] = raw.split("?", 2);
  const query = new URLSearchParams(search);
  const parts = pathname.split("/").filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  const route = (name: RouteName, id = ""): Route => ({ name, id, query, path: raw });
  if (parts.length === 0) return route("library");
  if (parts.length === 1 && parts[0] === "upload") return route("upload");
  if (parts.length === 1 && parts[0] === "admin") return route("admin");
  if (parts.length === 1 && parts[0] === "signin") return route("signin");
  if (parts.length === 2 && parts[0] === "asset") return route("asset", parts[1]);
  return route("missing");
}

export function assetHref(id: string): string {
  return `#/asset/${encodeURIComponent(id)}`;
}

export function libraryHref(query: Record<string, string> = {}): string {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v));
  const search = params.toString();
  return search ? `#/?${search}` : "#/";
}

export function go(href: string, replace = false): void {
  if (replace) location.replace(href);
  else location.hash = href.replace(/^#/, "");
}
