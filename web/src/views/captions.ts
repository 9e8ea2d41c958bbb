// The asset page's captions panel: its text tracks (the upload's own, and those its owner
// added, each with Remove), and a form to add a SubRip or WebVTT file for a language. The
// server judges the file and the tag: its problem's words are shown as they come (422
// names the bad line, 413 the limit, 409 a state it refuses).

import { api, type Asset, type AssetTrack } from "../api";
import { announce, fill, h, onDrop, uid } from "../dom";
import { bytes } from "../format";

const ACCEPT = ".srt,.vtt,text/vtt,application/x-subrip";
// The languages offered first; any other is typed as a BCP 47 tag.
const COMMON = [
  "en", "es", "fr", "de", "it", "pt", "pt-BR", "nl", "sv", "da", "nb", "fi", "pl", "cs",
  "ro", "hu", "el", "tr", "ru", "uk", "ar", "he", "fa", "hi", "bn", "id", "ms", "th", "vi",
  "ja", "ko", "zh-Hans", "zh-Hant",
]; // prettier-ignore
const OTHER = "other";
// The shape of a BCP 47 tag (RFC 5646): language, extlang, script, region, variants,
// extensions, private use. Only the shape: the server says whether it is well-formed.
const TAG =
  /^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*(?:-[\da-wyz](?:-[a-z\d]{2,8})+)*(?:-x(?:-[a-z\d]{1,8})+)?$/i;

export function wellShaped(tag: string): boolean {
  return tag.length <= 35 && TAG.test(tag);
}

/** "Français (fr)": the language's own name, where the browser knows it. */
export function languageName(tag: string): string {
  try {
    const own = new Intl.DisplayNames([tag], { type: "language" }).of(tag);
    if (own && own.toLowerCase() !== tag.toLowerCase()) return `${own[0].toUpperCase()}${own.slice(1)} (${tag})`;
  } catch {
    // not a tag the browser knows
  }
  return tag;
}

/** A tag in the file's name (movie.pt-BR.srt), if it has one of the right shape. */
function tagOf(name: string): string | null {
  const parts = name.split(".");
  const found = parts.length > 2 ? parts[parts.length - 2] : "";
  return /^[a-z]{2,3}(-[A-Za-z\d]{2,8})*$/.test(found) && wellShaped(found) ? found : null;
}

export interface CaptionsPanel {
  element: HTMLElement;
  /** List the tracks again (after a change made elsewhere, or the asset's own). */
  refresh: () => void;
  destroy: () => void;
}

