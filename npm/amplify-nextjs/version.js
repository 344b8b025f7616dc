// The adapter releases this package is tested with.

export const TESTED_ADAPTER = '1.8.0';

/**
 * Throws unless version (of @aws-amplify/adapter-nextjs) has the major of
 * TESTED_ADAPTER: this package relies on how that major verifies tokens.
 *
 * @param {string} version
 */
export function assertTestedAdapter(version) {
  const major = (v) => String(v).split('.')[0];
  if (major(version) !== major(TESTED_ADAPTER)) {
    throw new Error(`@cognate-auth/amplify-nextjs is tested with @aws-amplify/adapter-nextjs ${TESTED_ADAPTER} ` +
      `(major ${major(TESTED_ADAPTER)}), but ${version} is installed: its server-side token checks may differ. ` +
      `Install @aws-amplify/adapter-nextjs@^${TESTED_ADAPTER} or a release of this package that supports ${version}.`);
  }
}
