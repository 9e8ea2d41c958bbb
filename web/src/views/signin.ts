// Sign-in: the key goes once, in a POST body, to /v1/session, which answers with an
// HttpOnly cookie; the page keeps no key (not in the URL, storage or a log).

import { api, ApiError, type Session } from "../api";
import { h, uid } from "../dom";

export function signIn(main: HTMLElement, done: (session: Session) => void): void {
  const keyId = uid("key");
  const helpId = uid("help");
  const errorId = uid("error");
  const input = h("input", {
    id: keyId,
    name: "key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
    required: true,
    "aria-describedby": `${helpId} ${errorId}`,
    maxlength: 200,
  });
  const error = h("p", { id: errorId, class: "field-error", role: "alert" });
  const button = h("button", { type: "submit", class: "button button-primary button-wide" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-form", method: "post", novalidate: true },
    h("label", { for: keyId }, "API key"),
    input,
    h(
      "p",
      { id: helpId, class: "help" },
      "Make one with ",
      h("code", null, "vodkit keys create --uploader NAME"),
      ". It is traded for a session cookie; the page does not keep the key.",
    ),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    error.textContent = "";
    if (!key) {
      error.textContent = "Paste an API key.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const session = await api.signIn(key);
      input.value = "";
      done(session);
    } catch (failure) {
      input.setAttribute("aria-invalid", "true");
      error.textContent =
        failure instanceof ApiError && failure.status === 401
          ? "That key is not a live API key."
          : failure instanceof Error
            ? failure.message
            : "Signing in failed.";
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  main.append(
    h(
      "section",
      { class: "signin" },
      h("div", { class: "signin-brand", "aria-hidden": "true" }, h("span", { class: "logo" }), "vodkit"),
      h("h1", { tabindex: -1 }, "Sign in"),
      h("p", { class: "muted" }, "Upload videos, follow their processing, and play the results."),
      form,
    ),
  );
  input.focus();
}
