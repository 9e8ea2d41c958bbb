// What the page reads from an asset's outputs: the scrub sprite's cues (sprite.vtt), fetched
// once per URL; and how a codec string reads to a person.

export interface Tile {
  start: number;
  end: number;
  image: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const cache = new Map<string, Promise<string>>();

function text(url: string): Promise<string> {
  let found = cache.get(url);
  if (!found) {
    found = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${r.status}`);
      return r.text();
    });
    found.catch(() => cache.delete(url));
    cache.set(url, found);
  }
  return found;
}

function seconds(stamp: string): number {
  const parts = stamp.trim().split(":").map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** Cues "sprite.jpg#xywh=x,y,w,h", resolved against the WebVTT's own URL. */
export async function spriteTiles(vttUrl: string): Promise<Tile[]> {
  const body = await text(vttUrl);
  const tiles: Tile[] = [];
  for (const block of body.replace(/\r/g, "").split(/\n\n+/)) {
    const lines = block.split("\n").filter(Boolean);
    const timing = lines.findIndex((line) => line.includes("-->"));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [from, to] = lines[timing].split("-->");
    const [image, box] = lines[timing + 1].trim().split("#xywh=");
    const [x, y, w, h] = (box ?? "").split(",").map(Number);
    if (![x, y, w, h].every(Number.isFinite) || !(w > 0 && h > 0)) continue;
    tiles.push({ start: seconds(from), end: seconds(to.trim().split(/\s/)[0]), image: new URL(image, vttUrl).href, x, y, w, h });
  }
  return tiles;
}

export function tileAt(tiles: Tile[], time: number): Tile | null {
  return tiles.find((t) => time >= t.start && time < t.end) ?? tiles[tiles.length - 1] ?? null;
}

/** avc1.64001f -> H.264 High; mp4a.40.2 -> AAC-LC */
export function codecName(codec: string): string {
  const c = codec.trim();
  if (/^(avc1|avc3)\./.test(c)) {
    const profile = parseInt(c.slice(5, 7), 16);
    const names: Record<number, string> = { 66: "Baseline", 77: "Main", 100: "High" };
    return `H.264${names[profile] ? ` ${names[profile]}` : ""}`;
  }
  if (/^(hvc1|hev1)\./.test(c)) return "H.265";
  if (/^av01\./.test(c)) return "AV1";
  if (/^vp09\./.test(c)) return "VP9";
  if (c === "mp4a.40.2") return "AAC-LC";
  if (c === "mp4a.40.5") return "HE-AAC";
  if (/^mp4a\./.test(c)) return "AAC";
  if (c === "opus") return "Opus";
  return c;
}
