// Coverage of aws-amplify/auth's exported functions across the suite.
//
// `npm test` preloads this file (node --import) in every test file's
// process, where it installs the hooks of coverage-hooks.mjs: every
// importer of 'aws-amplify/auth' gets a module whose functions record
// their first call in a file the processes of one run share (the test
// runner's pid names it). The suite's last file,
// zz-auth-coverage.test.mjs, prints each exported function as covered or
// not covered.

import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The directory the processes of one run share. */
function runDir() {
  return process.env.COGNATE_AUTH_COVERAGE_DIR ?? join(tmpdir(), `cognate-amplify-auth-coverage-${process.ppid}`);
}

const seen = new Set();

/** Records that the exported function name was called (once per process). */
export function record(name) {
  if (seen.has(name)) return;
  seen.add(name);
  mkdirSync(runDir(), { recursive: true });
  appendFileSync(join(runDir(), 'called'), `${name}\n`);
}

/** The names every process of this run recorded so far. */
export function calledFunctions() {
  try {
    return new Set(readFileSync(join(runDir(), 'called'), 'utf8').split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}

/** Forgets this run's records (the report is made). */
export function clearRecords() {
  rmSync(runDir(), { recursive: true, force: true });
}

/** Whether this process is running under the preload (npm test). */
export const tracking = process.env.NODE_TEST_CONTEXT !== undefined
  && process.execArgv.some((a, i, all) => a.endsWith('coverage.mjs') && (all[i - 1] === '--import' || a.startsWith('--import=')));

if (process.env.NODE_TEST_CONTEXT) {
  register('./coverage-hooks.mjs', import.meta.url);
}
