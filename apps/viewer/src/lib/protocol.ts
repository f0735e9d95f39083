import type { WebGpuAdapter } from '@pixelcnn/backend';
import type { ModelFacts, WeightGroup } from './loadModel';

/** What the page asks the model worker to do. */
export type WorkerRequest =
  | { type: 'load'; runBase: string; hint?: string; backends?: string; weights?: WeightGroup }
  | {
      type: 'sample';
      id: number;
      n: number;
      /** Class label (conditional models). */
      label?: number;
      seed: number;
      temperature: number;
      sampler?: string;
      /** Completion: `[H * W * C]` integers in [low, high] and the rows kept from it. */
      prefix?: Float32Array;
      keepRows?: number;
    }
  | { type: 'stop'; id: number };

/** What the worker tells the page. */
export type WorkerMessage =
  | {
      type: 'backend';
      /** @pixelcnn/backend's name for the backend chosen. */
      backend: string;
      /** Its one-line report: what was chosen (the adapter, on webgpu) and why others were not. */
      summary: string;
      adapter?: WebGpuAdapter;
    }
  | {
      type: 'loaded';
      facts: ModelFacts;
      numParameters: number;
      samplers: string[];
      sampler: string;
      ms: number;
    }
  | { type: 'no-model'; tried: string[] }
  | { type: 'load-error'; message: string }
  | {
      type: 'pixel';
      id: number;
      row: number;
      col: number;
      index: number;
      total: number;
      /** `[n * C]`: the pixel's values in each image. */
      values: Float32Array;
    }
  | { type: 'done'; id: number; images: Float32Array; ms: number }
  | { type: 'stopped'; id: number }
  | { type: 'sample-error'; id: number; message: string };
