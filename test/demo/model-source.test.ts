/** Splitting dropped files into the model and its external data (demo/src/model-source.ts). */
import { describe, expect, it } from 'vitest';
import { pickModelFiles } from '../../demo/src/model-source.js';

const f = (name: string) => ({ name, bytes: new Uint8Array([name.length]) });

describe('pickModelFiles', () => {
  it('takes the .onnx file as the model and the rest as external data by name', () => {
    const r = pickModelFiles([f('net.onnx.data'), f('net.onnx')]);
    expect(typeof r).toBe('object');
    if (typeof r === 'string') return;
    expect(r.source).toBe('net.onnx');
    expect(Object.keys(r.externalFiles)).toEqual(['net.onnx.data']);
  });

  it('accepts a single file with another extension as the model', () => {
    const r = pickModelFiles([f('model.bin')]);
    expect(typeof r === 'object' && r.source).toBe('model.bin');
  });

  it('refuses ambiguous or incomplete sets with a one-line message', () => {
    expect(pickModelFiles([])).toBe('no file given');
    expect(pickModelFiles([f('a.onnx.data')])).toMatch(/only external-data/);
    expect(pickModelFiles([f('a.onnx'), f('b.onnx')])).toMatch(/several model files/);
  });
});
