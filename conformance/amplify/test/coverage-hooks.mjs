// Module hooks (see coverage.mjs): 'aws-amplify/auth', imported from
// anywhere but the wrapper itself, resolves to a generated module that
// re-exports the real one with every exported function wrapped to record
// its call. Classes and other values are re-exported as they are.

import { exportedFunctions } from './coverage-names.mjs';

const PREFIX = 'cognate-coverage:';

export async function resolve(specifier, context, next) {
  if (specifier === 'aws-amplify/auth' && !context.parentURL?.startsWith(PREFIX)) {
    const real = await next(specifier, context);
    return { url: `${PREFIX}${real.url}`, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith(PREFIX)) return next(url, context);
  const realURL = url.slice(PREFIX.length);
  const real = await import(realURL);
  const wrapped = new Set(exportedFunctions(real));
  const lines = [
    `import * as real from ${JSON.stringify(realURL)};`,
    `import { record } from ${JSON.stringify(new URL('./coverage.mjs', import.meta.url).href)};`,
  ];
  for (const name of Object.keys(real)) {
    lines.push(wrapped.has(name)
      ? `export function ${name}(...args) { record(${JSON.stringify(name)}); return real.${name}(...args); }`
      : `export const ${name} = real.${name};`);
  }
  return { format: 'module', source: lines.join('\n'), shortCircuit: true };
}
