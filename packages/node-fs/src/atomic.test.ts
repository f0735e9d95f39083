import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeDirAtomic, writeFileAtomic, writeFileAtomicSync } from './atomic';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-fs-atomic-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomicSync', () => {
  it('writes and replaces a file, leaving no temporary files', () => {
    const f = path.join(dir, 'a.txt');
    writeFileAtomicSync(f, 'one');
    writeFileAtomicSync(f, new Uint8Array([116, 119, 111]));
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    writeFileAtomicSync(path.join(dir, 'b.json'), JSON.stringify({ x: 1 }));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'b.json'), 'utf8'))).toEqual({ x: 1 });
    expect(fs.readdirSync(dir).sort()).toEqual(['a.txt', 'b.json']);
  });

  it('keeps the old file when writing fails', () => {
    const f = path.join(dir, 'a.txt');
    writeFileAtomicSync(f, 'old');
    expect(() => writeFileAtomicSync(f, 42 as unknown as string)).toThrow();
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });
});

describe('writeFileAtomic', () => {
  it('writes and replaces a file, leaving no temporary files', async () => {
    const f = path.join(dir, 'a.bin');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, new Uint8Array([116, 119, 111]));
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(dir)).toEqual(['a.bin']);
  });

  it('keeps the old file when writing fails', async () => {
    const f = path.join(dir, 'a.txt');
    await writeFileAtomic(f, 'old');
    await expect(writeFileAtomic(f, 42 as unknown as string)).rejects.toThrow();
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });
});

describe('writeDirAtomic', () => {
  const read = (d: string) =>
    Object.fromEntries(fs.readdirSync(d).map((f) => [f, fs.readFileSync(path.join(d, f), 'utf8')]));

  it('writes a directory under missing parents, then replaces it whole, leaving no siblings', async () => {
    const target = path.join(dir, 'runs', 'a', 'ckpt');
    await writeDirAtomic(target, { 'x.json': '{"v":1}', 'x.bin': new Uint8Array([65, 66]) });
    expect(read(target)).toEqual({ 'x.json': '{"v":1}', 'x.bin': 'AB' });
    // The new directory replaces the old one: a file only the old one had is gone.
    await writeDirAtomic(target, { 'x.json': '{"v":2}' });
    expect(read(target)).toEqual({ 'x.json': '{"v":2}' });
    expect(fs.readdirSync(path.dirname(target))).toEqual(['ckpt']);
  });

  it('keeps the old directory when writing fails, and removes its temporary directory', async () => {
    const target = path.join(dir, 'ckpt');
    await writeDirAtomic(target, { 'a.txt': 'old' });
    await expect(
      writeDirAtomic(target, { 'a.txt': 'new', 'b.txt': 42 as unknown as string }),
    ).rejects.toThrow();
    expect(read(target)).toEqual({ 'a.txt': 'old' });
    expect(fs.readdirSync(dir)).toEqual(['ckpt']);
  });

  it('fails when a file sits where the parent directory belongs, leaving the file', async () => {
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, 'x');
    await expect(writeDirAtomic(path.join(file, 'ckpt'), { 'a.txt': 'a' })).rejects.toThrow(
      /ENOTDIR/,
    );
    expect(fs.readdirSync(dir)).toEqual(['file']);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });
});
