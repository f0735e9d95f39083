/** The commands that make a model the viewer can show, and serve it. */
export const MAKE_MODEL_COMMANDS = [
  '# train a small model on 4 classes (~10 minutes on 2 CPU cores), into runs/demo',
  'pnpm demo',
  '# or train your own choice of classes',
  'pnpm --filter @pixelcnn/trainer build',
  'pnpm --filter @pixelcnn/trainer start -- train --classes cat,fish --out runs/cats-fish',
  '# then serve the viewer against the run directory',
  'pnpm --filter @pixelcnn/viewer serve -- --run runs/demo',
] as const;

/** What the page says when the served run directory has no model. */
export function noModelMessage(runDir: string | null, tried: readonly string[]): string {
  const where = runDir ? `in ${runDir}` : 'here (the viewer was started without --run)';
  return (
    `No model ${where}. The viewer looks for a trainer checkpoint (checkpoints/latest.json, ` +
    `trainer.json) or a PixelCNN.save (model.json)${tried.length ? `; tried ${tried.join(', ')}` : ''}.`
  );
}
