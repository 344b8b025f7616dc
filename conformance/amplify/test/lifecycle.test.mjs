// One user's whole life through the real Amplify v6 Auth client:
// sign-up, confirmation, SRP sign-in, tokens, attributes, email change,
// password change, sign-out (revocation), refresh-token rotation, password
// reset, USER_PASSWORD_AUTH, global sign-out, account deletion.
//
// The steps depend on each other: when one fails, the later ones are skipped
// and name the step that broke the chain (steps marked soft do not break it).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  confirmResetPassword,
  confirmSignUp,
  confirmUserAttribute,
  deleteUser,
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  resetPassword,
  signIn,
  signOut,
  signUp,
  updatePassword,
  updateUserAttributes,
} from 'aws-amplify/auth';
import {
  AdminGetUserCommand,
  DescribeUserPoolClientCommand,
  GetUserCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  UUID_RE,
  adminClient,
  assertAccessTokenClaims,
  assertIdTokenClaims,
  callsSince,
  cognitoCall,
  configureAmplify,
  createRotatingClient,
  decodeJwt,
  expectError,
  expectSignInRefused,
  mark,
  outboxSnapshot,
  publicClient,
  scenario,
  startServer,
  strongPassword,
  uniqueEmail,
  verifyJwtWithJwks,
  waitForCode,
} from './harness.mjs';

let server;
let admin;
const step = scenario();

// What the steps hand on to each other.
const s = {};

before(async () => {
  server = await startServer();
  admin = adminClient(server);
});

after(async () => {
  await server?.stop();
});

async function currentTokens() {
  const session = await fetchAuthSession();
  assert.ok(session.tokens?.accessToken, 'fetchAuthSession returned no access token');
  assert.ok(session.tokens?.idToken, 'fetchAuthSession returned no ID token');
  const access = session.tokens.accessToken.toString();
  const id = session.tokens.idToken.toString();
  return { session, access, id, accessClaims: decodeJwt(access).payload, idClaims: decodeJwt(id).payload };
}

step('configure Amplify with the web client from amplify_outputs.json', async () => {
  assert.ok(server.poolId, 'amplify_outputs.json has auth.user_pool_id');
  assert.ok(server.clientId, 'amplify_outputs.json has auth.user_pool_client_id');
  s.storage = configureAmplify(server);
  s.clientId = server.clientId;
  s.email = uniqueEmail();
  s.password = strongPassword();
});

step('signUp returns CONFIRM_SIGN_UP, the new sub and email delivery details', async () => {
  const before = await outboxSnapshot(server);
  const r = await signUp({
    username: s.email,
    password: s.password,
    options: { userAttributes: { email: s.email } },
  });
  assert.equal(r.isSignUpComplete, false);
  assert.equal(r.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  assert.match(String(r.userId), UUID_RE, 'userId (SignUp UserSub) is a UUID');
  const cdd = r.nextStep.codeDeliveryDetails;
  assert.equal(cdd?.deliveryMedium, 'EMAIL');
  assert.equal(cdd?.attributeName, 'email');
  assert.ok(cdd?.destination, 'codeDeliveryDetails.destination is set');
  s.sub = r.userId;
  s.signUpCode = await waitForCode(server, { destination: s.email, kind: 'sign_up', exclude: before });
  assert.ok(s.signUpCode, 'the outbox entry carries a code');
});

step('the new user is UNCONFIRMED and its username is the sub (AdminGetUser)', async () => {
  const u = await admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: s.email }));
  assert.equal(u.Username, s.sub);
  assert.equal(u.UserStatus, 'UNCONFIRMED');
  const attrs = Object.fromEntries(u.UserAttributes.map((a) => [a.Name, a.Value]));
  assert.equal(attrs.email, s.email);
  assert.equal(attrs.sub, s.sub);
}, { soft: true });

step('confirmSignUp with the code from the outbox completes sign-up', async () => {
  const r = await confirmSignUp({ username: s.email, confirmationCode: s.signUpCode });
  assert.equal(r.isSignUpComplete, true);
  assert.equal(r.nextStep.signUpStep, 'DONE');
  const u = await admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: s.email }));
  assert.equal(u.UserStatus, 'CONFIRMED');
  const attrs = Object.fromEntries(u.UserAttributes.map((a) => [a.Name, a.Value]));
  assert.equal(attrs.email_verified, 'true');
});

