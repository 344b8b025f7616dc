package userpool

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/storage"
)

// identitiesAttribute is the attribute (and id-token claim) that lists a
// user's federated identities, as Cognito keeps it: a JSON array.
const identitiesAttribute = "identities"

// maxLinks is how many identities Cognito links to one user.
const maxLinks = 5

// identityEntry is one element of the identities attribute, in the form
// Cognito's id tokens carry it (primary and dateCreated as strings).
type identityEntry struct {
	UserID       string  `json:"userId"`
	ProviderName string  `json:"providerName"`
	ProviderType string  `json:"providerType"`
	Issuer       *string `json:"issuer"`
	Primary      string  `json:"primary"`
	DateCreated  string  `json:"dateCreated"`
}

func readIdentities(attrs map[string]string) []identityEntry {
	var out []identityEntry
	if v := attrs[identitiesAttribute]; v != "" {
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			return nil
		}
	}
	return out
}

func writeIdentities(attrs map[string]string, list []identityEntry) {
	if len(list) == 0 {
		delete(attrs, identitiesAttribute)
		return
	}
	b, _ := json.Marshal(list)
	attrs[identitiesAttribute] = string(b)
}

// contactAttributes are what a provider's mapping never changes on a
// local user linked to it.
var contactAttributes = map[string]bool{"email": true, "email_verified": true, "phone_number": true, "phone_number_verified": true}

// FederatedGroup is the group Cognito puts a provider's users in.
func FederatedGroup(poolID, providerName string) string { return poolID + "_" + providerName }

// FederationProvider resolves the provider an authorization names, by
// name or by one of its IdpIdentifiers, for an app client that lists it
// in SupportedIdentityProviders. The provider's secrets are in clear.
func (s *Service) FederationProvider(ctx context.Context, clientID, name, identifier string) (federation.Provider, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return federation.Provider{}, err
	}
	var idp storage.IdentityProvider
	if identifier != "" {
		idp, err = s.providerByIdentifier(ctx, p.ID, identifier)
	} else {
		idp, err = s.getIDP(ctx, p.ID, name)
	}
	if err != nil {
		return federation.Provider{}, err
	}
	if !slices.Contains(c.Settings.SupportedIdentityProviders, idp.Name) {
		return federation.Provider{}, errorf(ErrUnsupportedIdentityProvider, "The app client does not support identity provider %s.", idp.Name)
	}
	return federationProvider(idp), nil
}

// LoginProvider is an identity provider as the managed login page offers
// it.
type LoginProvider struct {
	Name string
	Type string
	// Routed says the provider has IdpIdentifiers: the page's sign-in by
	// email domain may lead to it.
	Routed bool
	// Origins are where the browser may be sent to sign in (the origins
	// of the provider's authorization or SSO endpoints, as configured).
	Origins []string
}

// ClientProviders lists the providers an app client offers on the
// managed login page: those of its SupportedIdentityProviders that
// exist, by name.
func (s *Service) ClientProviders(ctx context.Context, clientID string) ([]LoginProvider, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range c.Settings.SupportedIdentityProviders {
		if n != "COGNITO" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	all, err := s.store.ListIdentityProviders(ctx, p.ID, "", 0)
	if err != nil {
		return nil, internal("list identity providers", err)
	}
	var out []LoginProvider
	for _, idp := range all {
		if !slices.Contains(names, idp.Name) {
			continue
		}
		lp := LoginProvider{Name: idp.Name, Type: idp.Type, Routed: len(idp.Identifiers) > 0}
		for _, k := range []string{"authorize_url", "oidc_issuer", "SSORedirectBindingURI"} {
			if u, err := url.Parse(idp.Details[k]); err == nil && u.Scheme != "" && u.Host != "" {
				lp.Origins = append(lp.Origins, u.Scheme+"://"+u.Host)
			}
		}
		out = append(out, lp)
	}
	return out, nil
}

// errFederatedRefused is a federated sign-in that must not proceed (a
// disabled user, a name taken by a local user).
var errFederatedRefused = errorf(ErrNotAuthorized, "User is disabled.")

// FederatedSignIn turns who a provider says signed in into the pool user
// that signs in: the user linked to the provider's subject, else the
// federated user <ProviderName>_<subject>, created on first sign-in
// with status EXTERNAL_PROVIDER, the identities attribute and the
// provider's group. The attribute mapping is applied at every sign-in.
// An email the provider asserts never links to an existing user: only
// AdminLinkProviderForUser links.
func (s *Service) FederatedSignIn(ctx context.Context, clientID, providerName string, id federation.Identity) (string, error) {
	c, pool, err := s.client(ctx, clientID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(c.Settings.SupportedIdentityProviders, providerName) {
		return "", errorf(ErrUnsupportedIdentityProvider, "The app client does not support identity provider %s.", providerName)
	}
	idp, err := s.getIDP(ctx, pool.ID, providerName)
	if err != nil {
		return "", err
	}
	userID := id.Subject
	if a := idp.AttributeMapping["username"]; a != "" && id.Attributes[a] != "" {
		userID = id.Attributes[a]
	}
	username := idp.Name + "_" + userID
	if userID == "" || utf8.RuneCountInString(username) > 128 || !utf8.ValidString(userID) || strings.ContainsRune(userID, 0) {
		return "", errorf(ErrInvalidParameter, "The identity provider's subject is not usable as a username.")
	}
	mapped := s.mapAttributes(ctx, pool, idp, id)
	group := FederatedGroup(pool.ID, idp.Name)
	if err := s.ensureGroup(ctx, pool.ID, group, idp.Name); err != nil {
		return "", err
	}
	var signedIn string
	for attempt := 0; ; attempt++ {
		err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
			var err error
			signedIn, err = s.federatedUser(ctx, tx, idp, id, userID, username, mapped, group)
			return err
		})
		// Two first sign-ins at once: the loser finds the winner's user.
		if errors.Is(err, storage.ErrAlreadyExists) && attempt == 0 {
			continue
		}
		break
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		return "", err
	case err != nil:
		return "", internal("federated sign-in", err)
	}
	return signedIn, nil
}

