import fs from 'node:fs';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import { describe, expect, it } from 'vitest';
import { officialChecksums, parseChecksumTable } from './checksums';
import { TFDS_ORDER } from './classNames';

describe('checksum tables', () => {
  it('ships the shared numpy_bitmap_checksums.txt (run scripts/generateData.mjs if not)', () => {
    const text = fs.readFileSync(path.join(quickdrawDir(), 'numpy_bitmap_checksums.txt'), 'utf8');
    const shared = parseChecksumTable(text);
    expect(officialChecksums()).toEqual(shared);
    expect(Object.keys(shared).sort()).toEqual([...TFDS_ORDER].sort());
    // Every official file is an 80-byte header plus N rows of 784 bytes.
    for (const { size } of Object.values(shared)) expect((size - 80) % 784).toBe(0);
    expect(shared['The Eiffel Tower']).toEqual({
      size: 105684064,
      sha256: 'a2a85bfa8cae938ad756e4a2416fe02b66f1783cd1034454ad480fc8946eaa43',
    });
  });

  it('parses TFDS lines, tab-separated lines, encoded URLs and comments', () => {
    const sha = 'AB'.repeat(32);
    const table = parseChecksumTable(
      [
        '# a comment',
        '',
        `https://mirror/full/numpy_bitmap/alarm%20clock.npy 12 ${sha}`,
        `Sea_Turtle\t34\t${sha}`,
        `my own class.npy 56 ${sha}`,
      ].join('\n'),
    );
    expect(table).toEqual({
      'alarm clock': { size: 12, sha256: sha.toLowerCase() },
      'sea turtle': { size: 34, sha256: sha.toLowerCase() },
      'my own class': { size: 56, sha256: sha.toLowerCase() },
    });
  });

  it('rejects malformed lines', () => {
    expect(() => parseChecksumTable('cat 12 abc')).toThrow(
      "Error in parseChecksumTable: line 1 is not 'name size sha256': cat 12 abc",
    );
  });
});
