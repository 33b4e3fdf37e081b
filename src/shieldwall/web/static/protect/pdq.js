/* Shieldwall's PDQ in the browser: a port of src/shieldwall/signals/pdq_algorithm.py and
 * pdq.py (the exact path, bit-identical to Meta's C++ reference on the same pixels) and of the
 * bank-side variants of pdq_variants.py (crops from each side and the centre, the rotation
 * sweep's inner rectangles, flat or blurred borders trimmed, caption bars cut), so that a case filed with hashes only still catches cropped
 * copies. No dependency; runs in a Web Worker (importScripts) or a page.
 *
 * Every step follows the Python one operation for operation: float64 where NumPy computes in
 * float64, Math.fround where it computes in float32, the same order of additions.
 */
(function (root) {
  "use strict";

  var SIDE = 64;
  var MIN_HASHABLE_SIDE = 5;
  var WORKING_SIDE = 256;
  var JPEG_SCALES = [8, 4, 2];
  var f32 = Math.fround;

  // -- the DCT matrix: float32 entries, as the reference -----------------------------------
  var DCT32 = (function () {
    var scale = f32(Math.sqrt(2.0 / SIDE));
    var d = new Float32Array(16 * SIDE);
    for (var i = 1; i <= 16; i++) {
      for (var j = 0; j < SIDE; j++) {
        d[(i - 1) * SIDE + j] = scale * Math.cos(Math.PI / 2 / SIDE * i * (2 * j + 1));
      }
    }
    return d;
  })();
  var DCT64 = Float64Array.from(DCT32);

  // -- step 1: luma ----------------------------------------------------------------------------
  /** Luma of RGBA pixels (ImageData.data): float64 arithmetic, stored as float32. */
  function luma(rgba, width, height) {
    var n = width * height;
    var y = new Float32Array(n);
    for (var p = 0, q = 0; p < n; p++, q += 4) {
      y[p] = rgba[q] * 0.299 + rgba[q + 1] * 0.587 + rgba[q + 2] * 0.114;
    }
    return y;
  }

  // -- step 2: the reference's blur-and-sample as bands ------------------------------------------
  function jaroszWindow(oldSide) {
    return Math.floor((oldSide + 2 * SIDE - 1) / (2 * SIDE));
  }

  /** 64 x full weights of filter_weights(full) (factor 1), row-major Float64Array. */
  function filterWeights(full) {
    var window = jaroszWindow(full);
    var rows = new Float64Array(SIDE * full);
    for (var i = 0; i < SIDE; i++) {
      rows[i * full + Math.floor((i + 0.5) * full / SIDE)] = 1.0;
    }
    if (window > 1) {
      var half = Math.floor((window + 2) / 2);
      var lo = new Int32Array(full), hi = new Int32Array(full), count = new Float64Array(full);
      for (var k = 0; k < full; k++) {
        lo[k] = Math.min(Math.max(k - (window - half), 0), full);
        hi[k] = Math.min(Math.max(k + half, 0), full);
        count[k] = hi[k] - lo[k];
      }
      var diff = new Float64Array(full + 1);
      for (var pass = 0; pass < 2; pass++) {
        for (var r = 0; r < SIDE; r++) {
          var base = r * full;
          diff.fill(0);
          // np.add.at(diff, lo, spread) for every k, then np.add.at(diff, hi, -spread)
          for (k = 0; k < full; k++) diff[lo[k]] += rows[base + k] / count[k];
          for (k = 0; k < full; k++) diff[hi[k]] += -(rows[base + k] / count[k]);
          var acc = 0;
          for (k = 0; k < full; k++) {
            acc += diff[k];
            rows[base + k] = acc;
          }
        }
      }
    }
    for (var t = 0; t < rows.length; t++) {
      if (Math.abs(rows[t]) < 1e-9) rows[t] = 0.0;
    }
    return rows;
  }

  /** The weights as narrow bands: {start: Int32Array(64), width, weights: Float64Array}. */
  function axisBand(full) {
    var m = filterWeights(full);
    var first = new Int32Array(SIDE), last = new Int32Array(SIDE), width = 0, i, s;
    for (i = 0; i < SIDE; i++) {
      var a = 0, b = full - 1, base = i * full;
      while (a < full && m[base + a] === 0) a++;
      while (b > 0 && m[base + b] === 0) b--;
      if (a === full) { a = 0; b = 0; }  // argmax of an all-zero row is 0
      first[i] = a;
      last[i] = b;
      width = Math.max(width, b - a + 1);
    }
    var start = new Int32Array(SIDE), weights = new Float64Array(SIDE * width);
    for (i = 0; i < SIDE; i++) {
      start[i] = Math.min(first[i], full - width);
      for (s = 0; s < width; s++) weights[i * width + s] = m[i * full + start[i] + s];
    }
    return { start: start, width: width, weights: weights };
  }

  var bandCache = new Map();
  function cachedBand(full) {
    var found = bandCache.get(full);
    if (!found) {
      if (bandCache.size > 64) bandCache.clear();
      found = axisBand(full);
      bandCache.set(full, found);
    }
    return found;
  }

  /** (h x w) float32 luma -> the 64 x 64 float32 buffer, as _apply_bands in float64. */
  function applyBands(y, width, height) {
    var rows = cachedBand(height), cols = cachedBand(width);
    var tmp = new Float64Array(SIDE * width), i, s, x, w, src, dst;
    for (i = 0; i < SIDE; i++) {
      dst = i * width;
      w = rows.weights[i * rows.width];
      src = rows.start[i] * width;
      for (x = 0; x < width; x++) tmp[dst + x] = w * y[src + x];
      for (s = 1; s < rows.width; s++) {
        w = rows.weights[i * rows.width + s];
        src = (rows.start[i] + s) * width;
        for (x = 0; x < width; x++) tmp[dst + x] += w * y[src + x];
      }
    }
    var out = new Float32Array(SIDE * SIDE), j, acc, tbase;
    for (i = 0; i < SIDE; i++) {
      tbase = i * width;
      for (j = 0; j < SIDE; j++) {
        acc = tmp[tbase + cols.start[j]] * cols.weights[j * cols.width];
        for (s = 1; s < cols.width; s++) {
          acc += tmp[tbase + cols.start[j] + s] * cols.weights[j * cols.width + s];
        }
        out[i * SIDE + j] = acc;
      }
    }
    return out;
  }

  // -- steps 4-6 -------------------------------------------------------------------------------
  function quality(buf) {
    var total = 0, r, c, d;
    for (r = 0; r < SIDE - 1; r++) {
      for (c = 0; c < SIDE; c++) {
        d = f32(f32(f32(buf[r * SIDE + c] - buf[(r + 1) * SIDE + c]) * 100) / 255);
        total += Math.abs(Math.trunc(d));
      }
    }
    for (r = 0; r < SIDE; r++) {
      for (c = 0; c < SIDE - 1; c++) {
        d = f32(f32(f32(buf[r * SIDE + c] - buf[r * SIDE + c + 1]) * 100) / 255);
        total += Math.abs(Math.trunc(d));
      }
    }
    return Math.min(Math.floor(total / 90), 100);
  }

  /** 16 x 16 DCT in float32, one term at a time in the reference's order (dct16 exact). */
  function dct16Exact(buf) {
    var t = new Float32Array(16 * SIDE), out = new Float64Array(256), i, j, k, acc;
    for (i = 0; i < 16; i++) {
      for (j = 0; j < SIDE; j++) {
        acc = f32(DCT32[i * SIDE] * buf[j]);
        for (k = 1; k < SIDE; k++) acc = f32(acc + f32(DCT32[i * SIDE + k] * buf[k * SIDE + j]));
        t[i * SIDE + j] = acc;
      }
    }
    for (i = 0; i < 16; i++) {
      for (j = 0; j < 16; j++) {
        acc = f32(t[i * SIDE] * DCT32[j * SIDE]);
        for (k = 1; k < SIDE; k++) acc = f32(acc + f32(t[i * SIDE + k] * DCT32[j * SIDE + k]));
        out[i * 16 + j] = acc;
      }
    }
    return out;
  }

  /** 16 x 16 DCT as one float64 product D @ A @ D.T (the variants' quick path). */
  function dct16Fast(buf) {
    var t = new Float64Array(16 * SIDE), out = new Float64Array(256), i, j, k, acc;
    for (i = 0; i < 16; i++) {
      for (j = 0; j < SIDE; j++) {
        acc = 0;
        for (k = 0; k < SIDE; k++) acc += DCT64[i * SIDE + k] * buf[k * SIDE + j];
        t[i * SIDE + j] = acc;
      }
    }
    for (i = 0; i < 16; i++) {
      for (j = 0; j < 16; j++) {
        acc = 0;
        for (k = 0; k < SIDE; k++) acc += t[i * SIDE + k] * DCT64[j * SIDE + k];
        out[i * 16 + j] = acc;
      }
    }
    return out;
  }

  var HEX = "0123456789abcdef";

  /** 64 hex digits: bit 16 i + j set when coefficient (i, j) is above the 128th smallest. */
  function bitsToHex(coefficients) {
    var sorted = Float64Array.from(coefficients).sort();
    var median = sorted[127], out = "", bit, nibble;
    for (var n = 63; n >= 0; n--) {
      nibble = 0;
      for (bit = 3; bit >= 0; bit--) {
        nibble = (nibble << 1) | (coefficients[n * 4 + bit] > median ? 1 : 0);
      }
      out += HEX[nibble];
    }
    return out;
  }

  var ZERO = "0".repeat(64);

  /** PDQ of a 64 x 64 buffer, exactly as the reference: {hex, quality}. */
  function hashBuffer(buf) {
    return { hex: bitsToHex(dct16Exact(buf)), quality: quality(buf) };
  }

  /** PDQ of a full-resolution float32 luma image (pdq_from_luma, exact): {hex, quality}. */
  function pdqFromLuma(y, width, height) {
    if (width === SIDE && height === SIDE) return hashBuffer(Float32Array.from(y));
    if (Math.min(width, height) < MIN_HASHABLE_SIDE) return { hex: ZERO, quality: 0 };
    return hashBuffer(applyBands(y, width, height));
  }

  /** PDQ of RGBA pixels (ImageData): {hex, quality}. */
  function pdqFromRGBA(rgba, width, height) {
    return pdqFromLuma(luma(rgba, width, height), width, height);
  }

  // -- bank-side variants (pdq_variants.bank_variants) -----------------------------------------
  var BANK_CROPS = [
    ["crop-top-10", 0.10, 0.0, 0.0, 0.0],
    ["crop-bottom-10", 0.0, 0.10, 0.0, 0.0],
    ["crop-left-10", 0.0, 0.0, 0.10, 0.0],
    ["crop-right-10", 0.0, 0.0, 0.0, 0.10],
    ["crop-top-20", 0.20, 0.0, 0.0, 0.0],
    ["crop-bottom-20", 0.0, 0.20, 0.0, 0.0],
    ["crop-left-20", 0.0, 0.0, 0.20, 0.0],
    ["crop-right-20", 0.0, 0.0, 0.0, 0.20],
    ["centre-90", 0.05, 0.05, 0.05, 0.05],
    ["centre-80", 0.10, 0.10, 0.10, 0.10]
  ];
  var ROTATION_ANGLES = [3.0, 5.0, 8.0];
  var QUALITY_FLOOR = 50;

  /** Python's round(): halves to even. */
  function roundHalfEven(x) {
    var r = Math.round(x);
    if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) r -= 1;
    return r;
  }

  function innerCrop(height, width, degrees) {
    var a = Math.abs(degrees) * Math.PI / 180, sin = Math.sin(a), cos = Math.cos(a);
    var longSide = Math.max(width, height), shortSide = Math.min(width, height), wr, hr;
    if (shortSide <= 2 * sin * cos * longSide || Math.abs(sin - cos) < 1e-10) {
      var x = 0.5 * shortSide;
      if (width >= height) { wr = x / sin; hr = x / cos; } else { wr = x / cos; hr = x / sin; }
    } else {
      var cos2 = cos * cos - sin * sin;
      wr = (width * cos - height * sin) / cos2;
      hr = (height * cos - width * sin) / cos2;
    }
    wr = Math.min(width, Math.trunc(wr));
    hr = Math.min(height, Math.trunc(hr));
    var top = Math.floor((height - hr) / 2), left = Math.floor((width - wr) / 2);
    return { top: top, bottom: top + hr, left: left, right: left + wr };
  }

  /** Linear weights of resizing n samples to m (cv2.INTER_LINEAR, half-pixel centres). */
  function linearWeights(n, m) {
    var scale = n / m, out = [];
    for (var i = 0; i < m; i++) {
      var x = (i + 0.5) * scale - 0.5, k = Math.floor(x), f = x - k;
      var k0 = Math.min(Math.max(k, 0), n - 1), k1 = Math.min(Math.max(k + 1, 0), n - 1);
      out.push([[k0, 1 - f], [k1, f]]);
    }
    return out;
  }

  /** The summed-area table of a float32 image: (h + 1) x (w + 1), float64. */
  function integral(y, width, height) {
    var stride = width + 1, sat = new Float64Array((height + 1) * stride), r, c, run;
    for (r = 0; r < height; r++) {
      run = 0;
      for (c = 0; c < width; c++) {
        run += y[r * width + c];
        sat[(r + 1) * stride + c + 1] = sat[r * stride + c + 1] + run;
      }
    }
    return sat;
  }

  /** The integral of the image over [0, x) x [0, y) for fractional x, y: bilinear in the
   * summed-area table, since the image is constant on each pixel. */
  function cumulative(sat, stride, x, yy) {
    var x0 = Math.floor(x), y0 = Math.floor(yy), fx = x - x0, fy = yy - y0;
    var a = sat[y0 * stride + x0];
    var b = fx ? sat[y0 * stride + x0 + 1] : a;
    var c = fy ? sat[(y0 + 1) * stride + x0] : a;
    var d = fx && fy ? sat[(y0 + 1) * stride + x0 + 1] : (fx ? b : c);
    // F(x0 + fx, y0 + fy) = a + fx (b - a) + fy (c - a) + fx fy (d - b - c + a)
    return a + fx * (b - a) + fy * (c - a) + fx * fy * (d - b - c + a);
  }

  /** A box of the luma image resized to 64 x 64 (as pdq_variants._buffer): area averaging
   * (cv2.INTER_AREA) from the summed-area table when the box is at least 64 on each side,
   * linear interpolation otherwise. */
  function buffer64(y, width, box, sat) {
    var h = box.bottom - box.top, w = box.right - box.left, i, j, p, row, acc;
    var out = new Float32Array(SIDE * SIDE);
    if (h >= SIDE && w >= SIDE) {
      var stride = width + 1, sy = h / SIDE, sx = w / SIDE, area = sx * sy;
      var xs = new Float64Array(SIDE + 1), ys = new Float64Array(SIDE + 1);
      for (i = 0; i <= SIDE; i++) {
        ys[i] = box.top + i * sy;
        xs[i] = box.left + i * sx;
      }
      ys[SIDE] = box.bottom;
      xs[SIDE] = box.right;
      var f = new Float64Array((SIDE + 1) * (SIDE + 1));
      for (i = 0; i <= SIDE; i++) {
        for (j = 0; j <= SIDE; j++) f[i * (SIDE + 1) + j] = cumulative(sat, stride, xs[j], ys[i]);
      }
      for (i = 0; i < SIDE; i++) {
        for (j = 0; j < SIDE; j++) {
          var k = i * (SIDE + 1) + j;
          out[i * SIDE + j] = (f[k + SIDE + 2] - f[k + 1] - f[k + SIDE + 1] + f[k]) / area;
        }
      }
      return out;
    }
    var rw = linearWeights(h, SIDE), cw = linearWeights(w, SIDE);
    var tmp = new Float64Array(SIDE * w);
    for (i = 0; i < SIDE; i++) {
      for (p = 0; p < rw[i].length; p++) {
        row = (box.top + rw[i][p][0]) * width + box.left;
        var weight = rw[i][p][1];
        for (j = 0; j < w; j++) tmp[i * w + j] += weight * y[row + j];
      }
    }
    for (i = 0; i < SIDE; i++) {
      for (j = 0; j < SIDE; j++) {
        acc = 0;
        for (p = 0; p < cw[j].length; p++) acc += cw[j][p][1] * tmp[i * w + cw[j][p][0]];
        out[i * SIDE + j] = acc;
      }
    }
    return out;
  }

  function quickPdq(y, width, box, sat) {
    var h = box.bottom - box.top, w = box.right - box.left;
    if (Math.min(h, w) < MIN_HASHABLE_SIDE) return { hex: ZERO, quality: 0 };
    var buf = buffer64(y, width, box, sat);
    return { hex: bitsToHex(dct16Fast(buf)), quality: quality(buf) };
  }

  /** Box-reduce a float32 image by whole blocks of `factor` (partial blocks averaged). */
  function reduce(y, width, height, factor) {
    var w = Math.ceil(width / factor), h = Math.ceil(height / factor);
    var out = new Float32Array(w * h), sums = new Float64Array(w), counts = new Float64Array(w);
    for (var by = 0; by < h; by++) {
      sums.fill(0);
      counts.fill(0);
      for (var yy = by * factor; yy < Math.min(height, (by + 1) * factor); yy++) {
        for (var x = 0; x < width; x++) {
          var bx = Math.floor(x / factor);
          sums[bx] += y[yy * width + x];
          counts[bx] += 1;
        }
      }
      for (var c = 0; c < w; c++) out[by * w + c] = sums[c] / counts[c];
    }
    return { y: out, width: w, height: h };
  }

  /** The working image the server's variants start from (media.image(min_side=256)): JPEGs
   * are decoded at 1/2, 1/4 or 1/8 while both sides stay >= 256, then any image is reduced by
   * whole blocks while both sides stay >= 256. */
  function workingLuma(y, width, height, isJpeg) {
    var image = { y: y, width: width, height: height };
    if (isJpeg) {
      for (var i = 0; i < JPEG_SCALES.length; i++) {
        var s = JPEG_SCALES[i];
        if (Math.ceil(width / s) >= WORKING_SIDE && Math.ceil(height / s) >= WORKING_SIDE) {
          image = reduce(y, width, height, s);
          break;
        }
      }
    }
    var extra = Math.min(
      Math.floor(image.width / WORKING_SIDE), Math.floor(image.height / WORKING_SIDE)
    );
    if (extra >= 2) image = reduce(image.y, image.width, image.height, extra);
    return image;
  }

  // -- the canonical cuts (media/normalise.py): flat borders, caption bars --------------------
  var MIN_AREA = 0.2, MIN_CUT = 0.02;

  function isCutOf(box, height, width) {
    var bh = box.bottom - box.top, bw = box.right - box.left;
    var kept = (bh * bw) / Math.max(1, height * width);
    var cut = Math.max(box.top / height, (height - box.bottom) / height,
                       box.left / width, (width - box.right) / width);
    return kept >= MIN_AREA && cut >= MIN_CUT && bh >= 8 && bw >= 8;
  }

  function runFrom(quiet, reversed) {
    var n = quiet.length;
    for (var i = 0; i < n; i++) if (!quiet[reversed ? n - 1 - i : i]) return i;
    return n;
  }

  function edges(quietRows, quietCols) {
    var top = runFrom(quietRows, false), bottom = quietRows.length - runFrom(quietRows, true);
    var left = runFrom(quietCols, false), right = quietCols.length - runFrom(quietCols, true);
    return { top: top, bottom: Math.max(top, bottom), left: left, right: Math.max(left, right) };
  }

  /** trim_borders: edge rows and columns whose standard deviation is under 3 luma levels. */
  function trimBorders(y, width, height) {
    if (height < 16 || width < 16) return null;
    var rowSum = new Float64Array(height), rowSq = new Float64Array(height);
    var colSum = new Float64Array(width), colSq = new Float64Array(width), r, c, v;
    for (r = 0; r < height; r++) {
      for (c = 0; c < width; c++) {
        v = y[r * width + c];
        rowSum[r] += v; rowSq[r] += v * v; colSum[c] += v; colSq[c] += v * v;
      }
    }
    var quietRows = [], quietCols = [];
    for (r = 0; r < height; r++) {
      var m = rowSum[r] / width;
      quietRows.push(Math.sqrt(Math.max(0, rowSq[r] / width - m * m)) < 3.0);
    }
    for (c = 0; c < width; c++) {
      var mc = colSum[c] / height;
      quietCols.push(Math.sqrt(Math.max(0, colSq[c] / height - mc * mc)) < 3.0);
    }
    var box = edges(quietRows, quietCols);
    return isCutOf(box, height, width) ? box : null;
  }

  /** cv2.GaussianBlur(y, (0, 0), 1.0) on float32: a 9-tap kernel, borders reflected (101). */
  var GAUSS = (function () {
    var k = new Float64Array(9), sum = 0, i;
    for (i = 0; i < 9; i++) { k[i] = Math.exp(-((i - 4) * (i - 4)) / 2); sum += k[i]; }
    for (i = 0; i < 9; i++) k[i] /= sum;
    return k;
  })();

  function reflect(i, n) {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
  }

  var G0 = GAUSS[0], G1 = GAUSS[1], G2 = GAUSS[2], G3 = GAUSS[3], G4 = GAUSS[4];

  function gaussianBlur(y, width, height) {
    var tmp = new Float32Array(width * height), out = new Float32Array(width * height);
    var padded = new Float64Array(width + 8), r, c, base;
    for (r = 0; r < height; r++) {  // along each row, from a reflected copy of it
      base = r * width;
      for (c = -4; c < width + 4; c++) padded[c + 4] = y[base + reflect(c, width)];
      for (c = 0; c < width; c++) {
        tmp[base + c] = G0 * padded[c] + G1 * padded[c + 1] + G2 * padded[c + 2] +
          G3 * padded[c + 3] + G4 * padded[c + 4] + G3 * padded[c + 5] +
          G2 * padded[c + 6] + G1 * padded[c + 7] + G0 * padded[c + 8];
      }
    }
    for (r = 0; r < height; r++) {  // down each column: nine whole rows at a time
      var b0 = reflect(r - 4, height) * width, b1 = reflect(r - 3, height) * width;
      var b2 = reflect(r - 2, height) * width, b3 = reflect(r - 1, height) * width;
      var b4 = r * width, b5 = reflect(r + 1, height) * width;
      var b6 = reflect(r + 2, height) * width, b7 = reflect(r + 3, height) * width;
      var b8 = reflect(r + 4, height) * width;
      for (c = 0; c < width; c++) {
        out[b4 + c] = G0 * tmp[b0 + c] + G1 * tmp[b1 + c] + G2 * tmp[b2 + c] +
          G3 * tmp[b3 + c] + G4 * tmp[b4 + c] + G3 * tmp[b5 + c] + G2 * tmp[b6 + c] +
          G1 * tmp[b7 + c] + G0 * tmp[b8 + c];
      }
    }
    return out;
  }

  /** trim_blurred: edge rows and columns whose fine detail is under 0.4 of the middle's. */
  function trimBlurred(y, width, height) {
    if (height < 16 || width < 16) return null;
    var blur = gaussianBlur(y, width, height);
    var rows = new Float64Array(height), cols = new Float64Array(width), r, c, d;
    for (r = 0; r < height; r++) {
      for (c = 0; c < width; c++) {
        d = Math.abs(y[r * width + c] - blur[r * width + c]);
        rows[r] += d;
        cols[c] += d;
      }
    }
    for (r = 0; r < height; r++) rows[r] /= width;
    for (c = 0; c < width; c++) cols[c] /= height;
    var middle = median(Array.prototype.concat(
      Array.from(rows.subarray(Math.floor(height / 4), Math.floor(3 * height / 4))),
      Array.from(cols.subarray(Math.floor(width / 4), Math.floor(3 * width / 4)))
    ));
    if (middle <= 0.5) return null;
    var quietRows = Array.from(rows, function (v) { return v < 0.4 * middle; });
    var quietCols = Array.from(cols, function (v) { return v < 0.4 * middle; });
    var box = edges(quietRows, quietCols);
    return isCutOf(box, height, width) ? box : null;
  }

  function sameBox(a, b) {
    return a && b && a.top === b.top && a.bottom === b.bottom && a.left === b.left &&
      a.right === b.right;
  }

  function median(values) {
    var sorted = Float64Array.from(values).sort(), n = sorted.length;
    return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** _band_end: rows of a caption band at the top (or bottom) edge, 0 when there is none. */
  function bandEnd(y, width, height, fromTop) {
    function row(i) { return fromTop ? i : height - 1 - i; }
    var edge = y.subarray(row(0) * width, row(0) * width + width);
    var colour = median(edge), share = new Float64Array(height), i, c;
    for (i = 0; i < height; i++) {
      var base = row(i) * width, near = 0;
      for (c = 0; c < width; c++) if (Math.abs(y[base + c] - colour) <= 12.0) near++;
      share[i] = near / width;
    }
    var limit = Math.trunc(height * 0.45), mostly = [];
    for (i = 0; i < limit; i++) mostly.push(share[i] >= 0.5);
    var span = runFrom(mostly, false);
    if (span < Math.trunc(height * 0.04)) return 0;
    var last = -1;
    for (i = 0; i < span; i++) if (share[i] >= 0.98) last = i;
    if (last < 0) return 0;
    var end = last + 1;
    if (end < Math.trunc(height * 0.04) || end >= limit) return 0;
    var mean = 0;
    for (i = 0; i < end; i++) mean += share[i];
    if (mean / end < 0.6) return 0;
    return end;
  }

  /** caption_cuts: the picture without a caption bar above, below, or both. */
  function captionCuts(y, width, height) {
    if (height < 16 || width < 16) return [];
    var top = bandEnd(y, width, height, true), bottom = bandEnd(y, width, height, false);
    var out = [];
    if (top) out.push(["caption-top", { top: top, bottom: height, left: 0, right: width }]);
    if (bottom) {
      out.push(["caption-bottom", { top: 0, bottom: height - bottom, left: 0, right: width }]);
    }
    if (top && bottom && height - bottom - top > 8) {
      out.push(["caption-both", { top: top, bottom: height - bottom, left: 0, right: width }]);
    }
    return out.filter(function (pair) { return isCutOf(pair[1], height, width); });
  }

  /** The bank-side variants of a photo: [{variant, hex, quality}], usable (quality >= 50)
   * and different from `own`. */
  function bankVariants(y, width, height, isJpeg, own) {
    var work = workingLuma(y, width, height, isJpeg);
    var h = work.height, w = work.width, boxes = [], i;
    if (h < 16 || w < 16) return [];
    for (i = 0; i < BANK_CROPS.length; i++) {
      var c = BANK_CROPS[i];
      boxes.push([c[0], {
        top: roundHalfEven(h * c[1]), bottom: h - roundHalfEven(h * c[2]),
        left: roundHalfEven(w * c[3]), right: w - roundHalfEven(w * c[4])
      }]);
    }
    for (i = 0; i < ROTATION_ANGLES.length; i++) {
      var angle = ROTATION_ANGLES[i], inner = innerCrop(h, w, angle);
      boxes.push(["inner" + angle, inner]);
      var twice = innerCrop(inner.bottom - inner.top, inner.right - inner.left, angle);
      boxes.push(["inner" + angle + "x2", {
        top: inner.top + twice.top, bottom: inner.top + twice.bottom,
        left: inner.left + twice.left, right: inner.left + twice.right
      }]);
    }
    var trimmed = trimBorders(work.y, w, h);
    if (trimmed) boxes.push(["trim", trimmed]);
    var blurred = trimBlurred(work.y, w, h);
    if (blurred && !sameBox(blurred, trimmed)) boxes.push(["trim-blur", blurred]);
    boxes = boxes.concat(captionCuts(work.y, w, h));
    var out = [], seen = {}, sat = integral(work.y, w, h);
    for (i = 0; i < boxes.length; i++) {
      var found = quickPdq(work.y, w, boxes[i][1], sat);
      if (found.quality < QUALITY_FLOOR || found.hex === own || seen[found.hex]) continue;
      seen[found.hex] = true;
      out.push({ variant: boxes[i][0], hex: found.hex, quality: found.quality });
    }
    return out;
  }

  function hamming(a, b) {
    var d = 0;
    for (var i = 0; i < 64; i++) {
      var x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
      while (x) { d += x & 1; x >>= 1; }
    }
    return d;
  }

  root.ShieldwallPDQ = {
    DCT32: DCT32,
    luma: luma,
    filterWeights: filterWeights,
    hashBuffer: hashBuffer,
    pdqFromLuma: pdqFromLuma,
    pdqFromRGBA: pdqFromRGBA,
    bankVariants: bankVariants,
    workingLuma: workingLuma,
    hamming: hamming
  };
})(typeof self !== "undefined" ? self : this);
