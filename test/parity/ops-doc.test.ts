/**
 * docs/ops.md is generated from the registry, the keras.ops exports and the native
 * build's kernel list; it must match a fresh generation (run `npm run docs` after
 * adding an op or a native kernel).
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allOps } from '../../lib/ops/registry.js';
import * as keras from '../../lib/index.js';
import { generateOpsDoc, OPS_DOC_PATH } from '../../scripts/gen-ops-doc.js';
import { nativeUnavailableReason } from './harness.js';

const reason = nativeUnavailableReason();

describe.skipIf(reason !== null)(`docs/ops.md${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const fresh = generateOpsDoc();

  it('is up to date with the registry and the native build (else run `npm run docs`)', () => {
    const onDisk = fs.readFileSync(OPS_DOC_PATH, 'utf8');
    expect(onDisk, 'docs/ops.md is stale: run `npm run docs`').toBe(fresh);
  });

  it('lists every primitive and every keras.ops function', () => {
    for (const op of allOps()) expect(fresh).toContain(`| \`${op.name}\` | ${op.category} |`);
    for (const [name, value] of Object.entries(keras.ops)) if (typeof value === 'function') expect(fresh).toMatch(new RegExp(`\\| \`${name}\` \\| `));
  });

  it('says which ops run natively on cpu', () => {
    expect(fresh).toMatch(/\| `matmul` \| linalg \| `transposeA`, `transposeB` \| yes \| kernel \| (native|js fallback) \|/);
    expect(fresh).toMatch(/\| `reshape` \| shape \| `shape` \| yes \| kernel \| view \|/);
  });
});
