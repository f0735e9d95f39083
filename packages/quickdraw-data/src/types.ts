/** One simplified stroke: `[xs, ys]`, equal lengths, integers 0..255 in Google's simplified files. */
export type Stroke = [xs: number[], ys: number[]];

/** One raw stroke: `[xs, ys, ts]`, float coordinates and times in ms since the first point. */
export type RawStroke = [xs: number[], ys: number[], ts: number[]];

/** A line of a `full/simplified/<class>.ndjson` file (Google's field names). */
export interface SimplifiedDrawing {
  /** Class name, e.g. "cat". */
  word: string;
  /** Two-letter ISO country code of the player. */
  countrycode: string;
  /** When the drawing was made, e.g. "2017-03-02 23:25:10.07453 UTC". */
  timestamp: string;
  /** Whether the game recognised the drawing. */
  recognized: boolean;
  /** Unique id (a 64-bit integer, kept as a decimal string). */
  key_id: string;
  drawing: Stroke[];
}

/** A line of a `full/raw/<class>.ndjson` file: like {@link SimplifiedDrawing} with raw strokes. */
export interface RawDrawing extends Omit<SimplifiedDrawing, 'drawing'> {
  drawing: RawStroke[];
}

/** A record of a `full/binary/<class>.bin` file (simplified strokes, packed). */
export interface BinaryDrawing {
  /** Unique id (u64, kept as a decimal string as in the ndjson files). */
  key_id: string;
  /** Two ASCII letters. */
  countrycode: string;
  recognized: boolean;
  /** Unix time in seconds (u32). */
  timestamp: number;
  drawing: Stroke[];
}
