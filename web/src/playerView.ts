// The asset page's player: a <video> with its own controls, so that the seek bar can show
// scrub previews (sprite.vtt), and a quality menu (automatic or one rung) and a format menu
// (HLS, DASH, MP4), and, when the outputs carry them, an audio-language menu and a captions
// menu (Off unless a track is default or forced). Track names come from the manifests: they
// become option text, never markup; cues are the browser's own TextTrack rendering.
// An audio asset plays in the same <video>, its waveform for poster (so that captions show
// over it), the part played tinted, a click on it seeking; its formats are HLS, DASH, M4A.
// Keyboard: Space or K plays and pauses, ← → seek 5 s (on the seek bar too; Page Up/Down
// 10 %, Home, End), M mutes, F fills the screen.

import { type Asset, isAudio } from "./api";
import { h, safeUrl, uid } from "./dom";
import { clock } from "./format";
import { icon } from "./icons";
import { spriteTiles, type Tile, tileAt } from "./manifests";
import { type Engine, type Format, type Level, load, type Track } from "./player";

export interface PlayerHandle {
  element: HTMLElement;
  /** what plays now, and where: a player made again (new captions) starts there */
  state: () => { format: Format; at: number; playing: boolean };
  destroy: () => void;
}

const NAMES: Record<Format, string> = { hls: "HLS", dash: "DASH", mp4: "MP4", m4a: "M4A" };

