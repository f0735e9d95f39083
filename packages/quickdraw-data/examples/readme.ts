import { initBackend } from '@pixelcnn/backend';
import { classLabel, className, renderStrokes } from '@pixelcnn/quickdraw-data';
import { downloadClass, loadQuickDraw, readDrawingFile } from '@pixelcnn/quickdraw-data/node';

// baseUrl: the public bucket by default; here a mirror (QUICKDRAW_BASE_URL), e.g. a directory
// laid out like the bucket.
export async function main(
  baseUrl = process.env.QUICKDRAW_BASE_URL,
  cacheDir = '.quickdraw-cache',
) {
  await initBackend(); // batches are tfjs tensors: a backend first (wasm on a plain Node machine)
  // Labels as in TensorFlow Datasets' quickdraw_bitmap.
  console.log(`label 26 = ${className(26)}; cat = ${classLabel('cat')}`);

  // Two classes, the first 500 drawings of each (HTTP Range requests when baseUrl is a server),
  // labels remapped to 0..1, a deterministic 10% test split by row hash.
  const data = await loadQuickDraw({
    classes: ['cat', 'fish'],
    maxPerClass: 500,
    labels: 'index',
    baseUrl,
    cacheDir,
  });
  console.log(`train ${data.size('train')}, test ${data.size('test')}`);
  let batchShape: number[] = [];
  for await (const { images, labels } of data.batches({ batchSize: 32, seed: 1 })) {
    // images: [32, 28, 28, 1] float32 in 0..255 (255 = ink); labels: [32] int32 in {0, 1}
    batchShape = images.shape;
    images.dispose();
    labels.dispose();
    break;
  }

  // Render the first simplified cat like Google did and compare with the first cat bitmap.
  const simplified = await downloadClass('cat', {
    format: 'simplified',
    maxDrawings: 1,
    baseUrl,
    cacheDir,
  });
  let meanDiff = Number.NaN;
  for await (const drawing of readDrawingFile(simplified.path, 'simplified')) {
    const rendered = renderStrokes(drawing.drawing); // [28 * 28] uint8
    const first = await data.read(data.examples('all', { shuffle: false }), 0, 1);
    meanDiff = rendered.reduce((s, v, i) => s + Math.abs(v - first.images[i]), 0) / 784;
  }
  console.log(`rendered vs real bitmap: mean |diff| ${meanDiff.toFixed(2)}/255`);
  await data.close();
  return { label26: className(26), train: data.size('train'), batchShape, meanDiff };
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
