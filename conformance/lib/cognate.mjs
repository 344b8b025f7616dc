// Shared by the Node conformance suites (conformance/amplify,
// conformance/browser): finding or building the cognate binary, and
// picking free loopback ports. Node built-ins only, so each suite imports
// it by relative path without a package of its own.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The Go module root: conformance/lib/../.. unless COGNATE_REPO says.
const REPO_ROOT = process.env.COGNATE_REPO
  ? path.resolve(process.env.COGNATE_REPO)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const BUILD_TIMEOUT_MS = Number(process.env.COGNATE_BUILD_TIMEOUT_MS ?? 600_000);

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd, args, options) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      if (err) {
        // err.message already holds the command and its stderr.
        err.message = `${err.message}${stdout ? `\n${stdout}` : ''}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** Path of a cognate binary: COGNATE_BIN, else a fresh `go build` into dir. */
export async function cognateBinary(dir) {
  if (process.env.COGNATE_BIN) {
    const bin = path.resolve(process.env.COGNATE_BIN);
    if (!existsSync(bin)) throw new Error(`COGNATE_BIN=${bin} does not exist`);
    return bin;
  }
  if (!existsSync(path.join(REPO_ROOT, 'cmd', 'cognate'))) {
    throw new Error(`${REPO_ROOT}/cmd/cognate not found: set COGNATE_REPO to the module root or COGNATE_BIN to a binary`);
  }
  const bin = path.join(dir, 'cognate');
  await run('go', ['build', '-o', bin, './cmd/cognate'], { cwd: REPO_ROOT, timeout: BUILD_TIMEOUT_MS });
  return bin;
}