// federatedUser finds or creates the user in tx and applies the mapped
// attributes.
func (s *Service) federatedUser(ctx context.Context, tx storage.Storage, idp storage.IdentityProvider, id federation.Identity, userID, username string, mapped map[string]string, group string) (string, error) {
	now := s.now()
	link, err := tx.GetFederatedLink(ctx, idp.PoolID, idp.Name, userID)
	switch {
	case err == nil:
		username = link.Username
	case !errors.Is(err, storage.ErrNotFound):
		return "", err
	default:
		u, err := tx.GetUser(ctx, idp.PoolID, username)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return username, s.createFederatedUser(ctx, tx, idp, id, userID, username, mapped, group)
		case err != nil:
			return "", err
		case u.Status != storage.StatusExternalProvider:
			// A local user happens to have the federated name: never theirs.
			return "", errFederatedRefused
		}
		// The federated user whose link was removed with its provider.
		if err := tx.CreateFederatedLink(ctx, storage.FederatedLink{PoolID: idp.PoolID, ProviderName: idp.Name, Subject: userID, Username: username, CreatedAt: now}); err != nil {
			return "", err
		}
	}
	err = tx.UpdateUser(ctx, idp.PoolID, username, func(u storage.User) (storage.User, error) {
		if !u.Enabled {
			return u, errFederatedRefused
		}
		changed := false
		attrs := maps.Clone(u.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		for k, v := range mapped {
			if u.Status != storage.StatusExternalProvider && contactAttributes[k] {
				// A linked local user's email and phone are theirs to
				// verify: a provider's word never replaces them.
				continue
			}
			if attrs[k] != v {
				attrs[k], changed = v, true
			}
		}
		if !changed {
			return u, nil
		}
		u.Attributes, u.UpdatedAt = attrs, now
		return u, nil
	})
	if err != nil {
		return "", err
	}
	return username, tx.AddUserToGroup(ctx, idp.PoolID, username, group)
}

func (s *Service) createFederatedUser(ctx context.Context, tx storage.Storage, idp storage.IdentityProvider, id federation.Identity, userID, username string, mapped map[string]string, group string) error {
	now := s.now()
	sub := uuid.NewString()
	attrs := maps.Clone(mapped)
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["sub"] = sub
	writeIdentities(attrs, []identityEntry{newIdentity(idp, id.Issuer, userID, "true", now.UnixMilli())})
	// No email alias: a federated user has no password to sign in with by
	// email, and its email must not collide with a local user's.
	u := storage.User{
		PoolID: idp.PoolID, Username: username, Sub: sub, Attributes: attrs,
		Status: storage.StatusExternalProvider, Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return err
	}
	if err := tx.CreateFederatedLink(ctx, storage.FederatedLink{PoolID: idp.PoolID, ProviderName: idp.Name, Subject: userID, Username: username, CreatedAt: now}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "federated user created", "pool", idp.PoolID, "provider", idp.Name, "username", username)
	return tx.AddUserToGroup(ctx, idp.PoolID, username, group)
}

func newIdentity(idp storage.IdentityProvider, issuer, userID, primary string, at int64) identityEntry {
	e := identityEntry{UserID: userID, ProviderName: idp.Name, ProviderType: idp.Type, Primary: primary, DateCreated: strconv.FormatInt(at, 10)}
	if issuer != "" {
		e.Issuer = &issuer
	}
	return e
}

