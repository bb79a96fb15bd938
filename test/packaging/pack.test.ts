/**
 * The published package works: `npm pack` (which runs `prepare`: tsc), install the
 * tarball into an empty project offline with install scripts off (so nothing compiles:
 * the prebuilt addon in prebuilds/linux-x64 must load), then import keras-node from
 * plain Node, select the cpu backend and check a computed value.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const prebuildDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
let tmp = '';

const execFileAsync = promisify(execFile);

/** Runs a command without blocking this worker's event loop (vitest's worker RPC needs it). */
async function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return stdout;
}

const CHECK = `
import * as keras from 'keras-node';
import { createRequire } from 'node:module';
import * as path from 'node:path';
keras.config.setBackend('cpu');
const { ops } = keras;
const x = ops.convertToTensor([[1, 2], [3, 4]], 'float32');
const y = ops.sum(ops.matmul(x, ops.add(x, 1)));
const info = keras.config.backendInfo();
const pkg = path.join(process.cwd(), 'node_modules', 'keras-node');
const binary = createRequire(import.meta.url)('node-gyp-build').path(pkg);
console.log(JSON.stringify({ value: y.item(), dtype: y.dtype, backend: y.backend.name, isa: info.isa, binary: path.relative(pkg, binary) }));
`;

/** Newest modification time of the addon's sources and build files (ms). */
function newestNativeSource(): number {
  const files = fs.readdirSync(path.join(root, 'native'), { recursive: true, encoding: 'utf8' }).map((f) => path.join(root, 'native', f));
  return Math.max(...[...files, path.join(root, 'binding.gyp')].filter((f) => fs.statSync(f).isFile()).map((f) => fs.statSync(f).mtimeMs));
}

/** The prebuilt addon, unless there is none or it predates a native source (a build from an older checkout). */
function currentPrebuild(): string | undefined {
  if (!fs.existsSync(prebuildDir)) return undefined;
  const binary = fs.readdirSync(prebuildDir).find((f) => f.endsWith('.node'));
  return binary && fs.statSync(path.join(prebuildDir, binary)).mtimeMs >= newestNativeSource() ? binary : undefined;
}

describe('npm package', () => {
  beforeAll(async () => {
    // The tarball ships prebuilds/; make one if this checkout has none or a stale one (a full native compile).
    if (!currentPrebuild()) await sh('npm', ['run', 'prebuildify'], root, 900_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keras-node-pack-'));
  }, 900_000);
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs, installs offline without scripts, and computes on the cpu backend from the prebuild', async () => {
    await sh('npm', ['pack', '--pack-destination', tmp], root);
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    expect(tgz, 'npm pack wrote a tarball').toBeDefined();
    const listing = (await sh('tar', ['tzf', path.join(tmp, tgz!)], tmp)).split('\n');
    expect(listing).toContain('package/dist/lib/index.js');
    expect(listing.some((f) => /^package\/prebuilds\/linux-x64\/.*\.node$/.test(f)), 'a prebuilt addon is in the tarball').toBe(process.platform === 'linux' && process.arch === 'x64');
    expect(listing.filter((f) => f.startsWith('package/test/') || f.startsWith('package/build/')), 'tests and local builds stay out').toEqual([]);

    const project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    try {
      await sh('npm', ['install', '--ignore-scripts', '--offline', '--no-package-lock', path.join(tmp, tgz!)], project);
    } catch {
      // A cache missing a dependency: allow the registry for what the cache lacks.
      await sh('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-package-lock', path.join(tmp, tgz!)], project);
    }
    fs.writeFileSync(path.join(project, 'check.mjs'), CHECK);
    const result = JSON.parse((await sh('node', ['check.mjs'], project, 60_000)).trim().split('\n').pop()!);
    // sum([[1,2],[3,4]] @ [[2,3],[4,5]]) = sum([[10,13],[22,29]]) = 74
    expect(result).toMatchObject({ value: 74, dtype: 'float32', backend: 'cpu' });
    expect(['avx512', 'avx2', 'portable']).toContain(result.isa);
    expect(result.binary, 'the addon comes from the prebuild, not a local compile').toMatch(/^prebuilds[/\\]/);
  }, 600_000);
});
