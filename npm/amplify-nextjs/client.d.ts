import type { Amplify } from 'aws-amplify';

/**
 * Amplify.configure(outputs) with Cognate's userPoolEndpoint (from
 * custom.cognate) and { ssr: true } unless options say otherwise. Outputs of
 * an Amazon Cognito pool are passed to Amplify as they are.
 */
export declare function configureAmplify(outputs: unknown, options?: Parameters<typeof Amplify.configure>[1]): void;
