/**
 * Plain 2-D images for evaluation: real (amplitude, phase, maps) and complex (objects,
 * reconstructions) as row-major float64 planes. Everything in src/main/eval works on these,
 * so each step is a pure function that is easy to test against numpy.
 */

export interface RealImage {
  readonly height: number;
  readonly width: number;
  readonly data: Float64Array;
}

/** Complex image with separate real and imaginary planes (row-major). */
export interface ComplexImage {
  readonly height: number;
  readonly width: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

export function realImage(height: number, width: number, data?: ArrayLike<number>): RealImage {
  const out = new Float64Array(height * width);
  if (data) {
    if (data.length !== out.length) throw new Error(`image data length ${data.length} != ${height}×${width}`);
    out.set(data);
  }
  return { height, width, data: out };
}

export function complexImage(height: number, width: number): ComplexImage {
  return { height, width, re: new Float64Array(height * width), im: new Float64Array(height * width) };
}

/** A real image as a complex one with zero imaginary part. */
export function realToComplex(img: RealImage): ComplexImage {
  const c = complexImage(img.height, img.width);
  c.re.set(img.data);
  return c;
}

/** From interleaved (re, im) pairs, the layout of complex64 NPZ arrays. */
export function complexFromInterleaved(height: number, width: number, pairs: ArrayLike<number>): ComplexImage {
  if (pairs.length !== 2 * height * width) {
    throw new Error(`complex data length ${pairs.length} != 2×${height}×${width}`);
  }
  const c = complexImage(height, width);
  for (let i = 0; i < height * width; i++) {
    c.re[i] = pairs[2 * i];
    c.im[i] = pairs[2 * i + 1];
  }
  return c;
}

export function complexToInterleaved(c: ComplexImage): Float32Array {
  const out = new Float32Array(2 * c.re.length);
  for (let i = 0; i < c.re.length; i++) {
    out[2 * i] = c.re[i];
    out[2 * i + 1] = c.im[i];
  }
  return out;
}

export function amplitude(c: ComplexImage): RealImage {
  const out = realImage(c.height, c.width);
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.hypot(c.re[i], c.im[i]);
  return out;
}

/** angle() in (−π, π], as numpy. */
export function phase(c: ComplexImage): RealImage {
  const out = realImage(c.height, c.width);
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.atan2(c.im[i], c.re[i]);
  return out;
}

export function cropReal(img: RealImage, y0: number, x0: number, h: number, w: number): RealImage {
  checkWindow(img, y0, x0, h, w);
  const out = realImage(h, w);
  for (let y = 0; y < h; y++)
    out.data.set(img.data.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x0 + w), y * w);
  return out;
}

export function cropComplex(img: ComplexImage, y0: number, x0: number, h: number, w: number): ComplexImage {
  checkWindow(img, y0, x0, h, w);
  const out = complexImage(h, w);
  for (let y = 0; y < h; y++) {
    const s = (y0 + y) * img.width + x0;
    out.re.set(img.re.subarray(s, s + w), y * w);
    out.im.set(img.im.subarray(s, s + w), y * w);
  }
  return out;
}

function checkWindow(img: { height: number; width: number }, y0: number, x0: number, h: number, w: number): void {
  if (y0 < 0 || x0 < 0 || h <= 0 || w <= 0 || y0 + h > img.height || x0 + w > img.width) {
    throw new Error(`crop window [${y0}:${y0 + h}, ${x0}:${x0 + w}] outside a ${img.height}×${img.width} image`);
  }
}

/** Remove `border` pixels on every side (the original's 2-px trims). */
export function trimReal(img: RealImage, border: number): RealImage {
  return cropReal(img, border, border, img.height - 2 * border, img.width - 2 * border);
}

export function trimComplex(img: ComplexImage, border: number): ComplexImage {
  return cropComplex(img, border, border, img.height - 2 * border, img.width - 2 * border);
}

/** Central square of side min(h, w): the FRC needs square images, as in the original. */
export function centerSquare(img: RealImage): RealImage {
  const n = Math.min(img.height, img.width);
  return cropReal(img, Math.floor((img.height - n) / 2), Math.floor((img.width - n) / 2), n, n);
}

export function mean(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

export function minMax(a: Float64Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export function mapReal(img: RealImage, f: (v: number, i: number) => number): RealImage {
  const out = realImage(img.height, img.width);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(img.data[i], i);
  return out;
}

/** Every other row and column (`img[::2, ::2]`), the original MS-SSIM's downsampling. */
export function decimate2(img: RealImage): RealImage {
  const h = Math.ceil(img.height / 2);
  const w = Math.ceil(img.width / 2);
  const out = realImage(h, w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.data[y * w + x] = img.data[2 * y * img.width + 2 * x];
  return out;
}
