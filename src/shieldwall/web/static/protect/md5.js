/* MD5 (RFC 1321), incremental, for the portal's exact-copy hashes: the browser's Web Crypto
 * has no MD5, and the banks match photos and videos by it. Our own code, no dependency. */
(function (root) {
  "use strict";

  var S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
           5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
  var K = new Int32Array(64);
  for (var i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;

  function MD5() {
    this.h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.buffer = new Uint8Array(64);
    this.used = 0;
    this.length = 0;  // bytes, as a double (exact below 2^53)
    this.words = new Int32Array(16);
  }

  MD5.prototype.block = function (bytes, offset) {
    var m = this.words, j;
    for (j = 0; j < 16; j++) {
      var p = offset + j * 4;
      m[j] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    }
    var a = this.h[0], b = this.h[1], c = this.h[2], d = this.h[3], f, g, t;
    for (j = 0; j < 64; j++) {
      if (j < 16) { f = (b & c) | (~b & d); g = j; }
      else if (j < 32) { f = (d & b) | (~d & c); g = (5 * j + 1) & 15; }
      else if (j < 48) { f = b ^ c ^ d; g = (3 * j + 5) & 15; }
      else { f = c ^ (b | ~d); g = (7 * j) & 15; }
      t = d;
      d = c;
      c = b;
      var x = (a + f + K[j] + m[g]) | 0;
      b = (b + ((x << S[j]) | (x >>> (32 - S[j])))) | 0;
      a = t;
    }
    this.h[0] = (this.h[0] + a) | 0;
    this.h[1] = (this.h[1] + b) | 0;
    this.h[2] = (this.h[2] + c) | 0;
    this.h[3] = (this.h[3] + d) | 0;
  };

  /** Add bytes (a Uint8Array). */
  MD5.prototype.update = function (bytes) {
    var p = 0, n = bytes.length;
    this.length += n;
    if (this.used) {
      var take = Math.min(64 - this.used, n);
      this.buffer.set(bytes.subarray(0, take), this.used);
      this.used += take;
      p = take;
      if (this.used < 64) return this;
      this.block(this.buffer, 0);
      this.used = 0;
    }
    for (; p + 64 <= n; p += 64) this.block(bytes, p);
    if (p < n) {
      this.buffer.set(bytes.subarray(p), 0);
      this.used = n - p;
    }
    return this;
  };

  /** The digest as 32 lower-case hex digits. */
  MD5.prototype.hex = function () {
    var bits = this.length * 8;
    var pad = new Uint8Array(((this.used < 56) ? 56 : 120) - this.used + 8);
    pad[0] = 0x80;
    var lo = bits % 4294967296, hi = Math.floor(bits / 4294967296), e = pad.length - 8;
    for (var j = 0; j < 4; j++) {
      pad[e + j] = (lo >>> (8 * j)) & 255;
      pad[e + 4 + j] = (hi >>> (8 * j)) & 255;
    }
    this.update(pad);
    var out = "";
    for (var w = 0; w < 4; w++) {
      for (var k = 0; k < 4; k++) {
        var byte = (this.h[w] >>> (8 * k)) & 255;
        out += (byte < 16 ? "0" : "") + byte.toString(16);
      }
    }
    return out;
  };

  root.ShieldwallMD5 = {
    MD5: MD5,
    hex: function (bytes) { return new MD5().update(bytes).hex(); }
  };
})(typeof self !== "undefined" ? self : this);
