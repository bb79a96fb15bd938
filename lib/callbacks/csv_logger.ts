/**
 * keras.callbacks.CSVLogger: stream epoch results to a CSV file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValueError } from '../errors.js';
import { Callback, type Logs } from './callback.js';
import { pyRepr } from './progbar.js';

// Python's csv module (Keras' writer) ends rows with \r\n, as RFC 4180.
const EOL = '\r\n';

/** Appends `text` and syncs it to disk, so each finished epoch survives a crash. */
function appendDurably(file: string, text: string): void {
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `file` atomically: the old file stays whole until the new one is complete. */
function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    const fd = fs.openSync(tmp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes one CSV row per epoch (`epoch` then the log keys in sorted order), as
 * keras.callbacks.CSVLogger: `new CSVLogger('training.log', {separator: ',', append: false})`.
 * Without `append`, an existing file is replaced only when the first epoch's row is ready
 * (via a temporary file and a rename); later rows are appended and synced each epoch.
 */
export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private appendHeader = true;
  /** Whether the file already belongs to this run (later rows are appended). */
  private started = false;
  /** Text that must precede the first appended row (a newline after a torn last line). */
  private prefix = '';

  constructor(filename: string, separator?: string | { separator?: string; append?: boolean }, append?: boolean) {
    super();
    if (typeof filename !== 'string' || filename === '') throw new ValueError(`CSVLogger: filename must be a non-empty path string, received ${JSON.stringify(filename)}`);
    const o = typeof separator === 'object' && separator !== null ? separator : { separator, append };
    this.filename = filename;
    this.separator = o.separator ?? ',';
    this.append = o.append ?? false;
    if (this.separator.length !== 1) throw new ValueError(`CSVLogger: separator must be a 1-character string, received ${JSON.stringify(this.separator)}`);
  }

  override onTrainBegin(_logs?: Logs): void {
    this.keys = null;
    this.prefix = '';
    this.appendHeader = true;
    this.started = false;
    if (this.append && fs.existsSync(this.filename)) {
      const text = fs.readFileSync(this.filename, 'utf8');
      // Keras writes the header only into an empty file.
      this.appendHeader = text.length === 0;
      if (text.length > 0 && !text.endsWith('\n')) this.prefix = EOL;
      this.started = true;
    } else if (this.append) this.started = true;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    let text = '';
    if (this.keys === null) {
      this.keys = Object.keys(logs).sort();
      // With validationFreq > 1 the first epoch has no val_ keys: add their columns now.
      if (this.keys.length && !this.keys.some((k) => k.startsWith('val_'))) this.keys.push(...this.keys.map((k) => `val_${k}`));
      if (this.appendHeader) text += this.row(['epoch', ...this.keys]);
    }
    text += this.row([String(epoch), ...this.keys.map((k) => (k in logs ? pyRepr(logs[k]) : 'NA'))]);
    if (this.started) appendDurably(this.filename, this.prefix + text);
    else writeAtomically(this.filename, text);
    this.prefix = '';
    this.started = true;
  }

  override onTrainEnd(_logs?: Logs): void {
    this.keys = null;
  }

  /** One CSV line; fields quoted as Python's csv QUOTE_MINIMAL does. */
  private row(fields: string[]): string {
    const sep = this.separator;
    return (
      fields
        .map((f) => (f.includes(sep) || f.includes('"') || f.includes('\n') || f.includes('\r') ? `"${f.replace(/"/g, '""')}"` : f))
        .join(sep) + EOL
    );
  }
}
