import fs from 'node:fs';
import { expect } from 'vitest';

/**
 * Keep a README's example true: the example lives in a real file that a test imports and runs,
 * and this asserts the README shows that file's code verbatim (inside a fenced block).
 */
export function expectReadmeShows(readmePath: string, examplePath: string): void {
  const readme = fs.readFileSync(readmePath, 'utf8');
  const code = fs.readFileSync(examplePath, 'utf8').trim();
  const blocks = [...readme.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) =>
    m[1].trim(),
  );
  expect(blocks, `${readmePath} must show ${examplePath} verbatim in a \`\`\`ts block`).toContain(
    code,
  );
}
