// The chat page's script: sends messages, button presses and rosters to the JSON API and
// shows hubao's replies. Every text is set with textContent (never parsed as HTML). The
// page's words come from data-* attributes of #chat, filled from the text catalog, so
// nothing here is in Chinese. No framework: the page must work inside a closed network.
(function () {
  "use strict";

  const root = document.getElementById("chat");
  const words = root.dataset;
  const log = document.getElementById("log");
  const choicesBox = document.getElementById("choices");
  const progress = document.getElementById("progress");
  const form = document.getElementById("composer");
  const text = document.getElementById("text");
  const send = document.getElementById("send");
  const fileInput = document.getElementById("file");
  const drop = document.getElementById("drop");
  let busy = false;
  let lastChoices = [];

  function csrfToken() {
    for (const part of document.cookie.split(";")) {
      const pair = part.trim().split("=");
      if (pair[0] === "hubao_csrf") {
        return decodeURIComponent(pair.slice(1).join("="));
      }
    }
    return "";
  }

  // A client message id: a POST sent again after a network failure is answered once.
  // (crypto.randomUUID needs a secure context; getRandomValues works on plain http too.)
  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Only the log scrolls (see chat.css): its newest message in view.
  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function setBusy(value) {
    busy = value;
    send.disabled = value;
    fileInput.disabled = value;
    root.setAttribute("aria-busy", value ? "true" : "false");
  }

  function addMessage(role, body, extraClass) {
    const item = document.createElement("div");
    item.className = "msg msg-" + role + (extraClass ? " " + extraClass : "");
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (role === "user" ? words.you : words.bot) + ": ";
    const para = document.createElement("p");
    para.className = "msg-text";
    para.textContent = body;
    item.append(who, para);
    log.append(item);
    scrollDown();
    return item;
  }

  function addFiles(files, item) {
    if (!files || !files.length) {
      return;
    }
    const holder = item || addMessage("bot", "");
    const list = document.createElement("ul");
    list.className = "files";
    for (const file of files) {
      const link = document.createElement("a");
      link.className = "file";
      link.href = file.url;
      link.setAttribute("download", "");
      link.textContent = file.name;
      const entry = document.createElement("li");
      entry.append(link);
      list.append(entry);
    }
    holder.append(list);
    scrollDown();
  }

  function showChoices(choices) {
    lastChoices = choices;
    choicesBox.replaceChildren();
    for (const choice of choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = choice.label;
      button.dataset.value = choice.value;
      button.addEventListener("click", () => {
        submitMessage({ button: choice.value }, choice.label);
      });
      choicesBox.append(button);
    }
    scrollDown(); // the buttons take room from the log: keep its newest message in view
  }

  function showProgress(line) {
    progress.textContent = line;
    progress.hidden = !line;
  }

  function handleAnswer(data) {
    if (!data || data.error || !Array.isArray(data.replies)) {
      addMessage("bot", (data && data.error) || words.internal, "msg-error");
      showChoices(lastChoices);
      return;
    }
    let choices = [];
    for (const reply of data.replies) {
      const item = reply.text ? addMessage("bot", reply.text) : null;
      addFiles(reply.files, item);
      choices = choices.concat(reply.choices || []);
    }
    showChoices(choices);
  }

  async function readAnswer(response) {
    try {
      const data = await response.json();
      if (data && typeof data === "object") {
        return data;
      }
    } catch (err) {
      // not JSON: a proxy's error page
    }
    return { error: words.internal };
  }

  async function postJson(url, payload) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-Hubao-CSRF": csrfToken() },
          body: JSON.stringify(payload),
        });
        return await readAnswer(response);
      } catch (err) {
        // A network failure: sent once more with the same id, which the server answers once.
        if (attempt >= 1) {
          return { error: words.offline };
        }
      }
    }
  }

  async function submitMessage(payload, shown) {
    if (busy) {
      return false;
    }
    setBusy(true);
    addMessage("user", shown);
    showChoices([]);
    payload.id = newId();
    try {
      handleAnswer(await postJson("/api/messages", payload));
    } finally {
      setBusy(false);
      text.focus();
    }
    return true;
  }

  async function readStream(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let final = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (value) {
        buffer += decoder.decode(value, { stream: true });
      }
      let end = buffer.indexOf("\n");
      while (end >= 0) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        if (line) {
          const data = JSON.parse(line);
          if (typeof data.progress === "string") {
            showProgress(data.progress);
          } else {
            final = data;
          }
        }
        end = buffer.indexOf("\n");
      }
      if (done) {
        return final;
      }
    }
  }

  async function upload(file) {
    if (busy || !file) {
      return;
    }
    setBusy(true);
    addMessage("user", words.uploaded.replace("{name}", file.name));
    showChoices([]);
    showProgress(words.uploading.replace("{name}", file.name));
    const data = new FormData();
    data.append("id", newId());
    data.append("file", file, file.name);
    try {
      const response = await fetch("/api/upload", {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/x-ndjson", "X-Hubao-CSRF": csrfToken() },
        body: data,
      });
      const type = response.headers.get("Content-Type") || "";
      if (response.ok && type.startsWith("application/x-ndjson") && response.body) {
        handleAnswer(await readStream(response.body));
      } else {
        handleAnswer(await readAnswer(response));
      }
    } catch (err) {
      handleAnswer({ error: words.offline });
    } finally {
      showProgress("");
      fileInput.value = "";
      setBusy(false);
      text.focus();
    }
  }

  function intro() {
    addMessage("bot", words.intro);
    showChoices([
      { label: words.startLabel, value: "cmd:start" },
      { label: words.helpLabel, value: "cmd:help" },
    ]);
  }

  // The conversation so far, messages and files in the order they came.
  async function loadHistory() {
    let data = null;
    try {
      const response = await fetch("/api/history", { credentials: "same-origin" });
      data = response.ok ? await response.json() : null;
    } catch (err) {
      data = null;
    }
    if (!data || !Array.isArray(data.messages) || (!data.messages.length && !data.files.length)) {
      intro();
      return;
    }
    const files = data.files.slice();
    const flushFiles = (until) => {
      while (files.length && (until === null || Date.parse(files[0].at) <= until)) {
        addFiles([files.shift()], null);
      }
    };
    for (const line of data.messages) {
      flushFiles(Date.parse(line.at));
      addMessage(line.role === "user" ? "user" : "bot", line.text);
    }
    flushFiles(null);
    showChoices(data.choices || []);
    scrollDown();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value || busy) {
      return;
    }
    text.value = "";
    submitMessage({ text: value }, value);
  });

  text.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is not.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  fileInput.addEventListener("change", () => {
    upload(fileInput.files[0]);
  });

  const carriesFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
  let dragDepth = 0;
  document.addEventListener("dragenter", (event) => {
    if (carriesFiles(event)) {
      dragDepth += 1;
      drop.hidden = false;
    }
  });
  document.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    drop.hidden = dragDepth > 0 ? drop.hidden : true;
  });
  document.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) {
      event.preventDefault();
    }
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    dragDepth = 0;
    drop.hidden = true;
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) {
      upload(file);
    }
  });

  setBusy(true);
  loadHistory().finally(() => {
    setBusy(false);
    root.dataset.ready = "true";
  });
})();
