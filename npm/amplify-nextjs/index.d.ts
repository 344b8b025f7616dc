import type { NextServer } from '@aws-amplify/adapter-nextjs';
import type { AuthTokens } from 'aws-amplify/auth';
import type { NextRequest, NextResponse } from 'next/server.js';

/** Seconds before the access or id token expires at which refreshInProxy refreshes, by default. */
export declare const DEFAULT_MARGIN_SECONDS: number;

export interface RefreshInProxyOptions {
  /** Refresh when the access or id token expires within this many seconds (default: the runner's margin). */
  margin?: number;
}

export interface RefreshInProxyResult {
  /** Return this from proxy.ts (or copy its cookies and headers onto the response you return). */
  response: NextResponse;
  /** The session's tokens after any refresh; undefined when signed out. */
  tokens: AuthTokens | undefined;
  /** Set when reading or refreshing the session failed (the cookies are left as they were). */
  error?: unknown;
}

export type RefreshInProxy = (request: NextRequest, options?: RefreshInProxyOptions) => Promise<RefreshInProxyResult>;

export interface CreateServerRunnerInput extends NextServer.CreateServerRunnerInput {
  /** refreshInProxy's default margin in seconds (DEFAULT_MARGIN_SECONDS: 60). */
  margin?: number;
}

export interface CreateServerRunnerOutput extends NextServer.CreateServerRunnerOutput {
  /** For proxy.ts: refresh a session close to expiry, for the browser and for this request's render. */
  refreshInProxy: RefreshInProxy;
}

/**
 * @aws-amplify/adapter-nextjs's createServerRunner. With amplify_outputs.json
 * written by `cognate serve` (custom.cognate), Amplify gets Cognate's
 * userPoolEndpoint and the adapter's token checks expect Cognate's issuer for
 * that pool id (and no other); with any other config the adapter runs as it
 * would alone. Throws on an @aws-amplify/adapter-nextjs major this package is
 * not tested with.
 */
export declare function createServerRunner(input: CreateServerRunnerInput): CreateServerRunnerOutput;
