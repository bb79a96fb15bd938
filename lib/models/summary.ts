/**
 * model.summary(): Keras 3's table of layers, output shapes and parameter counts.
 */
import { fmtShape } from '../errors.js';
import { kerasHistory, type Layer } from '../layers/layer.js';
import type { Tensor } from '../tensor.js';
import type { Dim } from '../shape.js';
import type { Variable } from '../variable.js';

interface Summarizable extends Layer {
  summaryLayers: Layer[];
  outputShapes?: Map<Layer, Dim[] | Dim[][]>;
  isFunctional?: boolean;
}

function shapeText(layer: Layer, model: Summarizable): string {
  const known = model.outputShapes?.get(layer);
  const shapes = known ?? (layer.inboundNodes.length ? layer.inboundNodes[layer.inboundNodes.length - 1].outputs.map((t) => t.shape) : null);
  if (!shapes) return '?';
  const list = (Array.isArray(shapes[0]) ? shapes : [shapes]) as Dim[][];
  return list.map((s) => fmtShape(s)).join(', ');
}

function bytesText(n: number): string {
  if (n < 1024) return `${n.toFixed(2)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(2)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function countOf(vars: Variable[]): number {
  return vars.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1), 0);
}

function bytesOf(vars: Variable[]): number {
  return vars.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1) * (v.dtype === 'float64' ? 8 : v.dtype === 'bool' ? 1 : 4), 0);
}

/** Renders the summary of `model` with box-drawing rules, as Keras 3 prints it. */
export function summaryTable(model: Summarizable, lineLength?: number): string {
  const functional = Boolean(model.isFunctional);
  const header = functional ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];
  const rows = model.summaryLayers.map((layer) => {
    const params = layer.built ? countOf(layer.weights).toLocaleString('en-US') : '0 (unbuilt)';
    const row = [`${layer.name} (${layer.className})`, shapeText(layer, model), params];
    if (functional) {
      const node = layer.inboundNodes.find((n) => n.inputs.length > 0);
      const from = node
        ? node.inputs
            .map((t) => {
              const h = findHistory(t);
              return h ? `${h.layer}[${h.node}][${h.index}]` : '-';
            })
            .join(', ')
        : '-';
      row.push(from);
    }
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  if (lineLength) widths[0] = Math.max(widths[0], lineLength - widths.slice(1).reduce((a, b) => a + b, 0) - widths.length - 1);
  const line = (l: string, m: string, r: string, fill: string) => l + widths.map((w) => fill.repeat(w)).join(m) + r;
  const cells = (r: string[], sep: string) => sep + r.map((c, i) => (i === 2 ? ` ${c.padStart(widths[i] - 2)} ` : ` ${c.padEnd(widths[i] - 2)} `)).join(sep) + sep;
  const out: string[] = [`Model: "${model.name}"`, line('┏', '┳', '┓', '━'), cells(header, '┃'), line('┡', '╇', '┩', '━')];
  rows.forEach((r, i) => {
    out.push(cells(r, '│'));
    if (i < rows.length - 1) out.push(line('├', '┼', '┤', '─'));
  });
  out.push(line('└', '┴', '┘', '─'));
  const all = model.built ? model.weights : [];
  const trainable = model.built ? model.trainableWeights : [];
  const nonTrainable = all.filter((v) => !trainable.includes(v));
  out.push(` Total params: ${countOf(all).toLocaleString('en-US')} (${bytesText(bytesOf(all))})`);
  out.push(` Trainable params: ${countOf(trainable).toLocaleString('en-US')} (${bytesText(bytesOf(trainable))})`);
  out.push(` Non-trainable params: ${countOf(nonTrainable).toLocaleString('en-US')} (${bytesText(bytesOf(nonTrainable))})`);
  return out.join('\n');
}


function findHistory(t: Tensor): { layer: string; node: number; index: number } | null {
  const h = kerasHistory(t);
  if (!h) return null;
  return { layer: h.node.layer.name, node: Math.max(0, h.node.layer.inboundNodes.indexOf(h.node)), index: h.index };
}
