/**
 * One binary must run on any x86-64. The danger is the linker's merging of
 * inline and template functions (weak symbols): a function compiled both in an
 * AVX translation unit and elsewhere may keep its AVX copy for every caller. So
 * no weak symbol that uses AVX registers in an ISA object may also be defined by
 * another object. (The templates take the ISA's vector type as a parameter,
 * which makes their instantiations distinct symbols; this checks that nothing
 * slipped through, e.g. a std:: helper.) Checked on node-gyp's object files.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const objectsDir = path.join(root, 'build/Release/obj.target');
const tools = ['nm', 'objdump'].every((tool) => spawnSync(tool, ['--version']).status === 0);

function objectFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? objectFiles(full) : entry.name.endsWith('.o') ? [full] : [];
  });
}

/**
 * Objects of sources that still exist: an incremental build keeps the .o of a source a later commit removed
 * (obj.target/<target>/native/cpu/foo.o for native/cpu/foo.cc), and it is not linked into the addon.
 */
function liveObjectFiles(dir: string): string[] {
  return objectFiles(dir).filter((o) => {
    const source = /\/(native\/.*)\.o$/.exec(path.relative(dir, o).split(path.sep).join('/'))?.[1];
    return source === undefined || fs.existsSync(path.join(root, `${source}.cc`));
  });
}

function weakSymbols(object: string): Set<string> {
  const run = spawnSync('nm', ['--defined-only', object], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return new Set(run.stdout.split('\n').flatMap((line) => /^[0-9a-f]+ [WV] (\S+)$/.exec(line)?.slice(1, 2) ?? []));
}

function functionsUsingAvx(object: string): Set<string> {
  const run = spawnSync('objdump', ['-d', '--no-show-raw-insn', object], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  const found = new Set<string>();
  let current = '';
  for (const line of run.stdout.split('\n')) {
    const header = /^[0-9a-f]+ <(.*)>:$/.exec(line);
    if (header) current = header[1]!;
    else if (/%[yz]mm\d/.test(line)) found.add(current);
  }
  return found;
}

describe.runIf(tools && process.arch === 'x64' && fs.existsSync(objectsDir))('ISA isolation in the native addon', () => {
  it('defines no AVX-using weak function in more than one object file', () => {
    const objects = liveObjectFiles(objectsDir);
    const isaObjects = objects.filter((o) => /keras_cpu_(avx2|avx512)\//.test(o));
    expect(isaObjects.length, 'ISA object files found').toBeGreaterThan(0);
    const weakByObject = new Map(objects.map((o) => [o, weakSymbols(o)]));
    const offenders: string[] = [];
    for (const isaObject of isaObjects) {
      const weak = weakByObject.get(isaObject)!;
      for (const fn of functionsUsingAvx(isaObject)) {
        if (!weak.has(fn)) continue;
        const alsoIn = objects.filter((o) => o !== isaObject && weakByObject.get(o)!.has(fn));
        if (alsoIn.length) offenders.push(`${fn} (${path.basename(isaObject)} and ${alsoIn.map((o) => path.basename(o)).join(', ')})`);
      }
    }
    expect(offenders, 'AVX code the linker could hand to every CPU').toEqual([]);
  });
});
