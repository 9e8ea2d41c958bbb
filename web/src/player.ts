// One interface over three ways to play an asset: the HLS ladder (hls.js, or the browser's
// own HLS where there is no MSE), the DASH manifest (dash.js), and the MP4 preview (an audio
// asset's M4A). The players are loaded only when asked for, so the page itself stays small.

export type Format = "hls" | "dash" | "mp4" | "m4a";

export interface Level {
  index: number;
  width: number;
  height: number;
  bitrate: number;
}

/** An audio or text track as the player lists it; `name` and `language` come from the
 * manifest: untrusted text, shown only as text. */
export interface Track {
  index: number;
  name: string;
  language: string;
  default: boolean;
  forced: boolean;
}

export interface Engine {
  readonly name: string;
  levels(): Level[];
  /** the level playing now, or -1 when the engine does not say */
  current(): number;
  auto(): boolean;
  /** -1: automatic (adaptive) */
  select(index: number): void;
  audioTracks(): Track[];
  /** the audio track playing, or -1 */
  audioTrack(): number;
  selectAudio(index: number): void;
  textTracks(): Track[];
  /** the text track shown, or -1: captions off */
  textTrack(): number;
  selectText(index: number): void;
  destroy(): void;
}

export interface Events {
  onLevels: () => void;
  onSwitch: () => void;
  /** the audio or text tracks changed, or which one plays */
  onTracks: () => void;
  onError: (message: string) => void;
}

export async function load(format: Format, video: HTMLVideoElement, url: string, events: Events): Promise<Engine> {
  if (format === "hls") return hls(video, url, events);
  if (format === "dash") return dash(video, url, events);
  return single(video, url, format.toUpperCase(), events);
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
    audioTracks: () => [],
    audioTrack: () => -1,
    selectAudio: () => {},
    textTracks: () => [],
    textTrack: () => -1,
    selectText: () => {},
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
  // captions stay off until the page chooses (it turns on a default or forced track)
  const player = new Hls({ capLevelToPlayerSize: false, startLevel: -1 });
  player.subtitleDisplay = false;
  player.on(Hls.Events.MANIFEST_PARSED, () => events.onLevels());
  for (const event of [
    Hls.Events.AUDIO_TRACKS_UPDATED,
    Hls.Events.AUDIO_TRACK_SWITCHED,
    Hls.Events.SUBTITLE_TRACKS_UPDATED,
    Hls.Events.SUBTITLE_TRACK_SWITCH,
  ] as const)
    // after hls.js's own handling: it picks a subtitle track right after announcing them
    player.on(event, () => queueMicrotask(events.onTracks));
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
    audioTracks: () => player.audioTracks.map((t, index) => hlsTrack(t, index)),
    audioTrack: () => player.audioTrack,
    selectAudio: (index) => {
      player.audioTrack = index;
    },
    textTracks: () => player.subtitleTracks.map((t, index) => hlsTrack(t, index)),
    textTrack: () => (player.subtitleDisplay ? player.subtitleTrack : -1),
    selectText: (index) => {
      player.subtitleTrack = index;
      player.subtitleDisplay = index >= 0;
      events.onTracks();
    },
    destroy: () => player.destroy(),
  };
}

function hlsTrack(t: { name: string; lang?: string; default: boolean; forced: boolean }, index: number): Track {
  return { index, name: t.name, language: t.lang ?? "", default: t.default, forced: t.forced };
}

async function dash(video: HTMLVideoElement, url: string, events: Events): Promise<Engine> {
  const dashjs = await import("dashjs");
  const player = dashjs.MediaPlayer().create();
  player.updateSettings({
    debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
    streaming: { abr: { autoSwitchBitrate: { video: true } }, text: { defaultEnabled: false } },
  });
  for (const event of [
    dashjs.MediaPlayer.events.STREAM_INITIALIZED,
    dashjs.MediaPlayer.events.TEXT_TRACKS_ADDED,
    dashjs.MediaPlayer.events.TRACK_CHANGE_RENDERED,
  ])
    player.on(event, () => events.onTracks());
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
  type Info = ReturnType<typeof player.getTracksFor>[number];
  const tracks = (type: "audio" | "text"): Info[] => {
    try {
      return player.getTracksFor(type);
    } catch {
      return []; // not ready yet
    }
  };
  const current = (type: "audio" | "text"): number => {
    try {
      const playing = player.getCurrentTrackFor(type);
      return playing ? tracks(type).findIndex((t) => t.id === playing.id && t.lang === playing.lang) : -1;
    } catch {
      return -1;
    }
  };
  const dashTrack = (t: Info, index: number): Track => {
    const roles = (t.roles ?? []).map((r) => r.value);
    return {
      index,
      name: t.labels?.[0]?.text ?? "",
      language: t.lang ?? "",
      default: roles.includes("main"),
      forced: roles.includes("forced-subtitle"),
    };
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
    audioTracks: () => tracks("audio").map(dashTrack),
    audioTrack: () => current("audio"),
    selectAudio: (index) => {
      const track = tracks("audio")[index];
      if (track) player.setCurrentTrack(track);
    },
    textTracks: () => tracks("text").map(dashTrack),
    textTrack: () => (player.isTextEnabled() ? current("text") : -1),
    selectText: (index) => {
      // dash.js numbers text tracks as getTracksFor("text") lists them
      player.enableText(index >= 0);
      player.setTextTrack(index);
      events.onTracks();
    },
    destroy: () => player.destroy(),
  };
}
