// ShadowScope content script: on an AI tool's page, checks a prompt, a paste, a dropped or chosen file before it
// leaves the page, applies the organisation's action (warn, justify, redact, block, redirect) and tells the
// service worker what happened. The decision is taken synchronously in the event's capture phase, before the
// page's own handlers see the event; the text itself goes no further than the extension's service worker.
(function () {
  "use strict";
  if (window.__shadowscope) return;
  window.__shadowscope = true;

  const D = globalThis.ShadowScopeDetect;
  const host = location.hostname;
  const PASS = new Set(["allow", "monitor"]);
  const TEXT_FILE_MAX = 2 * 1024 * 1024;
  const ENTITY_NAMES = {
    us_ssn: "US Social Security number",
    email_address: "e-mail address",
    phone_number: "phone number",
    credit_card: "payment card number",
    iban_code: "IBAN",
    private_key: "private key",
    aws_access_key: "AWS access key",
    api_key: "API key",
  };
  const LABEL_NAMES = {
    pii: "personal data",
    phi: "health data",
    payment_card: "payment card data",
    financial: "financial data",
    legal: "legal material",
    credentials: "credentials",
  };

  let ctx = null; // {tool, actions, redirect, adapter}
  let bypass = false; // true while we replay an action the person confirmed
  let lastPrompt = { text: null, at: 0 };
  // Matches the person already confirmed (warn) or justified on this page, e.g. in a paste: sending the prompt
  // that holds them does not ask again; the event still records the earlier answer.
  const acknowledged = new Map();

  // --- context from the service worker -------------------------------------------------------------------
  async function loadContext() {
    try {
      const answer = await chrome.runtime.sendMessage({ type: "page", host });
      ctx = answer && answer.tool ? answer : null;
    } catch (error) {
      ctx = null; // the extension was reloaded: this script is orphaned
    }
    if (ctx) {
      document.documentElement.dataset.shadowscope = "active";
      document.documentElement.dataset.shadowscopeTool = ctx.tool.id;
    }
    return ctx;
  }
  loadContext().then((first) => {
    if (first) send({ kind: "visit" });
  });
  setInterval(loadContext, 5 * 60 * 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") loadContext();
  });

  function send(message) {
    const full = { type: "record", host, tool_id: ctx ? ctx.tool.id : null, occurred_at: new Date().toISOString(), ...message };
    try {
      chrome.runtime.sendMessage(full).catch(() => {});
    } catch (error) {
      // orphaned after an extension reload: nothing to deliver to
    }
  }

  // --- the page's editor ---------------------------------------------------------------------------------
  const selectors = (name) => {
    const own = (ctx && ctx.adapter && ctx.adapter[name]) || [];
    const generic = (ctx && ctx.adapter && ctx.adapter.generic && ctx.adapter.generic[name]) || [];
    return [...own, ...generic];
  };

  function matches(element, selector) {
    try {
      return element.closest(selector);
    } catch (error) {
      return null; // a selector this browser does not understand
    }
  }

  function editorFrom(target) {
    if (!(target instanceof Element)) return null;
    for (const selector of selectors("editors")) {
      const found = matches(target, selector);
      if (found) return found;
    }
    return target.isContentEditable ? target : null;
  }

  function pageEditor() {
    const active = document.activeElement && editorFrom(document.activeElement);
    if (active) return active;
    for (const selector of selectors("editors")) {
      let found = null;
      try {
        found = document.querySelector(selector);
      } catch (error) {
        found = null;
      }
      if (found) return found;
    }
    return null;
  }

  function sendButtonFrom(target) {
    if (!(target instanceof Element)) return null;
    for (const selector of selectors("send_buttons")) {
      const found = matches(target, selector);
      if (found) return found;
    }
    return null;
  }

  function pageSendButton() {
    for (const selector of selectors("send_buttons")) {
      try {
        const found = document.querySelector(selector);
        if (found) return found;
      } catch (error) {
        // ignore
      }
    }
    return null;
  }

  const isField = (el) => el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement;
  const textOf = (el) => (isField(el) ? el.value : el.innerText || el.textContent || "");

  function setText(el, text) {
    el.focus();
    if (isField(el)) {
      // The native setter, so frameworks that track the value (React) see the change.
      const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, "value").set.call(el, text);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      const range = document.createRange();
      range.selectNodeContents(el);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (!document.execCommand("insertText", false, text)) el.textContent = text;
    }
  }

  function insertText(el, text) {
    if (!el) return;
    el.focus();
    bypass = true;
    try {
      if (!document.execCommand("insertText", false, text) && isField(el)) {
        const start = el.selectionStart ?? el.value.length;
        const end = el.selectionEnd ?? el.value.length;
        el.setRangeText(text, start, end, "end");
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }
    } finally {
      bypass = false;
    }
  }

  function priorAnswer(text, analysis, action) {
    if (action !== "warn" && action !== "justify") return null;
    const labelled = analysis.matches.filter((m) => m.label);
    const answers = labelled.map((m) => acknowledged.get(text.slice(m.start, m.end)));
    if (!answers.length || answers.some((a) => !a || a.action !== action)) return null;
    return answers[answers.length - 1];
  }

  function remember(text, analysis, verdict) {
    if (!text || (verdict.user_choice !== "proceeded" && verdict.user_choice !== "justified")) return;
    for (const m of analysis.matches) if (m.label) acknowledged.set(text.slice(m.start, m.end), verdict);
  }

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  function describe(analysis) {
    const parts = Object.entries(analysis.entity_counts)
      .filter(([entity]) => analysis.matches.some((m) => m.entity === entity && m.label))
      .map(([entity, n]) => `${ENTITY_NAMES[entity] || entity}${n > 1 ? ` (${n})` : ""}`);
    const labels = analysis.labels.map((l) => LABEL_NAMES[l] || l).join(", ");
    return { found: parts.join(", "), labels };
  }

  // --- prompts -------------------------------------------------------------------------------------------
  function onSubmitAttempt(event, editor, trigger) {
    const text = textOf(editor);
    if (!text.trim()) return;
    const now = Date.now();
    if (lastPrompt.text === text && now - lastPrompt.at < 1500) return; // Enter and the form's submit: one prompt
    lastPrompt = { text, at: now };
    const analysis = D.analyse(text);
    const action = D.decide(ctx, ctx.tool.status, analysis.labels);
    if (PASS.has(action)) {
      send({ kind: "prompt", text, verdict: { action, user_choice: "none" } });
      return;
    }
    const earlier = priorAnswer(text, analysis, action);
    if (earlier) {
      send({ kind: "prompt", text, verdict: earlier });
      return;
    }
    stop(event);
    lastPrompt = { text: null, at: 0 };
    const replay = () => resubmit(editor, trigger);
    enforce(action, analysis, "prompt", text, {
      proceed: replay,
      redact: () => setText(editor, D.redact(text)),
    });
  }

  function resubmit(editor, trigger) {
    bypass = true;
    try {
      const button = (trigger instanceof Element && trigger) || pageSendButton();
      if (button) {
        button.click();
        return;
      }
      const init = { key: "Enter", code: "Enter", keyCode: 13, which: 13, bubbles: true, cancelable: true };
      const notPrevented = editor.dispatchEvent(new KeyboardEvent("keydown", init));
      const form = editor.closest("form");
      if (notPrevented && form) form.requestSubmit();
    } finally {
      bypass = false;
    }
  }

  window.addEventListener(
    "keydown",
    (event) => {
      if (!ctx || bypass || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      const editor = editorFrom(event.target);
      if (editor) onSubmitAttempt(event, editor, null);
    },
    true,
  );

  window.addEventListener(
    "click",
    (event) => {
      if (!ctx || bypass) return;
      const button = sendButtonFrom(event.target);
      if (!button) return;
      const editor = pageEditor();
      if (editor) onSubmitAttempt(event, editor, button);
    },
    true,
  );

  window.addEventListener(
    "submit",
    (event) => {
      if (!ctx || bypass || !(event.target instanceof HTMLFormElement)) return;
      let editor = null;
      for (const selector of selectors("editors")) {
        try {
          editor = event.target.querySelector(selector);
        } catch (error) {
          editor = null;
        }
        if (editor) break;
      }
      if (editor) onSubmitAttempt(event, editor, null);
    },
    true,
  );

  // --- pastes, drops and files ---------------------------------------------------------------------------
  // Pasted and dropped content take the same path: files are held until checked, text is analysed and the policy's
  // action applied before it reaches the page's editor.
  function onTransfer(event, data, via) {
    if (!ctx || bypass || !data) return;
    const files = Array.from(data.files || []);
    if (files.length) {
      stop(event);
      handleFiles(files, () => replayFiles(event.target, files, via));
      return;
    }
    const text = data.getData("text/plain");
    if (!text) return;
    const analysis = D.analyse(text);
    const action = D.decide(ctx, ctx.tool.status, analysis.labels);
    if (PASS.has(action)) {
      send({ kind: "paste", text, verdict: { action, user_choice: "none" } });
      return;
    }
    stop(event);
    const editor = editorFrom(event.target) || pageEditor();
    enforce(action, analysis, "paste", text, {
      proceed: () => insertText(editor, text),
      redact: () => insertText(editor, D.redact(text)),
    });
  }

  window.addEventListener("paste", (event) => onTransfer(event, event.clipboardData, "paste"), true);
  window.addEventListener("drop", (event) => onTransfer(event, event.dataTransfer, "drop"), true);

  window.addEventListener(
    "change",
    (event) => {
      const input = event.target;
      if (!ctx || bypass || !(input instanceof HTMLInputElement) || input.type !== "file" || !input.files.length) return;
      stop(event); // the page sees the files only once we have looked at them
      const files = Array.from(input.files);
      handleFiles(
        files,
        () => {
          bypass = true;
          try {
            input.dispatchEvent(new Event("input", { bubbles: true }));
            input.dispatchEvent(new Event("change", { bubbles: true }));
          } finally {
            bypass = false;
          }
        },
        () => {
          input.value = "";
        },
      );
    },
    true,
  );

  function replayFiles(target, files, how) {
    const transfer = new DataTransfer();
    for (const file of files) transfer.items.add(file);
    bypass = true;
    try {
      const init = { bubbles: true, cancelable: true };
      const replayed =
        how === "paste"
          ? new ClipboardEvent("paste", { ...init, clipboardData: transfer })
          : new DragEvent("drop", { ...init, dataTransfer: transfer });
      (target instanceof Element ? target : document.body).dispatchEvent(replayed);
    } finally {
      bypass = false;
    }
  }

  const looksTextual = (file) =>
    /^text\/|json|xml|csv|yaml|javascript|x-sh/.test(file.type) ||
    /\.(txt|md|csv|tsv|json|ya?ml|xml|log|py|js|ts|java|go|rs|sql|env|pem|key|ini|cfg|conf)$/i.test(file.name);

  async function sha256Hex(buffer) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function handleFiles(files, proceed, discard = () => {}) {
    const described = [];
    let combined = { labels: [], entity_counts: {}, matches: [] };
    for (const file of files) {
      const buffer = await file.arrayBuffer();
      let text = null;
      if (looksTextual(file) && file.size <= TEXT_FILE_MAX) text = new TextDecoder().decode(buffer);
      const analysis = text === null ? null : D.analyse(text);
      if (analysis) {
        combined = {
          labels: Array.from(new Set([...combined.labels, ...analysis.labels])),
          entity_counts: { ...combined.entity_counts, ...analysis.entity_counts },
          matches: [...combined.matches, ...analysis.matches],
        };
      }
      described.push({
        kind: "upload",
        file_name: file.name,
        file_size: file.size,
        media_type: file.type || null,
        file_sha256: await sha256Hex(buffer),
        text,
      });
    }
    const action = D.decide(ctx, ctx.tool.status, combined.labels);
    const record = (verdict) => described.forEach((d) => send({ ...d, verdict }));
    if (PASS.has(action)) {
      record({ action, user_choice: "none" });
      proceed();
      return;
    }
    // A file cannot be redacted in place: redact means the file does not go.
    const effective = action === "redact" ? "block" : action;
    enforce(effective, combined, null, null, { proceed, redact: discard, cancel: discard, record });
  }

  // --- applying an action --------------------------------------------------------------------------------
  /**
   * Apply a non-passing action. `kind`/`text` describe the prompt or paste to record (null for files, which
   * bring their own `record`); `hooks.proceed` replays what the person confirmed, `hooks.redact` redacts.
   */
  function enforce(action, analysis, kind, text, hooks) {
    const record =
      hooks.record ||
      ((verdict) => {
        remember(text, analysis, verdict);
        send({ kind, text, verdict });
      });
    const { found, labels } = describe(analysis);
    const tool = ctx.tool.name || ctx.tool.id;
    const status = ctx.tool.status;
    if (action === "block") {
      record({ action, user_choice: "none" });
      (hooks.cancel || (() => {}))();
      banner("block", `Not sent: this contains ${labels} (${found}). ${tool} is ${status} here, so your organisation blocks it.`);
    } else if (action === "redact") {
      hooks.redact();
      record({ action, user_choice: "redacted" });
      banner("redact", `${found} replaced with [REDACTED]. Check the text and send it again.`);
    } else if (action === "redirect") {
      record({ action, user_choice: "none" });
      (hooks.cancel || (() => {}))();
      const target = ctx.redirect && ctx.redirect.url;
      banner("redirect", `Not sent: ${tool} is ${status} for ${labels}. Use the approved tool instead.`, target);
    } else if (action === "justify") {
      dialog({
        kind: "justify",
        title: "Give a reason to continue",
        body: `This contains ${labels} (${found}). ${tool} is ${status} here. Your reason is recorded.`,
        proceedLabel: "Continue",
      }).then((answer) => {
        if (answer.proceed) {
          record({ action, user_choice: "justified", justification: answer.reason });
          hooks.proceed();
        } else {
          record({ action, user_choice: "cancelled" });
          (hooks.cancel || (() => {}))();
        }
      });
    } else {
      dialog({
        kind: "warn",
        title: "Sensitive data",
        body: `This contains ${labels} (${found}). ${tool} is ${status} here. Send it anyway?`,
        proceedLabel: "Send anyway",
      }).then((answer) => {
        record({ action: "warn", user_choice: answer.proceed ? "proceeded" : "cancelled" });
        if (answer.proceed) hooks.proceed();
        else (hooks.cancel || (() => {}))();
      });
    }
  }

  // --- in-page UI (in a shadow root, so the page's styles do not reach it) -------------------------------
  const STYLE = `
    :host { all: initial; }
    .veil { position: fixed; inset: 0; background: rgba(15, 23, 42, .45); z-index: 2147483647;
            display: flex; align-items: center; justify-content: center; font: 15px/1.45 system-ui, sans-serif; }
    .box { background: #fff; color: #0f172a; width: min(460px, 92vw); border-radius: 12px; padding: 20px 22px;
           box-shadow: 0 20px 50px rgba(0,0,0,.3); border-top: 6px solid #d97706; }
    .box.justify { border-top-color: #2563eb; }
    h2 { margin: 0 0 8px; font-size: 18px; }
    p { margin: 0 0 14px; }
    textarea { width: 100%; box-sizing: border-box; min-height: 70px; font: inherit; padding: 8px;
               border: 1px solid #94a3b8; border-radius: 8px; margin-bottom: 12px; }
    .row { display: flex; justify-content: flex-end; gap: 10px; }
    button { font: inherit; padding: 8px 14px; border-radius: 8px; border: 1px solid #94a3b8; background: #fff;
             cursor: pointer; }
    button.go { background: #0f172a; color: #fff; border-color: #0f172a; }
    button:disabled { opacity: .45; cursor: default; }
    .brand { font-size: 12px; color: #64748b; margin-bottom: 4px; letter-spacing: .04em; text-transform: uppercase; }
    .banner { position: fixed; top: 12px; left: 50%; transform: translateX(-50%); z-index: 2147483647;
              width: min(720px, 94vw); box-sizing: border-box; padding: 12px 44px 12px 16px; border-radius: 10px;
              font: 14px/1.45 system-ui, sans-serif; color: #fff; background: #b91c1c;
              box-shadow: 0 10px 30px rgba(0,0,0,.25); }
    .banner.redact { background: #a16207; }
    .banner.redirect { background: #1d4ed8; }
    .banner a { color: #fff; font-weight: 600; margin-left: 6px; }
    .banner .close { position: absolute; right: 8px; top: 8px; background: transparent; color: #fff; border: 0;
                     font-size: 18px; padding: 2px 8px; }
  `;

  function mount(id) {
    document.getElementById(id)?.remove();
    const hostElement = document.createElement("shadowscope-ui");
    hostElement.id = id;
    const root = hostElement.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    root.append(style);
    // Keys typed in our UI are ours: the page's shortcuts must not act on them.
    for (const type of ["keydown", "keyup", "keypress", "paste", "input"]) {
      root.addEventListener(type, (e) => e.stopPropagation());
    }
    (document.body || document.documentElement).append(hostElement);
    return root;
  }

  function element(tag, props = {}, children = []) {
    const el = document.createElement(tag);
    Object.assign(el, props);
    el.append(...children);
    return el;
  }

  function banner(kind, message, link) {
    const root = mount("shadowscope-banner");
    const close = element("button", { className: "close", textContent: "×", title: "Close" });
    const content = [element("strong", { textContent: "ShadowScope: " }), message];
    if (link) content.push(element("a", { href: link, textContent: "Open the approved tool", target: "_blank" }));
    const box = element("div", { className: `banner ${kind}`, role: "alert" }, [...content, close]);
    box.dataset.kind = kind;
    close.addEventListener("click", () => root.host.remove());
    root.append(box);
  }

  function dialog({ kind, title, body, proceedLabel }) {
    return new Promise((resolve) => {
      const root = mount("shadowscope-dialog");
      const cancel = element("button", { className: "cancel", textContent: "Cancel", type: "button" });
      const go = element("button", { className: "go", textContent: proceedLabel, type: "button" });
      const children = [
        element("div", { className: "brand", textContent: "ShadowScope" }),
        element("h2", { textContent: title }),
        element("p", { textContent: body }),
      ];
      let reason = null;
      if (kind === "justify") {
        reason = element("textarea", { className: "reason", maxLength: 256, placeholder: "Why does this need to go to this tool?" });
        go.disabled = true;
        reason.addEventListener("input", () => {
          go.disabled = !reason.value.trim();
        });
        children.push(reason);
      }
      children.push(element("div", { className: "row" }, [cancel, go]));
      const box = element("div", { className: `box ${kind}`, role: "dialog" }, children);
      box.dataset.kind = kind;
      root.append(element("div", { className: "veil" }, [box]));
      const finish = (answer) => {
        root.host.remove();
        resolve(answer);
      };
      cancel.addEventListener("click", () => finish({ proceed: false }));
      go.addEventListener("click", () => finish({ proceed: true, reason: reason ? reason.value.trim().slice(0, 256) : null }));
      root.addEventListener("keydown", (e) => {
        if (e.key === "Escape") finish({ proceed: false });
        if (e.key === "Enter" && !e.shiftKey && reason && reason.value.trim()) {
          e.preventDefault();
          finish({ proceed: true, reason: reason.value.trim().slice(0, 256) });
        }
      });
      (reason || cancel).focus();
    });
  }
})();