step('signIn (default USER_SRP_AUTH) signs the user in', async () => {
  const m = mark();
  const r = await signIn({ username: s.email, password: s.password });
  assert.equal(r.isSignedIn, true, `signIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'DONE');
  const init = callsSince(m, 'InitiateAuth');
  assert.equal(init.length, 1, 'one InitiateAuth call');
  assert.equal(init[0].request.AuthFlow, 'USER_SRP_AUTH');
  assert.equal(init[0].response.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(init[0].response.ChallengeParameters?.USER_ID_FOR_SRP, s.sub);
  s.srpChallenge = init[0].response.ChallengeParameters;
  const rtac = callsSince(m, 'RespondToAuthChallenge');
  assert.equal(rtac.length, 1, 'one RespondToAuthChallenge call');
  assert.equal(rtac[0].request.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(rtac[0].status, 200);
});

step('PASSWORD_VERIFIER parameters: USERNAME is the sub, SALT/SRP_B hex, SECRET_BLOCK base64', () => {
  const p = s.srpChallenge;
  assert.equal(p.USERNAME, s.sub);
  assert.match(p.SALT, /^[0-9a-fA-F]+$/);
  assert.match(p.SRP_B, /^[0-9a-fA-F]+$/);
  assert.match(p.SECRET_BLOCK, /^[A-Za-z0-9+/]+={0,2}$/);
}, { soft: true });

step('fetchAuthSession returns access and ID tokens for this user', async () => {
  const t = await currentTokens();
  assert.equal(t.session.userSub, s.sub);
  s.tokens0 = t;
});

step('access token claims (token_use, client_id, username, origin_jti, iat, exp, auth_time, event_id, scope, iss)', () => {
  assertAccessTokenClaims(s.tokens0.accessClaims, { server, clientId: s.clientId, sub: s.sub });
}, { soft: true });

step('ID token claims (aud, cognito:username, email, email_verified, sub, iss)', () => {
  assertIdTokenClaims(s.tokens0.idClaims, { server, clientId: s.clientId, sub: s.sub, email: s.email });
}, { soft: true });

step('access and ID tokens are RS256 and verify against <iss>/.well-known/jwks.json', async () => {
  await verifyJwtWithJwks(s.tokens0.access);
  await verifyJwtWithJwks(s.tokens0.id);
  assert.notEqual(s.tokens0.accessClaims.jti, s.tokens0.idClaims.jti, 'access and ID tokens have distinct jti');
}, { soft: true });

step('tokens last Cognito\'s default 60 minutes', () => {
  assert.equal(s.tokens0.accessClaims.exp - s.tokens0.accessClaims.iat, 3600, 'access exp - iat');
  assert.equal(s.tokens0.idClaims.exp - s.tokens0.idClaims.iat, 3600, 'id exp - iat');
}, { soft: true });

step('getCurrentUser: username and userId are the sub, loginId is the email', async () => {
  const u = await getCurrentUser();
  assert.equal(u.username, s.sub);
  assert.equal(u.userId, s.sub);
  assert.equal(u.signInDetails?.loginId, s.email);
  assert.equal(u.signInDetails?.authFlowType, 'USER_SRP_AUTH');
});

step('fetchUserAttributes returns email, email_verified and sub', async () => {
  const a = await fetchUserAttributes();
  assert.equal(a.email, s.email);
  assert.equal(a.email_verified, 'true');
  assert.equal(a.sub, s.sub);
});

step('updateUserAttributes({email}) asks for CONFIRM_ATTRIBUTE_WITH_CODE and mails the new address', async () => {
  s.newEmail = uniqueEmail('changed');
  const before = await outboxSnapshot(server);
  const r = await updateUserAttributes({ userAttributes: { email: s.newEmail } });
  assert.ok(r.email, `result has an email entry: ${JSON.stringify(r)}`);
  assert.equal(r.email.isUpdated, false);
  assert.equal(r.email.nextStep.updateAttributeStep, 'CONFIRM_ATTRIBUTE_WITH_CODE');
  const cdd = r.email.nextStep.codeDeliveryDetails;
  assert.equal(cdd?.deliveryMedium, 'EMAIL');
  assert.equal(cdd?.attributeName, 'email');
  s.attrCode = await waitForCode(server, { destination: s.newEmail, kind: 'verify_attribute', exclude: before });
});

step('confirmUserAttribute with the code sent to the new address; fetchUserAttributes shows it verified', async () => {
  await confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: s.attrCode });
  const a = await fetchUserAttributes();
  assert.equal(a.email, s.newEmail);
  assert.equal(a.email_verified, 'true');
  assert.equal(a.sub, s.sub);
});

step('updatePassword changes the password (ChangePassword)', async () => {
  s.password2 = strongPassword();
  const m = mark();
  await updatePassword({ oldPassword: s.password, newPassword: s.password2 });
  const calls = callsSince(m, 'ChangePassword');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].status, 200);
  assert.equal(calls[0].request.AccessToken, s.tokens0.access);
});

step('signOut sends RevokeToken for the stored refresh token and clears the session', async () => {
  s.revokedRefresh = s.storage.refreshToken(s.clientId);
  assert.ok(s.revokedRefresh, 'a refresh token was stored at sign-in');
  const m = mark();
  await signOut();
  const calls = callsSince(m, 'RevokeToken');
  assert.equal(calls.length, 1, 'Amplify sends RevokeToken (only when the access token has origin_jti)');
  assert.equal(calls[0].request.Token, s.revokedRefresh);
  assert.equal(calls[0].request.ClientId, s.clientId);
  assert.equal(calls[0].status, 200, `RevokeToken answered ${calls[0].status} ${JSON.stringify(calls[0].response)}`);
  const err = await expectError(() => getCurrentUser(), 'getCurrentUser after signOut');
  assert.equal(err.name, 'UserUnAuthenticatedException');
});

step('the revoked refresh token is refused (GetTokensFromRefreshToken -> NotAuthorizedException)', async () => {
  const r = await cognitoCall(server, 'GetTokensFromRefreshToken', {
    ClientId: s.clientId,
    RefreshToken: s.revokedRefresh,
  });
  assert.equal(r.status, 400, `status ${r.status} body ${JSON.stringify(r.body)}`);
  assert.equal(r.errorType, 'NotAuthorizedException');
}, { soft: true });

step('access tokens minted with the revoked refresh token are refused (GetUser -> NotAuthorizedException)', async () => {
  const err = await expectError(
    () => publicClient(server).send(new GetUserCommand({ AccessToken: s.tokens0.access })),
    'GetUser with an access token whose refresh token was revoked',
  );
  assert.equal(err.name, 'NotAuthorizedException');
}, { soft: true });

step('the old password and the old email no longer sign in', async () => {
  await expectSignInRefused(s.newEmail, s.password);
  await expectSignInRefused(s.email, s.password2);
}, { soft: true });

step('create an app client with refresh-token rotation and configure Amplify with it', async () => {
  const client = await createRotatingClient(server);
  assert.equal(client.RefreshTokenRotation?.Feature, 'ENABLED', 'CreateUserPoolClient echoes RefreshTokenRotation');
  assert.equal(client.ClientSecret, undefined, 'public client has no secret');
  const d = await admin.send(new DescribeUserPoolClientCommand({
    UserPoolId: server.poolId,
    ClientId: client.ClientId,
  }));
  assert.equal(d.UserPoolClient.RefreshTokenRotation?.Feature, 'ENABLED');
  assert.equal(d.UserPoolClient.RefreshTokenRotation?.RetryGracePeriodSeconds, 0);
  s.clientId = client.ClientId;
  s.storage = configureAmplify(server, { clientId: s.clientId });
});

step('signIn with the new email and the new password (rotating client)', async () => {
  const r = await signIn({ username: s.newEmail, password: s.password2 });
  assert.equal(r.isSignedIn, true, `signIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'DONE');
  const t = await currentTokens();
  assert.equal(t.accessClaims.client_id, s.clientId);
  assert.equal(t.idClaims.aud, s.clientId);
  assert.equal(t.idClaims.email, s.newEmail);
  assert.equal(t.accessClaims.sub, s.sub);
  const u = await getCurrentUser();
  assert.equal(u.signInDetails?.loginId, s.newEmail);
  s.tokens1 = t;
  s.refresh1 = s.storage.refreshToken(s.clientId);
  assert.ok(s.refresh1, 'refresh token stored');
});

