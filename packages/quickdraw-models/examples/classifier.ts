import { initBackend } from '@pixelcnn/backend';
import { loadQuickDraw } from '@pixelcnn/quickdraw-data/node';
import { recognitionShare, trainClassifier } from '@pixelcnn/quickdraw-models';

// A classifier of two QuickDraw classes, trained on their first drawings and scored on held-out
// ones: the judge `pixelcnn sample --classifier` uses for generated drawings.
export async function main(baseUrl = process.env.QUICKDRAW_BASE_URL) {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const classes = ['rainbow', 'lollipop'];
  const data = await loadQuickDraw({
    classes,
    maxPerClass: 600,
    labels: 'index', // labels 0, 1 in the order of `classes`
    baseUrl, // a mirror laid out like Google's bucket; default the public bucket
    cacheDir: '.quickdraw-cache',
  });
  // Every drawing of a split as bytes: images [N * 28 * 28] (0..255), labels [N].
  const read = async (split: 'train' | 'test') =>
    data.read(data.examples(split, { shuffle: false }));
  const train = await read('train');
  const test = await read('test');
  await data.close();

  const classifier = await trainClassifier(train, classes, { epochs: 3, seed: 0 });
  const judged = recognitionShare(await classifier.predict(test.images), test.labels, classes);
  const pc = (x: number) => (100 * x).toFixed(1);
  console.log(
    `held-out accuracy ${pc(judged.share)}% [${pc(judged.ci95[0])}, ${pc(judged.ci95[1])}] ` +
      `of ${judged.n} drawings (${classifier.numParameters} parameters)`,
  );
  classifier.dispose();
  return judged;
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
