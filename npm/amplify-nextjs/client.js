// The browser side: configure Amplify from Cognate's amplify_outputs.json.

import { Amplify } from 'aws-amplify';

import { amplifyConfig } from './outputs.js';

/**
 * Amplify.configure(outputs) with Cognate's user pool endpoint, and
 * { ssr: true } (tokens in cookies the server reads) unless options say
 * otherwise. Outputs of an Amazon Cognito pool are passed as they are.
 *
 * @param {any} outputs amplify_outputs.json
 * @param {Parameters<typeof Amplify.configure>[1]} [options]
 */
export function configureAmplify(outputs, options) {
  Amplify.configure(amplifyConfig(outputs), { ssr: true, ...options });
}
