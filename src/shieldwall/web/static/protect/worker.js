/* The portal's Web Worker: hashes the person's files on their own device. It receives File
 * objects and video frames from the page and answers hashes only; it makes no request.
 *
 * Messages in:  {type: "photo", id, file}
 *               {type: "video-start", id, file}  (MD5 of the file)
 *               {type: "frame", id, number, timestamp, width, height, pixels}  (RGBA buffer)
 *               {type: "video-end", id, decoded}
 * Messages out: {type: "done", id, item: {kind, signals, variants}, frames?}
 *               {type: "error", id, reason}
 */
/* global ShieldwallPDQ, ShieldwallMD5, importScripts */
"use strict";
importScripts("/static/protect/pdq.js", "/static/protect/md5.js");

var PDQ_FLOOR = 50;
var MAX_PIXELS = 80000000;  // the server's max_image_pixels: a decompression bomb is skipped
var CHUNK = 4 * 1024 * 1024;
var videos = {};

async function digests(file) {
  var md5 = new ShieldwallMD5.MD5();
  var whole = file.size <= 64 * 1024 * 1024 ? [] : null;  // SHA-256 needs the whole file
  for (var offset = 0; offset < file.size; offset += CHUNK) {
    var chunk = new Uint8Array(await file.slice(offset, offset + CHUNK).arrayBuffer());
    md5.update(chunk);
    if (whole) whole.push(chunk);
  }
  var signals = [{ type: "md5", value: md5.hex() }];
  if (whole && self.crypto && self.crypto.subtle) {
    var digest = await self.crypto.subtle.digest("SHA-256", await new Blob(whole).arrayBuffer());
    var hex = Array.from(new Uint8Array(digest), function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
    signals.push({ type: "sha256", value: hex });
  }
  return signals;
}

async function isJpeg(file) {
  var head = new Uint8Array(await file.slice(0, 3).arrayBuffer());
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

async function hashPhoto(id, file) {
  var bitmap;
  try {
    bitmap = await createImageBitmap(file, {
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
      imageOrientation: "from-image"
    });
  } catch (e) {
    self.postMessage({ type: "error", id: id, reason: "undecodable" });
    return;
  }
  var width = bitmap.width, height = bitmap.height;
  if (width * height > MAX_PIXELS) {
    bitmap.close();
    self.postMessage({ type: "error", id: id, reason: "too large" });
    return;
  }
  var canvas = new OffscreenCanvas(width, height);
  var context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  var pixels = context.getImageData(0, 0, width, height).data;
  var y = ShieldwallPDQ.luma(pixels, width, height);
  var own = ShieldwallPDQ.pdqFromLuma(y, width, height);
  var signals = await digests(file);
  var variants = [];
  if (own.quality >= PDQ_FLOOR) {
    signals.unshift({ type: "pdq", value: own.hex, quality: own.quality });
    variants = ShieldwallPDQ.bankVariants(y, width, height, await isJpeg(file), own.hex).map(
      function (v) {
        return { type: "pdq", value: v.hex, quality: v.quality, variant: v.variant };
      }
    );
  }
  self.postMessage({
    type: "done",
    id: id,
    item: { kind: "photo", signals: signals, variants: variants },
    width: width,
    height: height
  });
}

self.onmessage = async function (event) {
  var m = event.data;
  try {
    if (m.type === "photo") {
      await hashPhoto(m.id, m.file);
    } else if (m.type === "video-start") {
      videos[m.id] = { frames: [], digests: digests(m.file) };
    } else if (m.type === "frame") {
      var rgba = new Uint8ClampedArray(m.pixels);
      var h = ShieldwallPDQ.pdqFromRGBA(rgba, m.width, m.height);
      videos[m.id].frames.push(
        m.number + "," + h.quality + "," + h.hex + "," + m.timestamp.toFixed(3)
      );
      videos[m.id].best = Math.max(videos[m.id].best || 0, h.quality);
    } else if (m.type === "video-end") {
      var video = videos[m.id];
      delete videos[m.id];
      var signals = await video.digests;
      if (video.frames.length && video.best >= PDQ_FLOOR) {
        signals.unshift({ type: "vpdq", value: video.frames.join("\n") });
      }
      self.postMessage({
        type: "done",
        id: m.id,
        item: { kind: "video", signals: signals, variants: [] },
        frames: signals[0].type === "vpdq" ? video.frames.length : 0
      });
    }
  } catch (e) {
    self.postMessage({ type: "error", id: m.id, reason: String(e && e.message || e) });
  }
};