async function forceRefreshAndCheck(prevTokens, prevRefreshes) {
  const m = mark();
  const session = await fetchAuthSession({ forceRefresh: true });
  assert.ok(session.tokens?.accessToken, 'forceRefresh returned tokens');
  const calls = callsSince(m, 'GetTokensFromRefreshToken');
  assert.equal(calls.length, 1, 'Amplify >= 6.15.4 refreshes with GetTokensFromRefreshToken');
  assert.equal(calls[0].request.ClientId, s.clientId);
  assert.equal(calls[0].request.RefreshToken, prevRefreshes.at(-1));
  assert.equal(calls[0].status, 200, `GetTokensFromRefreshToken answered ${calls[0].status} ${JSON.stringify(calls[0].response)}`);
  assert.equal(callsSince(m, 'InitiateAuth').length, 0, 'no InitiateAuth REFRESH_TOKEN_AUTH');
  const returned = calls[0].response.AuthenticationResult?.RefreshToken;
  assert.ok(returned, 'a rotating client returns a new RefreshToken on every refresh');
  const stored = s.storage.refreshToken(s.clientId);
  assert.equal(stored, returned, 'Amplify stored the rotated refresh token');
  for (const old of prevRefreshes) assert.notEqual(stored, old, 'the refresh token changed');

  const t = await currentTokens();
  assert.notEqual(t.access, prevTokens.access, 'new access token');
  assert.notEqual(t.id, prevTokens.id, 'new ID token');
  assert.notEqual(t.accessClaims.jti, prevTokens.accessClaims.jti, 'new access jti');
  assert.notEqual(t.idClaims.jti, prevTokens.idClaims.jti, 'new ID jti');
  assert.equal(t.accessClaims.sub, s.sub);
  assert.equal(t.accessClaims.client_id, s.clientId);
  assert.equal(t.accessClaims.token_use, 'access');
  assert.equal(t.idClaims.email, s.newEmail);
  assert.equal(t.accessClaims.auth_time, prevTokens.accessClaims.auth_time, 'auth_time stays at the sign-in time');
  assert.ok(t.accessClaims.iat >= prevTokens.accessClaims.iat, 'iat does not go backwards');
  return { tokens: t, refresh: stored };
}

