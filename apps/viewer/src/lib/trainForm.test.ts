import { applyPreset, parseArgs, trainOptions } from '@pixelcnn/trainer/settings';
import { expect, it } from 'vitest';
import {
  classList,
  classOfFile,
  commandLine,
  formDefaults,
  formFromSettings,
  settingsFromForm,
} from './trainForm';

it("starts from the demo's network and training (pixelcnn train --preset demo)", () => {
  const d = formDefaults();
  expect(d.classes).toBe('rainbow,lollipop,eye,apple');
  expect(d.fields).toMatchObject({
    'per-class': '2000',
    'num-resnet': '1',
    'num-hierarchies': '3',
    'num-filters': '32',
    'num-logistic-mix': '5',
    dropout: '0',
    'batch-size': '32',
    steps: '470',
    ema: '0.995',
  });
  // the settings of the defaults are the CLI's for `--preset demo --steps 470 --eval-images 200`
  const s = settingsFromForm(classList(d.classes), d.fields);
  const cli = parseArgs(['--steps', '470', '--eval-images', '200'], trainOptions, 'pixelcnn train');
  const values = applyPreset(cli.values, cli.explicit, 'demo');
  expect(s.train).toMatchObject({ steps: 470, evalImages: 200, batchSize: 32, ema: 0.995 });
  expect(s.train.learningRate).toBe(values.lr);
  expect(s.model).toMatchObject({
    numFilters: 32,
    numClasses: 4,
    conditionalShape: [],
    dropoutP: 0,
  });
  expect(s.data).toEqual({
    classes: ['rainbow', 'lollipop', 'eye', 'apple'],
    tfdsLabels: [239, 177, 106, 8], // TFDS labels: alphabetical (apple is 8th after ant, anvil)
    perClass: 2000,
    heldOut: 0.1,
  });
});

it("refuses bad values with the CLI's messages, and misspelt classes with suggestions", () => {
  const { fields } = formDefaults();
  expect(() => settingsFromForm(['apple'], { ...fields, 'num-filters': '0' })).toThrow(
    /option --num-filters/,
  );
  expect(() => settingsFromForm(['aple', 'fish'], fields)).toThrow(
    /'aple' is not a QuickDraw class; did you mean 'apple'/,
  );
  expect(() => settingsFromForm(['apple'], { ...fields, 'num-hierarchies': '4' })).toThrow(
    /28x28 images need sides divisible by 2\^\(numHierarchies-1\) = 8/,
  );
  // one class: unconditional, as the CLI trains it
  expect(settingsFromForm(['apple'], fields).model.conditionalShape).toBeNull();
  // dropped files named after no QuickDraw class keep their names
  expect(
    settingsFromForm(['my-cats', 'apple'], fields, { customClasses: true }).data,
  ).toMatchObject({
    classes: ['my-cats', 'apple'],
    tfdsLabels: [],
  });
});

it('says the command line of the same run', () => {
  const { fields } = formDefaults();
  expect(commandLine(['cat', 'dog'], { ...fields, 'num-filters': '64' })).toBe(
    'pixelcnn train --preset demo --classes cat,dog --num-filters 64 --steps 470 --eval-images 200 --out runs/browser',
  );
});

it("names a dropped file's class: QuickDraw's spelling for its classes, else the file's name", () => {
  expect(classOfFile('cat.npy')).toBe('cat');
  expect(classOfFile('full_numpy_bitmap_The Eiffel Tower.npy')).toBe('The Eiffel Tower');
  expect(classOfFile('C:\\data\\sea turtle.NPY')).toBe('sea turtle');
  expect(classOfFile('my-cats.npy')).toBe('my-cats');
});

it("shows a run's settings in the form, and the form gives those settings back", () => {
  const { fields } = formDefaults();
  const s = settingsFromForm(['cat', 'dog', 'fish'], {
    ...fields,
    'num-filters': '12',
    'held-out': '0.2',
    steps: '40',
    lr: '0.002',
    seed: '7',
  });
  const shown = formFromSettings(s);
  expect(shown.classes).toBe('cat,dog,fish');
  expect(shown.fields).toMatchObject({
    'num-filters': '12',
    'held-out': '0.2',
    steps: '40',
    seed: '7',
  });
  expect(settingsFromForm(classList(shown.classes), shown.fields)).toEqual(s);
});
