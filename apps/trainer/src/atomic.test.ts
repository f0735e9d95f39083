import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeJsonAtomic } from './atomic';

// writeFileAtomic and ensureWritableDir are @pixelcnn/node-fs's, tested there.
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-atomic-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeJsonAtomic', () => {
  it('writes and replaces pretty-printed JSON with a trailing newline, leaving no temporary files', () => {
    const f = path.join(dir, 'b.json');
    writeJsonAtomic(f, { x: 0 });
    writeJsonAtomic(f, { x: 1 });
    expect(fs.readFileSync(f, 'utf8')).toBe('{\n  "x": 1\n}\n');
    expect(JSON.parse(fs.readFileSync(f, 'utf8'))).toEqual({ x: 1 });
    expect(fs.readdirSync(dir)).toEqual(['b.json']);
  });
});