// mapAttributes applies the provider's AttributeMapping to what it
// asserted. Values the pool would refuse are dropped (and logged), not
// fatal: a provider's odd profile field must not block its sign-in.
func (s *Service) mapAttributes(ctx context.Context, pool storage.Pool, idp storage.IdentityProvider, id federation.Identity) map[string]string {
	out := map[string]string{}
	for attr, from := range idp.AttributeMapping {
		v, ok := id.Attributes[from]
		if attr == "username" || !ok {
			continue
		}
		if attr == "email_verified" || attr == "phone_number_verified" {
			v = strconv.FormatBool(v == "true")
		}
		if err := checkAttributes(pool, []AttributeType{{Name: attr, Value: v}}); err != nil {
			s.log.WarnContext(ctx, "federated attribute dropped", "pool", pool.ID, "provider", idp.Name, "attribute", attr, "err", err)
			continue
		}
		out[attr] = v
	}
	return out
}

// ensureGroup creates a provider's group the first time it is needed.
func (s *Service) ensureGroup(ctx context.Context, poolID, name, provider string) error {
	if _, err := s.store.GetGroup(ctx, poolID, name); err == nil {
		return nil
	}
	now := s.now()
	err := s.store.CreateGroup(ctx, storage.Group{
		PoolID: poolID, Name: name, Description: "Autogenerated group for users who sign in using " + provider,
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return internal("create provider group", err)
	}
	return nil
}

func (in AdminLinkProviderForUserInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	for path, u := range map[string]ProviderUserIdentifierType{"destinationUser": in.DestinationUser, "sourceUser": in.SourceUser} {
		v.required(path+".providerName", u.ProviderName)
		v.required(path+".providerAttributeValue", u.ProviderAttributeValue)
	}
	return v.err()
}

// linkTarget resolves a DestinationUser: a pool user (ProviderName
// Cognito, the username) or a provider's user already in the pool.
func (s *Service) linkTarget(ctx context.Context, pool storage.Pool, d ProviderUserIdentifierType) (storage.User, error) {
	name := d.ProviderAttributeValue
	if !strings.EqualFold(d.ProviderName, "Cognito") {
		l, err := s.store.GetFederatedLink(ctx, pool.ID, d.ProviderName, d.ProviderAttributeValue)
		if errors.Is(err, storage.ErrNotFound) {
			return storage.User{}, ErrUserNotFound
		}
		if err != nil {
			return storage.User{}, internal("get federated link", err)
		}
		name = l.Username
	}
	u, err := s.store.GetUser(ctx, pool.ID, name)
	if errors.Is(err, storage.ErrNotFound) {
		return u, ErrUserNotFound
	}
	if err != nil {
		return u, internal("get user", err)
	}
	return u, nil
}

// AdminLinkProviderForUser links a provider's user (by Cognito_Subject)
// to an existing pool user: that provider user's later sign-ins are this
// user's.
func (s *Service) AdminLinkProviderForUser(ctx context.Context, in AdminLinkProviderForUserInput) (struct{}, error) {
	if err := in.validate(); err != nil {
		return struct{}{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return struct{}{}, err
	}
	src := in.SourceUser
	switch {
	case strings.EqualFold(src.ProviderName, "Cognito"):
		return struct{}{}, invalidParam("The SourceUser must be a user of an external identity provider.")
	case src.ProviderAttributeName != subjectAttributeName:
		return struct{}{}, invalidParam("SourceUser.ProviderAttributeName must be %s.", subjectAttributeName)
	}
	dst, err := s.linkTarget(ctx, pool, in.DestinationUser)
	if err != nil {
		return struct{}{}, err
	}
	idp, err := s.getIDP(ctx, pool.ID, src.ProviderName)
	if err != nil {
		return struct{}{}, err
	}
	merging := invalidParam("Merging is not currently supported, provide a SourceUser that has not been linked to a different user.")
	if _, err := s.store.GetUser(ctx, pool.ID, idp.Name+"_"+src.ProviderAttributeValue); err == nil {
		return struct{}{}, merging
	}
	group := FederatedGroup(pool.ID, idp.Name)
	if err := s.ensureGroup(ctx, pool.ID, group, idp.Name); err != nil {
		return struct{}{}, err
	}
	now := s.now()
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		links, err := tx.ListFederatedLinks(ctx, pool.ID, dst.Username)
		if err != nil {
			return err
		}
		if len(links) >= maxLinks {
			return errorf(ErrLimitExceeded, "A user can be linked to at most %d identities.", maxLinks)
		}
		if err := tx.CreateFederatedLink(ctx, storage.FederatedLink{PoolID: pool.ID, ProviderName: idp.Name, Subject: src.ProviderAttributeValue, Username: dst.Username, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, pool.ID, dst.Username, func(u storage.User) (storage.User, error) {
			attrs := maps.Clone(u.Attributes)
			if attrs == nil {
				attrs = map[string]string{}
			}
			writeIdentities(attrs, append(readIdentities(attrs), newIdentity(idp, "", src.ProviderAttributeValue, "false", now.UnixMilli())))
			u.Attributes, u.UpdatedAt = attrs, now
			return u, nil
		}); err != nil {
			return err
		}
		return tx.AddUserToGroup(ctx, pool.ID, dst.Username, group)
	})
	var e *Error
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return struct{}{}, merging
	case errors.Is(err, storage.ErrNotFound):
		return struct{}{}, ErrUserNotFound
	case errors.As(err, &e):
		return struct{}{}, err
	case err != nil:
		return struct{}{}, internal("link provider", err)
	}
	s.log.InfoContext(ctx, "federated identity linked", "pool", pool.ID, "provider", idp.Name, "username", dst.Username)
	return struct{}{}, nil
}

