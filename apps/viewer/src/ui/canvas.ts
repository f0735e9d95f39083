import type { GridGeometry } from '../lib/imageGrid';

/** Show an RGBA grid on a canvas (resizing it to the grid). */
export function drawRgba(
  canvas: HTMLCanvasElement,
  g: GridGeometry,
  rgba: Uint8ClampedArray,
): void {
  if (canvas.width !== g.width || canvas.height !== g.height) {
    canvas.width = g.width;
    canvas.height = g.height;
  }
  canvas
    .getContext('2d')!
    .putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, g.width, g.height), 0, 0);
}

/** The value of a number input, clamped to [1, max] and written back. */
export function countInput(el: HTMLInputElement, max: number): number {
  const v = Math.max(1, Math.min(max, Math.round(Number(el.value) || 1)));
  el.value = String(v);
  return v;
}
