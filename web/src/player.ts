// One interface over three ways to play an asset: the HLS ladder (hls.js, or the browser's
// own HLS where there is no MSE), the DASH manifest (dash.js), and the MP4 preview. The
// players are loaded only when asked for, so the page itself stays small.

export type Format = "hls" | "dash" | "mp4";

export interface Level {
  index: number;
  width: number;
  height: number;
  bitrate: number;
}

export interface Engine {
  readonly name: string;
  levels(): Level[];
  /** the level playing now, or -1 when the engine does not say */
  current(): number;
  auto(): boolean;
  /** -1: automatic (adaptive) */
  select(index: number): void;
  destroy(): void;
}

export interface Events {
  onLevels: () => void;
  onSwitch: () => void;
  onError: (message: string) => void;
}

export async function load(format: Format, video: HTMLVideoElement, url: string, events: Events): Promise<Engine> {
  if (format === "hls") return hls(video, url, events);
  if (format === "dash") return dash(video, url, events);
  return single(video, url, "MP4", events);
}

function single(video: HTMLVideoElement, url: string, name: string, events: Events): Engine {
  video.src = url;
  const onError = () => events.onError(`the browser cannot play it (${video.error?.message || "media error"})`);
  video.addEventListener("error", onError);
  return {
    name,
    levels: () => [],
    current: () => -1,
    auto: () => true,
    select: () => {},
    destroy: () => {
      video.removeEventListener("error", onError);
      video.removeAttribute("src");
      video.load();
    },
  };
}

async function hls(video: HTMLVideoElement, url: string, events: Events): Promise<Engine> {
  const { default: Hls } = await import("hls.js");
  if (!Hls.isSupported()) {
    if (video.canPlayType("application/vnd.apple.mpegurl")) return single(video, url, "HLS (native)", events);
    throw new Error("this browser plays neither HLS nor Media Source Extensions");
  }
  const player = new Hls({ capLevelToPlayerSize: false, startLevel: -1 });
  player.on(Hls.Events.MANIFEST_PARSED, () => events.onLevels());
  player.on(Hls.Events.LEVEL_SWITCHED, () => events.onSwitch());
  player.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) events.onError(`hls.js: ${data.details}`);
  });
  player.loadSource(url);
  player.attachMedia(video);
  return {
    name: "HLS",
    levels: () =>
      player.levels.map((level, index) => ({ index, width: level.width, height: level.height, bitrate: level.bitrate })),
    current: () => player.currentLevel,
    auto: () => player.autoLevelEnabled,
    select: (index) => {
      player.currentLevel = index; // switches now (flushes what is buffered); -1: adaptive again
    },
    destroy: () => player.destroy(),
  };
}

async function dash(video: HTMLVideoElement, url: string, events: Events): Promise<Engine> {
  const dashjs = await import("dashjs");
  const player = dashjs.MediaPlayer().create();
  player.updateSettings({
    debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
    streaming: { abr: { autoSwitchBitrate: { video: true } } },
  });
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => events.onLevels());
  player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, () => events.onSwitch());
  player.on(dashjs.MediaPlayer.events.ERROR, (event: unknown) => {
    const error = (event as { error?: { message?: string } }).error;
    events.onError(`dash.js: ${error?.message ?? "playback error"}`);
  });
  player.initialize(video, url, false);
  let automatic = true;
  const representations = () => {
    try {
      return player.getRepresentationsByType("video");
    } catch {
      return [];
    }
  };
  return {
    name: "DASH",
    levels: () =>
      representations().map((r, index) => ({ index, width: r.width, height: r.height, bitrate: r.bandwidth })),
    current: () => {
      const playing = player.getCurrentRepresentationForType("video");
      return playing ? representations().findIndex((r) => r.id === playing.id) : -1;
    },
    auto: () => automatic,
    select: (index) => {
      automatic = index < 0;
      player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: automatic } } } });
      if (!automatic) player.setRepresentationForTypeByIndex("video", index, true);
    },
    destroy: () => player.destroy(),
  };
}