/** ``changed`` runs after each addition or removal the server took (the player reloads). */
export function captionsPanel(asset: Asset, changed: () => void): CaptionsPanel {
  const id = asset.assetId;
  let controller: AbortController | null = null;
  let file: File | null = null;
  let busy = false;

  const list = h("div", { class: "caption-list" });
  const status = h("p", { class: "caption-status muted", role: "status" });

  // the file: chosen or dropped
  const fileId = uid("caption-file");
  const fileHint = uid("caption-file-hint");
  const input = h("input", { id: fileId, type: "file", accept: ACCEPT, class: "visually-hidden", "aria-describedby": fileHint });
  const chosen = h("span", { class: "caption-chosen", id: fileHint }, "SubRip (.srt) or WebVTT (.vtt), up to 10 MiB");
  const zone = h(
    "div",
    { class: "dropzone dropzone-small" },
    h("p", { class: "dropzone-title" }, "Drop a caption file here"),
    input,
    h("label", { for: fileId, class: "button button-small" }, "Choose a file"),
    chosen,
  );

  // the language: a common one, or any tag
  const langId = uid("caption-lang");
  const tagId = uid("caption-tag");
  const tagHelp = uid("caption-tag-help");
  const tagError = uid("caption-tag-error");
  const select = h(
    "select",
    { id: langId, name: "language" },
    ...COMMON.map((tag) => h("option", { value: tag, lang: tag }, languageName(tag))),
    h("option", { value: OTHER }, "Other (a BCP 47 tag)…"),
  );
  const preferred = COMMON.find((tag) => tag === navigator.language) ?? COMMON.find((tag) => tag === navigator.language.split("-")[0]);
  select.value = preferred ?? "en";
  const tag = h("input", {
    id: tagId,
    type: "text",
    name: "tag",
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
    maxlength: 35,
    placeholder: "e.g. pt-BR, zh-Hans, sr-Latn",
    "aria-describedby": `${tagHelp} ${tagError}`,
  });
  const tagProblem = h("p", { id: tagError, class: "field-error" });
  const tagField = h(
    "div",
    { class: "field", hidden: true },
    h("label", { for: tagId }, "Language tag"),
    tag,
    h("p", { id: tagHelp, class: "help" }, "A BCP 47 tag: a language (en), then a script (Hans) or a region (BR)."),
    tagProblem,
  );
  select.addEventListener("change", () => {
    tagField.hidden = select.value !== OTHER;
    if (!tagField.hidden) tag.focus();
  });

  const labelId = uid("caption-label");
  const label = h("input", { id: labelId, type: "text", name: "label", maxlength: 100, autocomplete: "off", placeholder: "e.g. English (SDH)" });
  const subtitles = h("input", { type: "radio", name: uid("caption-kind"), value: "subtitles", checked: true });
  const sdh = h("input", { type: "radio", name: subtitles.name, value: "captions" });
  const isDefault = h("input", { type: "checkbox", name: "default" });
  const submit = h("button", { type: "submit", class: "button button-primary" }, "Add captions");
  const problem = h("p", { class: "field-error caption-problem", role: "alert" });

  const form = h(
    "form",
    { class: "caption-form", novalidate: true, "aria-label": "Add captions" },
    zone,
    h("div", { class: "caption-fields" },
      h("div", { class: "field" }, h("label", { for: langId }, "Language"), select),
      tagField,
      h("div", { class: "field" }, h("label", { for: labelId }, "Label ", h("span", { class: "muted" }, "(optional)")), label),
    ),
    h(
      "fieldset",
      { class: "field caption-kind" },
      h("legend", null, "Kind"),
      h("label", { class: "choice" }, subtitles, "Subtitles"),
      h("label", { class: "choice" }, sdh, "Captions (SDH: for the deaf and hard of hearing)"),
    ),
    h("div", null, h("label", { class: "choice" }, isDefault, "Show them by default"), problem),
    h("div", { class: "actions" }, submit),
  ); // prettier-ignore

  function take(files: FileList | File[] | null | undefined): void {
    const picked = files?.[0];
    if (!picked) return;
    file = picked;
    chosen.textContent = `${picked.name} · ${bytes(picked.size)}`;
    problem.textContent = "";
    const found = tagOf(picked.name);
    if (found) {
      const known = COMMON.find((t) => t.toLowerCase() === found.toLowerCase());
      select.value = known ?? OTHER;
      tagField.hidden = Boolean(known);
      if (!known) tag.value = found;
    }
  }
  input.addEventListener("change", () => take(input.files));
  onDrop(zone, take);

  function language(): string | null {
    if (select.value !== OTHER) return select.value;
    const typed = tag.value.trim();
    const wrong = !typed ? "Type a language tag." : !wellShaped(typed) ? `"${typed}" is not shaped like a BCP 47 tag (en, pt-BR, zh-Hans).` : "";
    tagProblem.textContent = wrong;
    tag.setAttribute("aria-invalid", String(Boolean(wrong)));
    return wrong ? null : typed;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    problem.textContent = "";
    const lang = language();
    if (!lang) {
      tag.focus();
      return;
    }
    if (!file) {
      problem.textContent = "Choose or drop a caption file first.";
      input.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = "Adding…";
    try {
      const options = { label: label.value.trim(), kind: sdh.checked ? "captions" : "subtitles", default: isDefault.checked } as const;
      const { track, created } = await api.addCaption(id, lang, file, options);
      const words = `${track.name || languageName(lang)} captions ${created ? "added" : "replaced"}`;
      status.textContent = words;
      announce(words);
      file = null;
      input.value = "";
      chosen.textContent = "SubRip (.srt) or WebVTT (.vtt), up to 10 MiB";
      label.value = "";
      isDefault.checked = false;
      load();
      changed();
    } catch (error) {
      problem.textContent = said(error, "The captions could not be added.");
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = "Add captions";
    }
  });

  async function remove(track: AssetTrack, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    problem.textContent = "";
    try {
      await api.removeCaption(id, track.language);
      const words = `${track.name || languageName(track.language)} captions removed`;
      status.textContent = words;
      announce(words);
      load();
      changed();
      form.querySelector("select")?.focus(); // the button is gone: focus stays in the panel
    } catch (error) {
      button.disabled = false;
      problem.textContent = said(error, "The captions could not be removed.");
    }
  }

  function row(track: AssetTrack): HTMLElement {
    const name = track.name || languageName(track.language);
    const flags = [
      track.kind === "captions" ? "SDH" : "Subtitles",
      track.default ? "default" : "",
      track.forced ? "forced" : "",
      track.source === "sidecar" ? "added" : "from the upload",
    ].filter(Boolean);
    const button =
      track.source === "sidecar"
        ? h("button", { type: "button", class: "button button-small button-danger", "aria-label": `Remove ${name} (${track.language})` }, "Remove")
        : null;
    button?.addEventListener("click", () => void remove(track, button));
    return h(
      "li",
      { class: "caption-row", "data-lang": track.language, "data-source": track.source ?? "" },
      h("span", { class: "caption-name wrap" }, name),
      h("code", null, track.language),
      h("span", { class: "muted caption-flags" }, flags.join(" · ")),
      button,
    );
  }

  function load(): void {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    list.setAttribute("aria-busy", "true");
    api
      .captions(id, mine.signal)
      .then((tracks) => {
        if (mine.signal.aborted) return;
        fill(
          list,
          tracks.length
            ? h("ul", { class: "caption-rows", "aria-label": "Text tracks" }, ...tracks.map(row))
            : h("p", { class: "muted" }, "No captions yet."),
        );
      })
      .catch((error: unknown) => {
        if (error instanceof DOMException && error.name === "AbortError") return;
        fill(list, h("p", { class: "text-error" }, said(error, "The captions could not be listed.")));
      })
      .finally(() => {
        if (controller === mine) list.removeAttribute("aria-busy");
      });
  }

  const titleId = uid("captions-title");
  const element = h(
    "section",
    { class: "panel captions-panel", "aria-labelledby": titleId },
    h("h2", { id: titleId }, "Captions"),
    list,
    status,
    h("h3", null, "Add a caption file"),
    asset.status === "COMPLETED"
      ? null
      : h("p", { class: "muted" }, "Captions added now are published with the video when it is ready."),
    form,
  );
  load();

  return {
    element,
    refresh: load,
    destroy: () => controller?.abort(),
  };
}

/** The server's words (its problem's detail, as it is: 409's says why not now), or ours. */
function said(error: unknown, fallback: string): string {
  return error instanceof Error && error.message ? error.message : fallback;
}
