import type { NextConfig } from 'next';

// @cognate-auth/amplify-nextjs, @aws-amplify/adapter-nextjs, aws-amplify and
// aws-jwt-verify are bundled (Next's default): keep them all bundled, or list
// all four in serverExternalPackages, so the adapter's token checks run on the
// aws-jwt-verify instance the package configured.
const nextConfig: NextConfig = {};

export default nextConfig;
