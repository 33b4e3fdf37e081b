/* The /protect page: the person chooses files, the Web Worker hashes them on this device, a
 * preview is drawn here (never sent), and only the hashes and the form's answers are posted to
 * /protect/cases. Videos: the page plays the file locally (a blob: URL), seeks one frame a
 * second and hands each frame's pixels to the worker. Errors: a summary at the top that takes
 * the focus, its items linking to their fields. */
(function () {
  "use strict";

  var MAX_FRAME_SIDE = 640;
  var MAX_VIDEO_SECONDS = 4 * 3600;
  var FRAME_WAIT_MS = 10000;  // how long a seeked frame may take to be decoded
  var form = document.getElementById("protect-form");
  if (!form) return;
  var T = JSON.parse(document.getElementById("messages").textContent);
  var maxItems = parseInt(form.getAttribute("data-max-items"), 10) || 50;
  var input = document.getElementById("files");
  var list = document.getElementById("file-list");
  var progress = document.getElementById("hash-progress");
  var worker = new Worker("/static/protect/worker.js");
  var entries = [];  // {id, file, kind, state: waiting|reading|done|bad, item, li}
  var nextId = 0;
  var pending = {};

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return String(values[k]); });
  }

  worker.onmessage = function (event) {
    var m = event.data, resolve = pending[m.id];
    delete pending[m.id];
    if (resolve) resolve(m);
  };

  // A worker that dies (out of memory on a huge picture) answers every open question with an
  // error, so that the file is named and skipped and the page goes on.
  worker.onerror = function (event) {
    event.preventDefault();
    Object.keys(pending).forEach(function (id) {
      var resolve = pending[id];
      delete pending[id];
      resolve({ type: "error", id: Number(id), reason: "worker" });
    });
  };

  function ask(message, transfer) {
    return new Promise(function (resolve) {
      pending[message.id] = resolve;
      worker.postMessage(message, transfer || []);
    });
  }

  function setState(entry, state, text) {
    entry.state = state;
    var span = entry.li.querySelector(".state");
    span.textContent = text;
    span.className = "state" + (state === "bad" ? " bad" : "");
    updateProgress();
  }

  function updateProgress() {
    var done = entries.filter(function (e) { return e.state === "done" || e.state === "bad"; });
    progress.textContent = entries.length
      ? fill(T.progress, { done: done.length, total: entries.length }) : "";
  }

  function drawThumbnail(canvas, source, width, height) {
    var scale = Math.min(64 / width, 64 / height), w = width * scale, h = height * scale;
    var g = canvas.getContext("2d");
    g.clearRect(0, 0, 64, 64);
    g.drawImage(source, (64 - w) / 2, (64 - h) / 2, w, h);
  }

  async function photo(entry, canvas) {
    try {
      var bitmap = await createImageBitmap(entry.file, { imageOrientation: "from-image" });
      drawThumbnail(canvas, bitmap, bitmap.width, bitmap.height);
      bitmap.close();
    } catch (e) { /* the worker says why */ }
    var answer = await ask({ type: "photo", id: entry.id, file: entry.file });
    if (answer.type === "done") {
      entry.item = answer.item;
      setState(entry, "done", T.ready_photo);
    } else {
      setState(entry, "bad", T.unreadable);
    }
  }

  function once(target, name) {
    return new Promise(function (resolve, reject) {
      function ok() { cleanup(); resolve(); }
      function bad() { cleanup(); reject(new Error(name)); }
      function cleanup() {
        target.removeEventListener(name, ok);
        target.removeEventListener("error", bad);
      }
      target.addEventListener(name, ok);
      target.addEventListener("error", bad);
    });
  }

  function pause(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // The frame at the seeked position. A busy browser can fire "seeked" before the frame is
  // decoded, and drawing a video without a current frame draws nothing: video frames are
  // opaque, so a transparent first pixel after drawing means "not there yet" (not a black
  // frame). Waits up to FRAME_WAIT_MS for it; null when it never comes.
  async function drawnFrame(element, g, w, h) {
    for (var waited = 0; waited <= FRAME_WAIT_MS; waited += 50) {
      g.clearRect(0, 0, w, h);
      g.drawImage(element, 0, 0, w, h);
      var image = g.getImageData(0, 0, w, h);
      if (image.data[3] !== 0) return image;
      await pause(50);
    }
    return null;
  }

  async function video(entry, canvas) {
    worker.postMessage({ type: "video-start", id: entry.id, file: entry.file });
    var url = URL.createObjectURL(entry.file), element = document.createElement("video");
    element.muted = true;
    element.preload = "auto";
    element.playsInline = true;
    var decoded = 0;
    try {
      var loaded = once(element, "loadeddata");
      element.src = url;
      await loaded;
      var duration = Math.min(element.duration, MAX_VIDEO_SECONDS);
      if (!isFinite(duration) || !element.videoWidth) throw new Error("no duration");
      var scale = Math.min(1, MAX_FRAME_SIDE / Math.max(element.videoWidth, element.videoHeight));
      var w = Math.max(1, Math.round(element.videoWidth * scale));
      var h = Math.max(1, Math.round(element.videoHeight * scale));
      var frame = document.createElement("canvas");
      frame.width = w;
      frame.height = h;
      var g = frame.getContext("2d", { willReadFrequently: true });
      for (var t = 0; t < duration; t += 1) {
        var seeked = once(element, "seeked");
        element.currentTime = t;
        await seeked;
        var image = await drawnFrame(element, g, w, h);
        if (!image) continue;  // this frame never became available: skipped
        if (t === 0) drawThumbnail(canvas, frame, w, h);
        var pixels = image.data.buffer;
        worker.postMessage({
          type: "frame", id: entry.id, number: decoded, timestamp: t,
          width: w, height: h, pixels: pixels
        }, [pixels]);
        decoded++;
      }
    } catch (e) {
      console.warn("video not playable here (" + (e && e.message || e) + "): exact hashes only");
      decoded = 0;  // not playable here: exact hashes only
    } finally {
      element.removeAttribute("src");
      element.load();
      URL.revokeObjectURL(url);
    }
    var answer = await ask({ type: "video-end", id: entry.id, decoded: decoded });
    if (answer.type !== "done") {
      setState(entry, "bad", T.unreadable);
      return;
    }
    entry.item = answer.item;
    setState(entry, "done", answer.frames
      ? fill(T.ready_video, { count: answer.frames }) : T.ready_video_exact);
  }

  var queue = Promise.resolve();

  function add(file) {
    var entry = { id: nextId++, file: file, state: "waiting", item: null };
    entry.kind = /^video\//.test(file.type) || /\.(mp4|m4v|mov|webm|mkv|avi|ogv)$/i.test(file.name)
      ? "video" : "photo";
    var li = document.createElement("li");
    var canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", fill(T.thumbnail, { name: file.name }));
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var state = document.createElement("span");
    state.className = "state";
    state.textContent = T.waiting;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = T.remove;
    remove.setAttribute("aria-label", T.remove + " " + file.name);
    remove.addEventListener("click", function () {
      entries = entries.filter(function (e) { return e !== entry; });
      li.remove();
      updateProgress();
      input.focus();
    });
    var text = document.createElement("div");
    text.className = "name";
    text.appendChild(name);
    text.appendChild(document.createElement("br"));
    text.appendChild(state);
    li.appendChild(canvas);
    li.appendChild(text);
    li.appendChild(remove);
    list.appendChild(li);
    entry.li = li;
    entries.push(entry);
    updateProgress();
    queue = queue.then(function () {
      if (entries.indexOf(entry) < 0) return null;
      setState(entry, "reading", T.reading);
      return entry.kind === "video" ? video(entry, canvas) : photo(entry, canvas);
    });
  }

  input.addEventListener("change", function () {
    var stale = document.getElementById("files-error");
    if (input.files.length && !stale.hidden) {  // the complaint was "choose a file"
      stale.hidden = true;
      stale.parentNode.classList.remove("invalid");
      input.removeAttribute("aria-invalid");
    }
    Array.prototype.forEach.call(input.files, add);
    input.value = "";  // the same file can be chosen again after removing it
  });

  // -- errors --------------------------------------------------------------------------------
  var summaryArea = document.getElementById("error-summary-area");

  function clearErrors() {
    summaryArea.textContent = "";
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (p) {
      p.hidden = true;
      p.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(form.querySelectorAll(".invalid"), function (el) {
      el.classList.remove("invalid");
    });
  }

  /** errors: [[field id, message]] -> the summary (focused) and each message by its field. */
  function showErrors(errors) {
    clearErrors();
    var box = document.createElement("div");
    box.className = "error-summary";
    box.id = "error-summary";
    box.setAttribute("role", "alert");
    box.setAttribute("tabindex", "-1");
    box.setAttribute("aria-labelledby", "error-summary-title");
    var h = document.createElement("h2");
    h.id = "error-summary-title";
    h.textContent = T.errors_title;
    box.appendChild(h);
    var ul = document.createElement("ul");
    errors.forEach(function (pair) {
      var target = document.getElementById(pair[0]);
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = "#" + pair[0];
      a.textContent = pair[1];
      a.addEventListener("click", function (event) {
        if (!target) return;
        event.preventDefault();
        (target.tagName === "FIELDSET" ? target.querySelector("input") : target).focus();
      });
      li.appendChild(a);
      ul.appendChild(li);
      var message = document.getElementById(pair[0] + "-error");
      if (message) {
        message.textContent = pair[1];
        message.hidden = false;
        message.parentNode.classList.add("invalid");
      }
      if (target) target.setAttribute("aria-invalid", "true");
    });
    box.appendChild(ul);
    summaryArea.appendChild(box);
    box.focus();
  }

  function consentValue() {
    var chosen = form.querySelector("input[name=consent]:checked");
    return chosen ? chosen.value : null;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var errors = [];
    if (!document.getElementById("depicted").checked) errors.push(["depicted", T.need_depicted]);
    if (!document.getElementById("adult").checked) errors.push(["adult", T.need_adult]);
    if (!consentValue()) errors.push(["consent", T.need_consent]);
    var busy = entries.some(function (e) { return e.state === "waiting" || e.state === "reading"; });
    var ready = entries.filter(function (e) { return e.state === "done"; });
    if (!entries.length) errors.push(["files", T.need_files]);
    else if (entries.length > maxItems) errors.push(["files", T.too_many]);
    else if (busy) errors.push(["files", T.still_hashing]);
    else if (!ready.length) errors.push(["files", T.none_usable]);
    if (errors.length) {
      showErrors(errors);
      return;
    }
    clearErrors();
    var submission = {
      consent: { platform: true, stopncii: consentValue() === "stopncii" },
      declarations: { depicted: true, adult: true },
      language: document.documentElement.lang || "en",
      items: ready.map(function (e) { return e.item; })
    };
    var button = document.getElementById("protect-submit");
    button.disabled = true;
    progress.textContent = T.sending;
    var answer, body;
    try {
      answer = await fetch("/protect/cases", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(submission),
        credentials: "same-origin"
      });
      body = await answer.json();
    } catch (e) {
      button.disabled = false;
      showErrors([["protect-submit", T.network]]);
      return;
    }
    button.disabled = false;
    if (answer.status !== 201) {
      showErrors([["files", fill(T.refused, { reason: body.message || answer.status })]]);
      return;
    }
    document.getElementById("form-area").hidden = true;
    var result = document.getElementById("result");
    document.getElementById("case-number").textContent = body.case_number;
    document.getElementById("case-pin").textContent = body.pin;
    document.getElementById("result-summary").textContent = fill(
      submission.consent.stopncii ? T.summary_stopncii : T.summary, { items: body.items }
    );
    document.getElementById("status-link").href = body.status_url;
    entries = [];
    result.hidden = false;
    document.getElementById("result-title").focus();
  });
})();
