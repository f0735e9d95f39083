// The page's autosave: the training run's checkpoint in IndexedDB through tfjs's indexeddb://
// handler (pixelcnn-dist's saveCheckpointTo: the model record plus the trainer-state record),
// and its metrics rows as a third record, written first. Two slots, written in turn, so a tab
// closed in the middle of a save still leaves the other, older one whole; on reload the newest
// slot that opens whole wins, with the rows saved with it.
import {
  checkpointUrls,
  loadCheckpointFrom,
  type OpenedCheckpoint,
  saveCheckpointTo,
  type Trainer,
  type TrainerOptions,
} from '@pixelcnn/pixelcnn-dist';
import { checkCheckpointMeta, type MetricsRow } from '@pixelcnn/pixelcnn-dist/run';
import type { CheckpointMeta } from '@pixelcnn/trainer/settings';
import * as tf from '@tensorflow/tfjs-core';

export const AUTOSAVE_SLOTS = [
  'indexeddb://pixelcnn-viewer-autosave-a',
  'indexeddb://pixelcnn-viewer-autosave-b',
] as const;

/** The record of a slot's metrics rows (beside its model and trainer-state records). */
const metricsUrl = (slot: number) => `${AUTOSAVE_SLOTS[slot]}/metrics`;

/** What the page shows about an autosave before it is opened. */
export interface AutosaveInfo {
  slot: number;
  savedAt: string;
  meta: CheckpointMeta;
}

/** Autosaves present, newest first (by the date IndexedDB recorded), with their run's meta. */
export async function listAutosaves(): Promise<AutosaveInfo[]> {
  let models: Record<string, tf.io.ModelArtifactsInfo>;
  try {
    models = await tf.io.listModels();
  } catch {
    return []; // no IndexedDB (a private window in some browsers)
  }
  const found: AutosaveInfo[] = [];
  for (const [slot, url] of AUTOSAVE_SLOTS.entries()) {
    const urls = checkpointUrls(url);
    if (!models[urls.model] || !models[urls.state]) continue;
    try {
      const state = await tf.io.getLoadHandlers(urls.state)[0].load!();
      const extra = (state.modelTopology as { extra?: unknown } | undefined)?.extra;
      const meta = checkCheckpointMeta(extra, urls.state) as CheckpointMeta;
      found.push({ slot, savedAt: new Date(models[urls.model].dateSaved).toISOString(), meta });
    } catch {
      // unreadable: not offered (the other slot may be whole)
    }
  }
  return found.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

/**
 * Save into `slot` (0 or 1): the run's metrics rows first, then the checkpoint. A save cut short
 * leaves a slot whose checkpoint does not open, which is passed over with its rows.
 */
export async function saveAutosave(
  slot: number,
  trainer: Trainer,
  meta: CheckpointMeta,
  rows: readonly MetricsRow[],
): Promise<void> {
  await tf.io.getSaveHandlers(metricsUrl(slot))[0].save!({
    modelTopology: { rows: rows.filter((r) => r.step <= meta.progress.step) },
    weightSpecs: [],
    weightData: new ArrayBuffer(0),
  });
  await saveCheckpointTo(AUTOSAVE_SLOTS[slot], trainer, {
    extra: meta as unknown as Record<string, unknown>,
  });
}

/** The metrics rows saved with a slot (none when the record is missing or unreadable). */
async function savedRows(slot: number): Promise<MetricsRow[]> {
  try {
    const a = await tf.io.getLoadHandlers(metricsUrl(slot))[0].load!();
    const rows = (a.modelTopology as { rows?: unknown } | undefined)?.rows;
    return Array.isArray(rows) ? (rows as MetricsRow[]) : [];
  } catch {
    return [];
  }
}

/**
 * Open the newest autosave that opens whole (a torn or corrupt slot falls back to the other);
 * `errors` lists why a slot was passed over. Null when none opens.
 */
export async function openNewestAutosave(trainer: TrainerOptions): Promise<{
  opened: OpenedCheckpoint;
  info: AutosaveInfo;
  rows: MetricsRow[];
  errors: string[];
} | null> {
  const errors: string[] = [];
  for (const info of await listAutosaves()) {
    try {
      const opened = await loadCheckpointFrom(AUTOSAVE_SLOTS[info.slot], { trainer });
      return { opened, info, rows: await savedRows(info.slot), errors };
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return null;
}

/** Delete both slots (their checkpoints and rows). */
export async function removeAutosaves(): Promise<void> {
  const models = await tf.io.listModels().catch(() => ({}) as Record<string, unknown>);
  for (const [slot, url] of AUTOSAVE_SLOTS.entries()) {
    for (const u of [...Object.values(checkpointUrls(url)), metricsUrl(slot)]) {
      if (u in models) await tf.io.removeModel(u);
    }
  }
}