step('fetchAuthSession({forceRefresh:true}) #1 rotates the refresh token and mints new tokens', async () => {
  const r = await forceRefreshAndCheck(s.tokens1, [s.refresh1]);
  s.tokens2 = r.tokens;
  s.refresh2 = r.refresh;
});

step('fetchAuthSession({forceRefresh:true}) #2 rotates again', async () => {
  const r = await forceRefreshAndCheck(s.tokens2, [s.refresh1, s.refresh2]);
  s.tokens3 = r.tokens;
  s.refresh3 = r.refresh;
  assert.notEqual(s.tokens3.accessClaims.jti, s.tokens1.accessClaims.jti);
});

step('the refreshed access token works (fetchUserAttributes)', async () => {
  const a = await fetchUserAttributes();
  assert.equal(a.email, s.newEmail);
  assert.equal(a.sub, s.sub);
}, { soft: true });

step('a rotated-out refresh token is refused (grace period 0)', async () => {
  const r = await cognitoCall(server, 'GetTokensFromRefreshToken', {
    ClientId: s.clientId,
    RefreshToken: s.refresh1,
  });
  assert.equal(r.status, 400, `status ${r.status} body ${JSON.stringify(r.body)}`);
  assert.ok(
    ['NotAuthorizedException', 'RefreshTokenReuseException'].includes(r.errorType),
    `error type ${r.errorType}`,
  );
}, { soft: true });

step('signOut before the password reset', async () => {
  await signOut();
  const err = await expectError(() => getCurrentUser(), 'getCurrentUser after signOut');
  assert.equal(err.name, 'UserUnAuthenticatedException');
});

step('resetPassword mails a forgot_password code to the current email', async () => {
  const before = await outboxSnapshot(server);
  const r = await resetPassword({ username: s.newEmail });
  assert.equal(r.isPasswordReset, false);
  assert.equal(r.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE');
  assert.equal(r.nextStep.codeDeliveryDetails?.deliveryMedium, 'EMAIL');
  assert.equal(r.nextStep.codeDeliveryDetails?.attributeName, 'email');
  s.resetCode = await waitForCode(server, { destination: s.newEmail, kind: 'forgot_password', exclude: before });
});

step('confirmResetPassword with the code sets a new password', async () => {
  s.password3 = strongPassword();
  const m = mark();
  await confirmResetPassword({
    username: s.newEmail,
    confirmationCode: s.resetCode,
    newPassword: s.password3,
  });
  const calls = callsSince(m, 'ConfirmForgotPassword');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].status, 200);
});

step('the password from before the reset is refused', async () => {
  await expectSignInRefused(s.newEmail, s.password2);
}, { soft: true });