// AdminDisableProviderForUser removes a provider user's link: a user it
// was linked to keeps its other sign-ins; a federated user of that
// identity is disabled, so the identity signs in to no one until linked
// again.
func (s *Service) AdminDisableProviderForUser(ctx context.Context, in AdminDisableProviderForUserInput) (struct{}, error) {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	v.required("user.providerName", in.User.ProviderName)
	v.required("user.providerAttributeValue", in.User.ProviderAttributeValue)
	if err := v.err(); err != nil {
		return struct{}{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return struct{}{}, err
	}
	if in.User.ProviderAttributeName != subjectAttributeName {
		return struct{}{}, invalidParam("User.ProviderAttributeName must be %s.", subjectAttributeName)
	}
	prov, subject := in.User.ProviderName, in.User.ProviderAttributeValue
	var username string
	now := s.now()
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		l, err := tx.GetFederatedLink(ctx, pool.ID, prov, subject)
		if err != nil {
			return err
		}
		username = l.Username
		if err := tx.DeleteFederatedLink(ctx, pool.ID, prov, subject); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, pool.ID, l.Username, func(u storage.User) (storage.User, error) {
			attrs := maps.Clone(u.Attributes)
			list := slices.DeleteFunc(readIdentities(attrs), func(e identityEntry) bool {
				return e.ProviderName == prov && e.UserID == subject
			})
			writeIdentities(attrs, list)
			u.Attributes, u.UpdatedAt = attrs, now
			if u.Status == storage.StatusExternalProvider && u.Username == prov+"_"+subject {
				u.Enabled = false
			}
			return u, nil
		})
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return struct{}{}, ErrUserNotFound
	case err != nil:
		return struct{}{}, internal("disable provider for user", err)
	}
	s.log.InfoContext(ctx, "federated identity unlinked", "pool", pool.ID, "provider", prov, "username", username)
	return struct{}{}, nil
}

// signsInWithSession reports whether a user's hosted-UI session is live
// by its status: confirmed users, and federated ones (who have no other).
func signsInWithSession(u storage.User) bool {
	return u.Status == storage.StatusConfirmed || u.Status == storage.StatusExternalProvider
}

// federationStateTTL is how long a browser has to come back from a
// provider.
const federationStateTTL = 10 * time.Minute

// SealFederationState seals the state of a sign-in at a provider for the
// browser's cookie (AES-256-GCM under the server's session key).
func (s *Service) SealFederationState(v any) (string, error) {
	out, err := s.sealer.seal("federation", "", s.now(), v)
	if err != nil {
		return "", internal("seal federation state", err)
	}
	return out, nil
}

// OpenFederationState opens what SealFederationState sealed, if it is
// authentic and younger than the state's life; else ErrNotAuthorized.
func (s *Service) OpenFederationState(sealed string, v any) error {
	if err := s.sealer.open("federation", "", sealed, federationStateTTL, s.now(), v); err != nil {
		return ErrNotAuthorized
	}
	return nil
}

// ClaimFederationState makes a sign-in's state usable once, across every
// node: false when it was claimed before (a replayed callback).
func (s *Service) ClaimFederationState(ctx context.Context, state string) (bool, error) {
	key := sha256.Sum256([]byte("federation\x00" + state))
	won, err := s.store.ClaimOnce(ctx, key[:], s.now().Add(2*federationStateTTL))
	if err != nil {
		return false, internal("claim federation state", err)
	}
	return won, nil
}
