/**
 * One binary must run on any x86-64: AVX2/AVX-512 instructions may appear only
 * in functions instantiated for those ISAs (their names carry avx2:: or avx512::),
 * never in code every CPU runs. Checked on the built addon with objdump.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../..');
const objdump = spawnSync('objdump', ['--version']).status === 0;
const x86 = process.arch === 'x64';

describe.runIf(objdump && x86)('ISA isolation in the native addon', () => {
  it('keeps ymm/zmm instructions inside avx2:: and avx512:: instantiations', () => {
    const addonPath = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
    const run = spawnSync('objdump', ['-d', '-C', '--no-show-raw-insn', addonPath], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    expect(run.status).toBe(0);
    const offenders = new Set<string>();
    let current = '';
    for (const line of run.stdout.split('\n')) {
      const header = /^[0-9a-f]+ <(.*)>:$/.exec(line);
      if (header) {
        current = header[1]!;
        continue;
      }
      if (/%[yz]mm\d/.test(line) && !/avx2::|avx512::/.test(current)) offenders.add(current);
    }
    expect([...offenders], 'functions outside the ISA translation units that use AVX registers').toEqual([]);
  });
});