step('signIn with authFlowType USER_PASSWORD_AUTH', async () => {
  const m = mark();
  const r = await signIn({
    username: s.newEmail,
    password: s.password3,
    options: { authFlowType: 'USER_PASSWORD_AUTH' },
  });
  assert.equal(r.isSignedIn, true, `signIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'DONE');
  const init = callsSince(m, 'InitiateAuth');
  assert.equal(init.length, 1);
  assert.equal(init[0].request.AuthFlow, 'USER_PASSWORD_AUTH');
  assert.equal(init[0].request.AuthParameters?.USERNAME, s.newEmail);
  assert.ok(init[0].response.AuthenticationResult?.AccessToken, 'tokens straight from InitiateAuth');
  assert.equal(callsSince(m, 'RespondToAuthChallenge').length, 0);
  const u = await getCurrentUser();
  assert.equal(u.username, s.sub);
  assert.equal(u.signInDetails?.authFlowType, 'USER_PASSWORD_AUTH');
  s.tokens4 = await currentTokens();
  s.refresh4 = s.storage.refreshToken(s.clientId);
});

step('the access token is accepted by GetUser before the global sign-out', async () => {
  const out = await publicClient(server).send(new GetUserCommand({ AccessToken: s.tokens4.access }));
  assert.equal(out.Username, s.sub);
  const attrs = Object.fromEntries(out.UserAttributes.map((a) => [a.Name, a.Value]));
  assert.equal(attrs.email, s.newEmail);
});

step('signOut({global:true}) sends GlobalSignOut; the old access token is then refused', async () => {
  const m = mark();
  await signOut({ global: true });
  const calls = callsSince(m, 'GlobalSignOut');
  assert.equal(calls.length, 1, 'Amplify sends GlobalSignOut');
  assert.equal(calls[0].request.AccessToken, s.tokens4.access);
  assert.equal(calls[0].status, 200, `GlobalSignOut answered ${calls[0].status} ${JSON.stringify(calls[0].response)}`);
  const err = await expectError(
    () => publicClient(server).send(new GetUserCommand({ AccessToken: s.tokens4.access })),
    'GetUser with the access token after GlobalSignOut',
  );
  assert.equal(err.name, 'NotAuthorizedException', `GetUser error ${err.name}: ${err.message}`);
  const raw = await cognitoCall(server, 'GetUser', { AccessToken: s.tokens4.access });
  assert.equal(raw.status, 400);
  assert.equal(raw.errorType, 'NotAuthorizedException');
  const e2 = await expectError(() => getCurrentUser(), 'getCurrentUser after global signOut');
  assert.equal(e2.name, 'UserUnAuthenticatedException');
});

step('after the global sign-out the refresh token is refused too', async () => {
  const r = await cognitoCall(server, 'GetTokensFromRefreshToken', {
    ClientId: s.clientId,
    RefreshToken: s.refresh4,
  });
  assert.equal(r.status, 400, `status ${r.status} body ${JSON.stringify(r.body)}`);
  assert.equal(r.errorType, 'NotAuthorizedException');
}, { soft: true });

step('signIn again (SRP) after the global sign-out', async () => {
  const r = await signIn({ username: s.newEmail, password: s.password3 });
  assert.equal(r.isSignedIn, true, `signIn result ${JSON.stringify(r)}`);
  s.tokens5 = await currentTokens();
  assert.equal(s.tokens5.accessClaims.sub, s.sub);
});

step('deleteUser deletes the account and signs out', async () => {
  const m = mark();
  await deleteUser();
  const calls = callsSince(m, 'DeleteUser');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].status, 200);
  assert.equal(calls[0].request.AccessToken, s.tokens5.access);
  const err = await expectError(() => getCurrentUser(), 'getCurrentUser after deleteUser');
  assert.equal(err.name, 'UserUnAuthenticatedException');
  const gone = await expectError(
    () => admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: s.sub })),
    'AdminGetUser of the deleted user',
  );
  assert.equal(gone.name, 'UserNotFoundException');
});

step('signIn of the deleted user fails with NotAuthorizedException "Incorrect username or password."', async () => {
  await expectSignInRefused(s.newEmail, s.password3);
  await expectSignInRefused(s.newEmail, s.password3, { authFlowType: 'USER_PASSWORD_AUTH' });
});

step('the web client refuses the deleted user the same way (PreventUserExistenceErrors)', async () => {
  configureAmplify(server);
  await expectSignInRefused(s.newEmail, s.password3);
}, { soft: true });
