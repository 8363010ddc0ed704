// NestJS 12 and some of its dependencies ship ES modules only, and Jest on Node 20 loads
// tests as CommonJS. This transformer compiles the ES-module files under node_modules to
// CommonJS with swc and passes every CommonJS file through untouched. The few
// `import.meta.url` uses (for createRequire) become their CommonJS equivalents first.
const { dirname, join } = require('node:path');
const { readFileSync } = require('node:fs');
const swcJest = require('@swc/jest');

const typeByDir = new Map();

function packageType(dir) {
  if (typeByDir.has(dir)) return typeByDir.get(dir);
  let type;
  try {
    type = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type ?? 'commonjs';
  } catch {
    const parent = dirname(dir);
    type = parent === dir ? 'commonjs' : packageType(parent);
  }
  typeByDir.set(dir, type);
  return type;
}

function isEsm(path) {
  if (path.endsWith('.mjs')) return true;
  if (path.endsWith('.cjs')) return false;
  return packageType(dirname(path)) === 'module';
}

function rewrite(src) {
  if (!src.includes('import.meta')) return src;
  return src
    .replace(/createRequire\(import\.meta\.url\)/g, 'createRequire(__filename)')
    .replace(/import\.meta\.url/g, '("file://" + __filename)');
}

module.exports = {
  createTransformer() {
    const inner = swcJest.createTransformer({
      jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    return {
      canInstrument: false,
      process(src, path, options) {
        if (!isEsm(path)) return { code: src };
        return inner.process(rewrite(src), path, options);
      },
      getCacheKey(src, path, options) {
        return inner.getCacheKey(rewrite(src), path, options) + (isEsm(path) ? ':esm' : ':cjs');
      },
    };
  },
};
