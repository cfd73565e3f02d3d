/**
 * The folder layout is the architecture (docs/architecture.md): each folder of src/ is a layer,
 * and a module imports only from its own folder or from a lower layer. This test reads every
 * relative import in src/ and fails on one that points the other way, or sideways between two
 * folders of the same layer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS, layerOf } from './support/layers.js';

const SRC = path.resolve(import.meta.dirname, '../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative specifiers of every static import, re-export and dynamic import in a file. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g)) found.push(match[1]!);
  return found;
}

const files = sourceFiles(SRC).map((file) => path.relative(SRC, file).split(path.sep).join('/'));

describe('the layout', () => {
  it('puts every module in a known layer', () => {
    const unplaced = files.filter((file) => layerOf(file) === undefined);
    expect(unplaced, `modules outside any layer of test/support/layers.ts: ${unplaced.join(', ')}`).toEqual([]);
  });

  it('has imports that point only down the layers', () => {
    const against: string[] = [];
    for (const file of files) {
      const from = layerOf(file)!;
      const text = fs.readFileSync(path.join(SRC, file), 'utf8');
      for (const spec of relativeImports(text)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
        const to = layerOf(target);
        if (to === undefined) {
          against.push(`${file} imports ${spec}: outside src/ or no layer`);
          continue;
        }
        const sameFolder = path.posix.dirname(target) === path.posix.dirname(file);
        if (!sameFolder && to.rank >= from.rank) {
          against.push(`${file} (${from.name}) imports ${target} (${to.name}): against the direction`);
        }
      }
    }
    expect(against).toEqual([]);
  });

  it('catches an import against the direction', () => {
    // The checker itself: a state module importing the rules would be caught.
    const from = layerOf('state/bot-state.ts')!;
    const to = layerOf('rules/evaluator.ts')!;
    expect(to.rank).toBeGreaterThan(from.rank);
    expect(relativeImports("import { x } from '../rules/evaluator.js';\nexport * from './y.js';")).toEqual([
      '../rules/evaluator.js',
      './y.js',
    ]);
  });

  it('names each layer once, in order', () => {
    const folders = LAYERS.flatMap((layer) => layer.folders);
    expect(new Set(folders).size).toBe(folders.length);
    const present = new Set(files.map((file) => (file.includes('/') ? file.split('/')[0]! : '.')));
    for (const folder of present) expect(folders, `folder ${folder} is in no layer`).toContain(folder);
  });

  it("reaches into no private member of another library's objects", () => {
    // `._name` or `['_name']` on an object, or a private name in a cast: how the plugin used to
    // read NodeSDK's providers and patch the exporter's serializer. Every OTel upgrade broke it.
    const privateUse = /(?<![\w$])(?:\w+|\))\??\.(_[A-Za-z]\w*)|\[\s*['"](_[A-Za-z]\w*)['"]\s*\]|\{\s*_[A-Za-z]\w*\??:/;
    const found: string[] = [];
    for (const file of files) {
      const lines = fs.readFileSync(path.join(SRC, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        if (privateUse.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
    expect(privateUse.test('const internals = sdk as unknown as { _meterProvider?: MeterProvider };')).toBe(true);
    expect(privateUse.test('return internals._tracerProvider;')).toBe(true);
  });
});
