// Runs last in `npm test`: prints every function aws-amplify/auth exports
// as covered or not covered by the files before it (see coverage.mjs),
// and fails unless every one was called.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as auth from 'aws-amplify/auth';

import { calledFunctions, clearRecords, tracking } from './coverage.mjs';
import { exportedFunctions } from './coverage-names.mjs';

test('every function aws-amplify/auth exports is called by the suite', { skip: !tracking && 'run through npm test (node --import ./test/coverage.mjs)' }, () => {
  const exported = exportedFunctions(auth);
  const called = calledFunctions();
  clearRecords();
  const covered = exported.filter((n) => called.has(n));
  console.log(`aws-amplify/auth exported functions: ${covered.length} of ${exported.length} covered`);
  for (const n of exported) console.log(`  ${called.has(n) ? 'covered    ' : 'not covered'}  ${n}`);
  assert.deepEqual(exported.filter((n) => !called.has(n)), [], 'exported functions no test calls');
});
