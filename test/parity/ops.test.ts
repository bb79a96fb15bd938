/**
 * Parity of every registered primitive op on `cpu` against the `js` reference:
 * outputs and gradients (keras.grad of sum(op(x) * w)), on every ISA path this CPU
 * can run (portable always). Ops still on the js fallback run too: then they check
 * the adapter (upload, views, attrs, output wrapping).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { getBackend, setBackend } from '../../lib/engine.js';
import { allOps } from '../../lib/ops/registry.js';
import type { CpuBackend } from '../../lib/backends/cpu/index.js';
import { CASES } from './cases.js';
import { checkOpParity, nativeUnavailableReason } from './harness.js';

const reason = nativeUnavailableReason();
const cpu = reason ? null : (getBackend('cpu') as CpuBackend);
const info = cpu?.backendInfo();
const isas = info?.availableIsas ?? [];
const opNames = allOps().map((o) => o.name);

describe.skipIf(reason !== null)(`cpu vs js parity${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('every registered primitive op has parity cases', () => {
    expect(opNames.filter((n) => !CASES[n]), 'ops without an entry in test/parity/cases.ts').toEqual([]);
    expect(Object.keys(CASES).filter((n) => !opNames.includes(n)), 'cases for ops that are not registered').toEqual([]);
  });

  it('the portable path is always available', () => {
    expect(isas).toContain('portable');
  });

  for (const isa of isas) {
    describe(`isa ${isa}`, () => {
      beforeAll(() => cpu!.setIsa(isa));
      afterAll(() => {
        cpu!.setIsa(info!.isa);
        setBackend('js');
      });

      opNames.forEach((op, k) => {
        const kind = cpu!.nativeOps().includes(op) ? 'native' : cpu!.viewOps().includes(op) ? 'view' : 'js fallback';
        it(`${op} (${kind})`, () => {
          const live = (b: string) => keras.memory().backends[b]?.numTensors ?? 0;
          const before = { js: live('js'), cpu: live('cpu'), bytes: cpu!.memoryBytes() };
          checkOpParity(op, CASES[op] ?? [], k + 1);
          // The adapter frees what js frees (a leak in a gradient rule shows on both and is not the adapter's).
          const leaked = { js: live('js') - before.js, cpu: live('cpu') - before.cpu };
          expect(leaked.cpu, 'cpu tensors left alive beyond those js leaves').toBe(leaked.js);
          if (leaked.cpu === 0) expect(cpu!.memoryBytes(), 'native bytes after the cases').toBe(before.bytes);
        });
      });
    });
  }
});
