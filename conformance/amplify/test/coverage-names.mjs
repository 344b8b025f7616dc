// The exported functions of a module namespace, as the coverage of
// aws-amplify/auth counts them (see coverage.mjs): its classes are not calls.

export function exportedFunctions(mod) {
  return Object.entries(mod)
    .filter(([, v]) => typeof v === 'function' && !/^class\b/.test(Function.prototype.toString.call(v)))
    .map(([k]) => k)
    .sort();
}