export function player(asset: Asset, from?: { format: Format; at: number; playing: boolean }): PlayerHandle {
  const playback = asset.playback;
  const audioOnly = isAudio(asset);
  const order: Format[] = audioOnly ? ["hls", "dash", "m4a"] : ["hls", "dash", "mp4"];
  const sources: Partial<Record<Format, string>> = {};
  for (const format of order) {
    const url = safeUrl(playback?.[format]);
    if (url) sources[format] = url;
  }
  const formats = order.filter((f) => sources[f]);
  const poster = safeUrl(playback?.poster);

  const video = h("video", {
    playsinline: true,
    preload: "metadata",
    class: "video",
    "aria-label": audioOnly ? `${asset.filename} (audio)` : asset.filename,
  });
  if (poster) video.poster = poster;
  const played = h("div", { class: "waveform-played", "aria-hidden": "true" });
  const stage = h("div", { class: "player-stage" }, video, audioOnly ? played : null);
  const portrait = !audioOnly && asset.renditions.some((r) => r.height > r.width);
  if (portrait) stage.classList.add("player-portrait");
  if (audioOnly) stage.classList.add("player-audio");

  const play = h("button", { type: "button", class: "control", "aria-label": "Play" }, icon("play"));
  const time = h("span", { class: "control-time", "aria-hidden": "true" }, "0:00 / 0:00");
  const seek = h("input", {
    type: "range",
    class: "seek",
    min: 0,
    max: 0,
    step: 0.1,
    value: 0,
    "aria-label": "Seek",
    "aria-valuetext": "0:00",
  });
  const tile = h("div", { class: "scrub-tile" });
  const tileTime = h("span", { class: "scrub-time" });
  const scrub = h("div", { class: "scrub", hidden: true, "aria-hidden": "true" }, tile, tileTime);
  const seekWrap = h("div", { class: "seek-wrap" }, seek, scrub);
  const mute = h("button", { type: "button", class: "control", "aria-label": "Mute" }, icon("volume"));
  const qualityId = uid("quality");
  const quality = h("select", { id: qualityId, class: "control-select", disabled: true }, h("option", { value: "-1" }, "Auto"));
  const audioId = uid("audio");
  const audio = h("select", { id: audioId, class: "control-select", hidden: true });
  const captionsId = uid("captions");
  const captions = h("select", { id: captionsId, class: "control-select", hidden: true });
  const formatId = uid("format");
  const format = h(
    "select",
    { id: formatId, class: "control-select" },
    ...formats.map((f) => h("option", { value: f }, NAMES[f])),
  );
  const full = h("button", { type: "button", class: "control", "aria-label": "Full screen" }, icon("fullscreen"));
  const controls = h(
    "div",
    { class: "controls" },
    play,
    time,
    seekWrap,
    h(
      "div",
      { class: "controls-end" },
      mute,
      h("label", { for: qualityId, class: "visually-hidden" }, "Quality"),
      quality,
      h("label", { for: audioId, class: "visually-hidden" }, "Audio language"),
      audio,
      h("label", { for: captionsId, class: "visually-hidden" }, "Captions"),
      captions,
      h("label", { for: formatId, class: "visually-hidden" }, "Format"),
      format,
      full,
    ),
  );
  const info = h("p", { class: "player-info muted", role: "status" });
  const root = h(
    "div",
    { class: "player", role: "region", "aria-label": audioOnly ? "Audio player" : "Player", "data-format": formats[0] ?? "", "data-kind": audioOnly ? "audio" : "video" },
    stage,
    controls,
    info,
  );

  let engine: Engine | null = null;
  let tiles: Tile[] = [];
  let dragging = false;
  let generation = 0;

  const duration = () => (Number.isFinite(video.duration) ? video.duration : 0);
  const levelName = (level: Level): string => {
    if (!level.width || !level.height) return `${Math.round(level.bitrate / 1000)} kb/s`; // audio
    const rung = asset.renditions.find((r) => r.kind === "stream" && r.width === level.width && r.height === level.height);
    return rung?.name ?? `${Math.min(level.width, level.height)}p`;
  };

  // an audio asset: the waveform's played part, over the poster as the <video> fits it
  const waveform = { width: 0, height: 0 };
  if (audioOnly && poster) {
    const image = new Image();
    image.addEventListener("load", () => {
      waveform.width = image.naturalWidth;
      waveform.height = image.naturalHeight;
      showPlayed();
    });
    image.src = poster;
  }
  /** Where the poster is drawn in the stage (object-fit: contain), in px. */
  function drawn(): { left: number; top: number; width: number; height: number } | null {
    const box = stage.getBoundingClientRect();
    if (!waveform.width || !box.width || !box.height) return null;
    const scale = Math.min(box.width / waveform.width, box.height / waveform.height);
    const width = waveform.width * scale;
    const height = waveform.height * scale;
    return { left: (box.width - width) / 2, top: (box.height - height) / 2, width, height };
  }
  function showPlayed(): void {
    const at = drawn();
    if (!audioOnly || !at) return;
    const fraction = duration() ? Math.min(1, video.currentTime / duration()) : 0;
    played.style.left = `${at.left}px`;
    played.style.top = `${at.top}px`;
    played.style.height = `${at.height}px`;
    played.style.width = `${at.width * fraction}px`;
    played.hidden = fraction <= 0;
  }

  function showTime(): void {
    const now = dragging ? Number(seek.value) : video.currentTime;
    time.textContent = `${clock(now)} / ${clock(Math.round(duration()))}`;
    if (!dragging) seek.value = String(video.currentTime);
    seek.setAttribute("aria-valuetext", `${clock(now)} of ${clock(Math.round(duration()))}`);
    showPlayed();
  }

  function showState(): void {
    const paused = video.paused || video.ended;
    play.replaceChildren(icon(paused ? "play" : "pause"));
    play.setAttribute("aria-label", paused ? "Play" : "Pause");
    mute.replaceChildren(icon(video.muted ? "muted" : "volume"));
    mute.setAttribute("aria-label", video.muted ? "Unmute" : "Mute");
    root.dataset.playing = String(!paused);
  }

  let ladder = "";
  let audioList = "";
  let textList = "";
  let captionsChosen = false; // the page picks the first text track once per engine

  const trackName = (t: Track): string => t.name || t.language || `Track ${t.index + 1}`;
  const signatureOf = (tracks: Track[]) => JSON.stringify(tracks.map((t) => [t.name, t.language]));
  /** Default or forced, as the player says, or as the asset says (DASH has no default flag). */
  const wanted = (t: Track): boolean =>
    t.default ||
    t.forced ||
    (asset.tracks ?? []).some((a) => a.type === "text" && a.language === t.language && (a.default || a.forced));

  /** The audio and captions menus: rebuilt only when the tracks change, like the quality menu. */
  function showTracks(): void {
    const audios = engine?.audioTracks() ?? [];
    const signature = signatureOf(audios);
    if (signature !== audioList) {
      audioList = signature;
      audio.replaceChildren(...audios.map((t) => h("option", { value: t.index, lang: t.language || null }, trackName(t))));
      audio.hidden = audios.length < 2;
    }
    const playing = String(engine?.audioTrack() ?? -1);
    if (audios.length && audio.value !== playing) audio.value = playing;

    const texts = engine?.textTracks() ?? [];
    const textSignature = signatureOf(texts);
    if (textSignature !== textList) {
      textList = textSignature;
      captions.replaceChildren(
        h("option", { value: "-1" }, "Captions off"),
        ...texts.map((t) => h("option", { value: t.index, lang: t.language || null }, trackName(t))),
      );
      captions.hidden = texts.length === 0;
    }
    if (texts.length && !captionsChosen && engine) {
      captionsChosen = true;
      const first = texts.find((t) => t.forced) ?? texts.find(wanted);
      engine.selectText(first ? first.index : -1);
    }
    const shown = String(engine?.textTrack() ?? -1);
    if (captions.value !== shown) captions.value = shown;
    root.dataset.audio = playing;
    root.dataset.captions = shown;
  }

  /** The quality menu: rebuilt only when the ladder changes (a switch only moves the choice,
   * so that a menu the viewer has open stays as it is). */
  function showLevels(): void {
    const levels = engine?.levels() ?? [];
    const signature = levels.map((l) => `${l.index}:${l.width}x${l.height}`).join(",");
    if (signature !== ladder) {
      ladder = signature;
      quality.replaceChildren(
        h("option", { value: "-1" }, "Auto"),
        ...[...levels].sort((a, b) => b.height * b.width - a.height * a.width || b.bitrate - a.bitrate).map((l) => h("option", { value: l.index }, levelName(l))),
      );
      quality.disabled = levels.length < 2;
    }
    const wanted = engine?.auto() ? "-1" : String(engine?.current() ?? -1);
    if (quality.value !== wanted) quality.value = wanted;
    showInfo();
  }

  function showInfo(): void {
    const levels = engine?.levels() ?? [];
    const current = engine?.current() ?? -1;
    const level = levels.find((l) => l.index === current);
    const size = video.videoWidth ? `${video.videoWidth}×${video.videoHeight}` : "";
    const parts = [engine?.name ?? "", size, level ? levelName(level) : "", engine && levels.length > 1 ? (engine.auto() ? "auto" : "fixed") : ""];
    info.textContent = parts.filter(Boolean).join(" · ");
    root.dataset.width = String(video.videoWidth);
    root.dataset.height = String(video.videoHeight);
  }

  async function start(chosen: Format, at = 0, resume = false): Promise<void> {
    const url = sources[chosen];
    if (!url) return;
    generation += 1;
    const mine = generation;
    engine?.destroy();
    engine = null;
    ladder = "";
    audioList = "";
    textList = "";
    captionsChosen = false;
    audio.hidden = true;
    captions.hidden = true;
    root.dataset.format = chosen;
    quality.disabled = true;
    info.textContent = "Loading…";
    try {
      const loaded = await load(chosen, video, url, {
        onLevels: showLevels,
        onSwitch: showLevels,
        onTracks: () => {
          if (engine) showTracks();
        },
        onError: (message) => {
          info.textContent = `It does not play: ${message}`;
        },
      });
      if (mine !== generation) {
        loaded.destroy();
        return;
      }
      engine = loaded;
      showLevels();
      showTracks();
      if (at > 0 || resume) {
        video.addEventListener(
          "loadedmetadata",
          () => {
            if (at > 0) video.currentTime = at;
            if (resume) void video.play().catch(() => {});
          },
          { once: true },
        );
      }
    } catch (error) {
      info.textContent = `It does not play here: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  function toggle(): void {
    if (video.paused || video.ended) void video.play().catch((error: unknown) => {
      info.textContent = `It does not play: ${error instanceof Error ? error.message : String(error)}`;
    });
    else video.pause();
  }

  function jump(by: number): void {
    video.currentTime = Math.min(Math.max(0, video.currentTime + by), duration() || video.currentTime + by);
  }

  play.addEventListener("click", toggle);
  video.addEventListener("click", (event) => {
    const at = audioOnly ? drawn() : null;
    if (!at || !duration()) return toggle();
    // on a waveform, a click seeks to the time under it (the seek bar does it by keyboard)
    const x = event.clientX - stage.getBoundingClientRect().left - at.left;
    video.currentTime = Math.min(1, Math.max(0, x / at.width)) * duration();
  });
  if (audioOnly) window.addEventListener("resize", showPlayed);
  mute.addEventListener("click", () => {
    video.muted = !video.muted;
  });
  full.addEventListener("click", () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void root.requestFullscreen?.().catch(() => {});
  });
  for (const event of ["play", "pause", "ended", "volumechange"]) video.addEventListener(event, showState);
  for (const event of ["timeupdate", "durationchange", "seeked"]) video.addEventListener(event, showTime);
  video.addEventListener("durationchange", () => {
    seek.max = String(duration());
  });
  video.addEventListener("resize", showInfo);
  quality.addEventListener("change", () => {
    engine?.select(Number(quality.value));
    showInfo();
  });
  audio.addEventListener("change", () => {
    engine?.selectAudio(Number(audio.value));
  });
  captions.addEventListener("change", () => {
    engine?.selectText(Number(captions.value));
  });
  format.addEventListener("change", () => {
    void start(format.value as Format, video.currentTime, !video.paused);
  });

  seek.addEventListener("pointerdown", () => {
    dragging = true;
  });
  seek.addEventListener("input", () => {
    video.currentTime = Number(seek.value);
    showTime();
  });
  seek.addEventListener("change", () => {
    dragging = false;
    video.currentTime = Number(seek.value);
  });
  const released = () => {
    dragging = false;
  };
  window.addEventListener("pointerup", released);

  // scrub previews: the tile of the time under the pointer
  seekWrap.addEventListener("pointermove", (event) => {
    if (!tiles.length || !duration()) return;
    const box = seek.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const at = fraction * duration();
    const found = tileAt(tiles, at);
    if (!found) return;
    tile.style.backgroundImage = `url(${JSON.stringify(found.image)})`;
    tile.style.backgroundPosition = `-${found.x}px -${found.y}px`;
    tile.style.width = `${found.w}px`;
    tile.style.height = `${found.h}px`;
    tile.dataset.tile = `${found.x},${found.y},${found.w},${found.h}`;
    tileTime.textContent = clock(at);
    scrub.hidden = false;
    const half = found.w / 2;
    const x = Math.min(Math.max(half, event.clientX - box.left), box.width - half);
    scrub.style.left = `${x - half}px`;
  });
  seekWrap.addEventListener("pointerleave", () => {
    scrub.hidden = true;
  });

  root.addEventListener("keydown", (event) => {
    const target = event.target as HTMLElement;
    if (target instanceof HTMLSelectElement || event.altKey || event.ctrlKey || event.metaKey) return;
    const onSlider = target === seek;
    const onButton = target instanceof HTMLButtonElement;
    const key = event.key.toLowerCase();
    if ((key === " " && !onButton) || key === "k") {
      event.preventDefault();
      toggle();
    } else if (key === "arrowleft" || key === "arrowright" || (onSlider && (key === "arrowdown" || key === "arrowup"))) {
      event.preventDefault(); // on the slider too: 5 s a press, not its 0.1 s step
      jump(key === "arrowleft" || key === "arrowdown" ? -5 : 5);
    } else if (onSlider && (key === "pageup" || key === "pagedown")) {
      event.preventDefault();
      jump((key === "pageup" ? 0.1 : -0.1) * duration());
    } else if (key === "m") {
      video.muted = !video.muted;
    } else if (key === "f") {
      full.click();
    }
  });

  const sprite = safeUrl(playback?.sprite);
  if (sprite) {
    void spriteTiles(sprite)
      .then((found) => {
        tiles = found;
        for (const image of new Set(found.map((t) => t.image))) new Image().src = image; // ready to show
      })
      .catch(() => {});
  }
  showState();
  const first = from && sources[from.format] ? from.format : formats[0];
  if (first) {
    format.value = first;
    void start(first, from?.at ?? 0, from?.playing ?? false);
  } else info.textContent = "There is nothing to play.";

  return {
    element: root,
    state: () => ({ format: (format.value || formats[0]) as Format, at: video.currentTime, playing: !video.paused && !video.ended }),
    destroy: () => {
      generation += 1;
      window.removeEventListener("pointerup", released);
      window.removeEventListener("resize", showPlayed);
      engine?.destroy();
      engine = null;
      video.pause();
    },
  };
}
