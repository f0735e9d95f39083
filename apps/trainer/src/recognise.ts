import fs from 'node:fs';
import path from 'node:path';
import { nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { displayPixels, quantizePixels } from '@pixelcnn/pixelcnn-dist/run';
import {
  DrawingClassifier,
  MODEL_NAMES,
  MODELS,
  type Recognition,
  recognitionShare,
  trainClassifier,
} from '@pixelcnn/quickdraw-models';
import { modelDir } from '@pixelcnn/quickdraw-models/node';
import { UsageError } from './args';
import { type DataAccess, type OpenedData, openRunData } from './data';
import { CliError } from './io';
import type { DataSettings, RunSettings } from './settings';

/** Where `--classifier auto` keeps the classifier it trains: `<run>/classifier`. */
export const RUN_CLASSIFIER_DIR = 'classifier';

/**
 * The classifier shipped with a pretrained model of @pixelcnn/quickdraw-models that judges a
 * run's data: the same classes and the same held-out split (so its training drawings are the
 * run's training drawings, never its held-out ones). Undefined when none ships.
 */
export function shippedClassifierDir(
  data: Pick<DataSettings, 'classes' | 'heldOut'>,
): string | undefined {
  const key = [...data.classes].sort().join();
  for (const name of MODEL_NAMES) {
    const m = MODELS[name];
    if ([...m.classes].sort().join() === key && m.record.data.heldOut === data.heldOut)
      return path.join(modelDir(name), RUN_CLASSIFIER_DIR);
  }
  return undefined;
}

/**
 * The classifier `--classifier auto` uses for a run: `<run>/classifier` when it exists, else the
 * shipped one for its classes ({@link shippedClassifierDir}), else `<run>/classifier`, where one
 * is then trained.
 */
export function autoClassifierDir(runDir: string, data: DataSettings): string {
  const own = path.join(runDir, RUN_CLASSIFIER_DIR);
  if (fs.existsSync(path.join(own, 'model.json'))) return own;
  return shippedClassifierDir(data) ?? own;
}

/** How the classifier of `--classifier` is trained when there is none yet. */
export const CLASSIFIER_TRAINING = { epochs: 4, batchSize: 64, learningRate: 1e-3, seed: 0 };

/** What `pixelcnn sample --classifier` found, as written to samples.json. */
export interface RecognitionReport {
  /** The classifier: where it is, its classes, and whether it was trained by this command. */
  classifier: { path: string; classes: string[]; trainedNow: boolean; parameters: number };
  /** Share of the generated drawings assigned to the class they were sampled for. */
  generated: Recognition;
  /** The same share for every real held-out drawing of those classes (the classifier's accuracy). */
  real: Recognition;
}

/** A classifier's metadata: the data it was trained on (checked against the run's). */
interface ClassifierMeta {
  trainedOn?: { drawings: number; perClass: number; heldOut: number; classes: string[] };
}

/**
 * Judge generated drawings with a classifier of the run's classes (`@pixelcnn/quickdraw-models`'
 * DrawingClassifier): the share assigned to the class they were sampled for, next to the share
 * for the run's real held-out drawings of those classes. `where` is a classifier directory: loaded
 * when it exists (its classes must be the run's), else trained on the run's training drawings
 * (deterministic, {@link CLASSIFIER_TRAINING}) and saved there, so later runs on the same classes
 * reuse it.
 */
export async function recogniseDrawings(o: {
  settings: Pick<RunSettings, 'data' | 'model'>;
  /** Generated drawings `[n * H * W]`, 0..255 with ink high (displayPixels of the samples). */
  generated: Uint8Array;
  /** Class index (into settings.data.classes) each drawing was sampled for. */
  intended: Int32Array;
  /** Classes judged (indices into settings.data.classes): their real held-out drawings count. */
  picked: readonly number[];
  where: string;
  access: DataAccess;
  log: (line: string) => void;
}): Promise<RecognitionReport> {
  const { settings, log } = o;
  const classes = settings.data.classes;
  const [H, W, C] = settings.model.imageShape;
  if (C !== 1 || classes.length < 2) {
    throw new UsageError(
      `option --classifier: the classifier judges grayscale drawings of 2 or more classes; this model has ${C} channel(s) and ${classes.length} class(es)`,
    );
  }
  const high = settings.model.high ?? 255;
  let data: OpenedData;
  try {
    data = await openRunData(settings.data, o.access);
  } catch (e) {
    throw new CliError(`--classifier needs the run's drawings: ${(e as Error).message}`);
  }
  try {
    let trainedNow = false;
    let classifier: DrawingClassifier;
    if (fs.existsSync(path.join(o.where, 'model.json'))) {
      const artifacts = await nodeFileIO(o.where).load();
      classifier = DrawingClassifier.fromArtifacts(artifacts);
      const theirs = [...classifier.classes].sort().join(', ');
      if (theirs !== [...classes].sort().join(', ')) {
        classifier.dispose();
        throw new UsageError(
          `option --classifier: ${o.where} judges ${theirs}, but the model draws ${classes.join(', ')}; give another directory (a new one trains a classifier there)`,
        );
      }
      const meta = DrawingClassifier.metadata(artifacts) as ClassifierMeta;
      if (meta.trainedOn && meta.trainedOn.heldOut !== settings.data.heldOut) {
        log(
          `warning: the classifier was trained with --held-out ${meta.trainedOn.heldOut}, this run holds out ${settings.data.heldOut}: some held-out drawings may be ones it was trained on`,
        );
      }
      log(`classifier: ${o.where} (${classifier.numParameters} parameters)`);
    } else {
      const order = data.dataset.examples('train', { shuffle: false });
      const train = await data.dataset.read(order);
      log(
        `training a classifier of ${classes.join(', ')} on ${train.size} training drawings (saved in ${o.where}) ...`,
      );
      const images = displayPixels(quantizePixels(train.images, high), high);
      classifier = await trainClassifier({ images, labels: train.labels }, classes, {
        ...CLASSIFIER_TRAINING,
        imageSize: [H, W],
        onEpoch: (e) =>
          log(
            `  classifier epoch ${e.epoch}/${e.epochs}: cross-entropy ${e.loss.toFixed(4)} nats (${e.seconds.toFixed(1)} s)`,
          ),
      });
      const meta: ClassifierMeta = {
        trainedOn: {
          drawings: train.size,
          perClass: settings.data.perClass,
          heldOut: settings.data.heldOut,
          classes: [...classes],
        },
      };
      await classifier.save(nodeFileIO(o.where), { ...meta, training: CLASSIFIER_TRAINING });
      trainedNow = true;
    }
    try {
      // The classifier's label j is its class name; the run's index of that name.
      const toRun = Int32Array.from(classifier.classes, (name) => classes.indexOf(name));
      const judge = async (images: Uint8Array) =>
        Int32Array.from(await classifier.predict(images), (j) => toRun[j]);

      const test = data.dataset.examples('test', { shuffle: false });
      const realRaw = await data.dataset.read(test);
      const keep: number[] = [];
      for (let i = 0; i < realRaw.size; i++) if (o.picked.includes(realRaw.labels[i])) keep.push(i);
      const px = H * W;
      const realImages = new Uint8Array(keep.length * px);
      const realLabels = new Int32Array(keep.length);
      keep.forEach((i, k) => {
        realImages.set(realRaw.images.subarray(i * px, (i + 1) * px), k * px);
        realLabels[k] = realRaw.labels[i];
      });
      const real = recognitionShare(
        await judge(displayPixels(quantizePixels(realImages, high), high)),
        realLabels,
        classes,
      );
      const generated = recognitionShare(await judge(o.generated), o.intended, classes);
      const only = (r: Recognition): Recognition => ({
        ...r,
        perClass: r.perClass.filter((_, c) => o.picked.includes(c)),
      });
      return {
        classifier: {
          path: o.where,
          classes: [...classifier.classes],
          trainedNow,
          parameters: classifier.numParameters,
        },
        generated: only(generated),
        real: only(real),
      };
    } finally {
      classifier.dispose();
    }
  } finally {
    await data.close();
  }
}

/** `62.5% [57.1, 67.6]` */
export function formatShare(r: { share: number; ci95: [number, number] }): string {
  const pc = (x: number) => (100 * x).toFixed(1);
  return `${pc(r.share)}% [${pc(r.ci95[0])}, ${pc(r.ci95[1])}]`;
}

/** The report's lines for the terminal. */
export function recognitionLines(r: RecognitionReport): string[] {
  const chance = 100 / r.classifier.classes.length;
  return [
    `recognised by the classifier (95% Wilson intervals; chance ${chance.toFixed(0)}%):`,
    `  generated ${formatShare(r.generated)} of ${r.generated.n}; real held-out ${formatShare(r.real)} of ${r.real.n}; ratio ${(r.generated.share / r.real.share).toFixed(2)}`,
    ...r.generated.perClass.map((g, k) => {
      const real = r.real.perClass[k];
      return `  ${g.class.padEnd(14)} generated ${formatShare(g).padEnd(22)} real ${formatShare(real)}`;
    }),
  ];
}
