import fs from 'node:fs';
import { BinaryDrawingDecoder } from './binaryDrawings';
import { type NdjsonFormat, parseDrawingStream } from './ndjson';
import type { BinaryDrawing, RawDrawing, SimplifiedDrawing } from './types';

/** What {@link readDrawingFile} yields per format. */
export type DrawingOf<F extends NdjsonFormat | 'binary'> = F extends 'simplified'
  ? SimplifiedDrawing
  : F extends 'raw'
    ? RawDrawing
    : BinaryDrawing;

/**
 * Stream the drawings of a `simplified` or `raw` `.ndjson` file (line by line) or a `binary`
 * `.bin` file (record by record), validating each, with constant memory. Stops after `limit`
 * drawings (the rest of the file is not read). Errors name the file and line or record.
 */
export async function* readDrawingFile<F extends NdjsonFormat | 'binary'>(
  file: string,
  format: F,
  options: { limit?: number; highWaterMark?: number } = {},
): AsyncGenerator<DrawingOf<F>> {
  const fn = 'readDrawingFile';
  if (format !== 'simplified' && format !== 'raw' && format !== 'binary') {
    throw new Error(
      `Error in ${fn}: format must be 'simplified', 'raw' or 'binary', got '${String(format)}'`,
    );
  }
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 0)) throw new Error(`Error in ${fn}: limit must be >= 0, got ${limit}`);
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch (e) {
    throw new Error(`Error in ${fn}: cannot read ${file}: ${(e as Error).message}`);
  }
  if ((await fs.promises.stat(file)).isDirectory()) {
    throw new Error(`Error in ${fn}: ${file} is a directory, not a drawing file`);
  }
  // Devices and pipes are streamed as they come (a line of ndjson is capped, see ndjsonLines).
  const stream = fs.createReadStream(file, { highWaterMark: options.highWaterMark ?? 1 << 16 });
  try {
    if (format === 'binary') {
      const decoder = new BinaryDrawingDecoder(file);
      let count = 0;
      if (limit === 0) return;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (const d of decoder.push(chunk)) {
          yield d as DrawingOf<F>;
          if (++count >= limit) return;
        }
      }
      decoder.end();
    } else {
      yield* parseDrawingStream(stream as AsyncIterable<Buffer>, format, {
        source: file,
        limit,
      }) as AsyncGenerator<DrawingOf<F>>;
    }
  } catch (e) {
    // Checked errors already name the file and line; a failed read (EIO, ...) gets named here.
    if ((e as Error).message?.startsWith('Error in ')) throw e;
    throw new Error(`Error in ${fn}: cannot read ${file}: ${(e as Error).message}`);
  } finally {
    stream.destroy();
  }
}
