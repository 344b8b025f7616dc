package userpool

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

// groupOverride is groupOverrideDetails / groupConfiguration.
type groupOverride struct {
	GroupsToOverride   *[]string `json:"groupsToOverride,omitempty"`
	IAMRolesToOverride []string  `json:"iamRolesToOverride,omitempty"`
	PreferredRole      *string   `json:"preferredRole,omitempty"`
}

// claimsV1 is V1's claimsOverrideDetails.
type claimsV1 struct {
	ClaimsToAddOrOverride map[string]string `json:"claimsToAddOrOverride"`
	ClaimsToSuppress      []string          `json:"claimsToSuppress"`
	GroupOverrideDetails  *groupOverride    `json:"groupOverrideDetails"`
}

// tokenGeneration is V2/V3's idTokenGeneration or accessTokenGeneration.
type tokenGeneration struct {
	ClaimsToAddOrOverride map[string]any `json:"claimsToAddOrOverride"`
	ClaimsToSuppress      []string       `json:"claimsToSuppress"`
	ScopesToAdd           []string       `json:"scopesToAdd"`
	ScopesToSuppress      []string       `json:"scopesToSuppress"`
}

// preTokenResponse is the pre token generation response of any version.
type preTokenResponse struct {
	ClaimsOverrideDetails         *claimsV1 `json:"claimsOverrideDetails"`
	ClaimsAndScopeOverrideDetails *struct {
		IDTokenGeneration     *tokenGeneration `json:"idTokenGeneration"`
		AccessTokenGeneration *tokenGeneration `json:"accessTokenGeneration"`
		GroupOverrideDetails  *groupOverride   `json:"groupOverrideDetails"`
	} `json:"claimsAndScopeOverrideDetails"`
}

// tokenChanges is what a pre token generation answer changes, and the
// groups tokens carry.
type tokenChanges struct {
	id, access tokenGeneration
	override   *[]string // groupsToOverride
	groups     []string
}

// planTokens reads a user's groups and runs the pre token generation
// trigger for tokens about to be minted from source with scope.
func (s *Service) planTokens(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, source, scope string) (tokenChanges, error) {
	groups, err := s.store.ListGroupsForUser(ctx, p.ID, u.Username)
	if err != nil {
		return tokenChanges{}, internal("list groups", err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	tc, err := s.preTokenGeneration(ctx, c, p, &u, source, names, scope)
	tc.groups = names
	if tc.override != nil {
		tc.groups = *tc.override
	}
	return tc, err
}

// reservedClaims may not be added, overridden or suppressed: they are
// what verifiers and Cognate itself rely on.
var reservedClaims = map[string]bool{
	"acr": true, "amr": true, "aud": true, "at_hash": true, "auth_time": true, "azp": true, "client_id": true,
	"cognito:username": true, "cognito:groups": true, "cognito:roles": true, "cognito:preferred_role": true,
	"event_id": true, "exp": true, "iat": true, "identities": true, "iss": true, "jti": true, "nbf": true,
	"nonce": true, "origin_jti": true, "scope": true, "sub": true, "token_use": true, "username": true,
	"device_key": true,
}

// preTokenGeneration runs the pool's pre token generation trigger, if
// any, for tokens about to be minted from source with groups and scope.
// Client-credentials tokens (no user) are customised by V3 only.
func (s *Service) preTokenGeneration(ctx context.Context, c storage.Client, p storage.Pool, u *storage.User, source string, groups []string, scope string) (tokenChanges, error) {
	lc := lambdaConfig(p)
	var tc tokenChanges
	if lc.PreTokenGeneration == "" || u == nil && lc.PreTokenGenerationVersion != tokenHookV3 {
		return tc, nil
	}
	version := map[string]string{tokenHookV1: "1", tokenHookV2: "2", tokenHookV3: "3"}[lc.PreTokenGenerationVersion]
	req := map[string]any{
		"groupConfiguration": map[string]any{"groupsToOverride": nonNilList(groups), "iamRolesToOverride": []string{}, "preferredRole": nil},
		"clientMetadata":     clientMetadata(ctx),
	}
	name := ""
	if u != nil {
		req["userAttributes"] = hookAttributes(*u)
		name = u.Username
	} else {
		req["userAttributes"] = map[string]string{}
	}
	if version != "1" {
		req["scopes"] = nonNilList(strings.Fields(scope))
	}
	var resp preTokenResponse
	err := s.call(ctx, hook{
		trigger: triggerPreTokenGeneration, url: lc.PreTokenGeneration, source: source, version: version,
		pool: p, clientID: c.ClientID, userName: name, request: req, response: &resp,
	})
	if err != nil {
		return tc, err
	}
	if v1 := resp.ClaimsOverrideDetails; v1 != nil {
		tc.id.ClaimsToSuppress = v1.ClaimsToSuppress
		tc.id.ClaimsToAddOrOverride = map[string]any{}
		for k, v := range v1.ClaimsToAddOrOverride {
			tc.id.ClaimsToAddOrOverride[k] = v
		}
		if v1.GroupOverrideDetails != nil {
			tc.override = v1.GroupOverrideDetails.GroupsToOverride
		}
	}
	if v2 := resp.ClaimsAndScopeOverrideDetails; v2 != nil && version != "1" {
		if v2.IDTokenGeneration != nil {
			tc.id = *v2.IDTokenGeneration
			tc.id.ScopesToAdd, tc.id.ScopesToSuppress = nil, nil
		}
		if v2.AccessTokenGeneration != nil {
			tc.access = *v2.AccessTokenGeneration
		}
		if v2.GroupOverrideDetails != nil {
			tc.override = v2.GroupOverrideDetails.GroupsToOverride
		}
	}
	for _, g := range []tokenGeneration{tc.id, tc.access} {
		for k := range g.ClaimsToAddOrOverride {
			if reservedClaims[k] || k == "" {
				return tc, errorf(ErrInvalidLambdaResponse, "Invalid lambda response: the %.64q claim cannot be added or overridden.", k)
			}
		}
		for _, k := range g.ClaimsToSuppress {
			if reservedClaims[k] {
				return tc, errorf(ErrInvalidLambdaResponse, "Invalid lambda response: the %.64q claim cannot be suppressed.", k)
			}
		}
	}
	return tc, nil
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// scope applies scopesToAdd and scopesToSuppress to an access token's
// scope.
func (tc tokenChanges) scope(scope string) string {
	if len(tc.access.ScopesToAdd) == 0 && len(tc.access.ScopesToSuppress) == 0 {
		return scope
	}
	var out []string
	seen := map[string]bool{}
	for _, sc := range append(strings.Fields(scope), tc.access.ScopesToAdd...) {
		sc = strings.TrimSpace(sc)
		if sc == "" || seen[sc] || contains(tc.access.ScopesToSuppress, sc) {
			continue
		}
		seen[sc] = true
		out = append(out, sc)
	}
	return strings.Join(out, " ")
}

// apply changes claims: suppressions, then additions.
func (g tokenGeneration) apply(claims map[string]any) {
	for _, k := range g.ClaimsToSuppress {
		delete(claims, k)
	}
	for k, v := range g.ClaimsToAddOrOverride {
		claims[k] = v
	}
}

// changed reports whether g changes any claim.
func (g tokenGeneration) changed() bool {
	return len(g.ClaimsToAddOrOverride) > 0 || len(g.ClaimsToSuppress) > 0
}

// claimMap is a token's claims as a map, to be changed.
func claimMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return m, dec.Decode(&m)
}
