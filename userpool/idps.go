package userpool

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/storage"
)

// sealedDetails are the ProviderDetails that are secrets: stored sealed
// with the server's key, opened when a sign-in needs them.
var sealedDetails = []string{"client_secret", "private_key"}

// hiddenDetails are never returned by Describe (Cognito keeps Sign in with
// Apple's private key to itself).
var hiddenDetails = []string{"private_key"}

const sealedPrefix = "sealed:"

// sealDetail encrypts a secret detail for storage (AES-256-GCM under the
// session key, bound to the pool and provider).
func (s *Service) sealDetail(poolID, name, key, value string) (string, error) {
	nonce := make([]byte, s.sealer.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", err
	}
	out := s.sealer.aead.Seal(nonce, nonce, []byte(value), []byte("idp\x00"+poolID+"\x00"+name+"\x00"+key))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

func (s *Service) openDetail(poolID, name, key, sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	n := s.sealer.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", errBadSeal
	}
	plain, err := s.sealer.aead.Open(nil, raw[:n], raw[n:], []byte("idp\x00"+poolID+"\x00"+name+"\x00"+key))
	if err != nil {
		return "", errBadSeal
	}
	return string(plain), nil
}

// sealIDP returns the record with its secret details sealed.
func (s *Service) sealIDP(p storage.IdentityProvider) (storage.IdentityProvider, error) {
	d := maps.Clone(p.Details)
	for _, k := range sealedDetails {
		if v, ok := d[k]; ok && v != "" {
			sealed, err := s.sealDetail(p.PoolID, p.Name, k, v)
			if err != nil {
				return p, internal("seal provider secret", err)
			}
			d[k] = sealed
		}
	}
	p.Details = d
	return p, nil
}

// openIDP returns the record with its secret details in clear.
func (s *Service) openIDP(p storage.IdentityProvider) (storage.IdentityProvider, error) {
	d := maps.Clone(p.Details)
	for _, k := range sealedDetails {
		if v, ok := d[k]; ok && strings.HasPrefix(v, sealedPrefix) {
			plain, err := s.openDetail(p.PoolID, p.Name, k, v)
			if err != nil {
				return p, internal("open provider secret", err)
			}
			d[k] = plain
		}
	}
	p.Details = d
	return p, nil
}

func idpType(p storage.IdentityProvider) IdentityProviderType {
	d := maps.Clone(p.Details)
	if d == nil {
		d = map[string]string{}
	}
	for _, k := range hiddenDetails {
		delete(d, k)
	}
	m := p.AttributeMapping
	if m == nil {
		m = map[string]string{}
	}
	ids := p.Identifiers
	if ids == nil {
		ids = []string{}
	}
	return IdentityProviderType{
		UserPoolId: p.PoolID, ProviderName: p.Name, ProviderType: p.Type, ProviderDetails: d,
		AttributeMapping: m, IdpIdentifiers: ids, LastModifiedDate: Epoch(p.UpdatedAt), CreationDate: Epoch(p.CreatedAt),
	}
}

// federationProvider is the record as the federation layer takes it.
func federationProvider(p storage.IdentityProvider) federation.Provider {
	return federation.Provider{
		PoolID: p.PoolID, Name: p.Name, Type: p.Type, Details: p.Details,
		AttributeMapping: p.AttributeMapping, UpdatedAt: p.UpdatedAt,
	}
}

// checkProvider validates a provider record as a whole (details, mapping
// keys) and lets its protocol normalise the details, which may fetch the
// provider's discovery document or metadata.
func (s *Service) checkProvider(ctx context.Context, pool storage.Pool, p *storage.IdentityProvider) error {
	if err := checkDetails(p.Type, p.Details); err != nil {
		return err
	}
	for k := range p.AttributeMapping {
		if k != "username" && !knownAttribute(pool, k) {
			return invalidParam("Attribute mapping key %.64q is not an attribute of the user pool.", k)
		}
	}
	if s.federation == nil {
		return nil
	}
	d, err := s.federation.Check(ctx, federationProvider(*p))
	switch {
	case errors.Is(err, federation.ErrUnknownType):
		return errorf(ErrUnsupportedIdentityProvider, "Provider type %s is not supported.", p.Type)
	case err != nil:
		return invalidParam("%s", strings.TrimPrefix(err.Error(), "federation: "))
	}
	p.Details = d
	return nil
}

// checkIdentifiers refuses identifiers another provider of the pool has.
func (s *Service) identifiersFree(ctx context.Context, tx storage.Storage, poolID, name string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	all, err := tx.ListIdentityProviders(ctx, poolID, "", 0)
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.Name == name {
			continue
		}
		for _, id := range ids {
			if slices.ContainsFunc(other.Identifiers, func(o string) bool { return strings.EqualFold(o, id) }) {
				return errorf(ErrDuplicateProvider, "The identifier %s is already used by provider %s.", id, other.Name)
			}
		}
	}
	return nil
}

// CreateIdentityProvider adds an external identity provider to a pool.
func (s *Service) CreateIdentityProvider(ctx context.Context, in CreateIdentityProviderInput) (IdentityProviderOutput, error) {
	if err := in.validate(); err != nil {
		return IdentityProviderOutput{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	if want, social := socialNames[in.ProviderType]; social && in.ProviderName != want {
		return IdentityProviderOutput{}, invalidParam("The provider name of a %s provider must be %s.", in.ProviderType, want)
	}
	if strings.EqualFold(in.ProviderName, "Cognito") {
		return IdentityProviderOutput{}, invalidParam("Provider name %s is reserved.", in.ProviderName)
	}
	now := s.now()
	p := storage.IdentityProvider{
		PoolID: pool.ID, Name: in.ProviderName, Type: in.ProviderType, Details: maps.Clone(in.ProviderDetails),
		AttributeMapping: withDefaultMapping(in.ProviderType, in.AttributeMapping), Identifiers: slices.Compact(slices.Clone(in.IdpIdentifiers)),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.checkProvider(ctx, pool, &p); err != nil {
		return IdentityProviderOutput{}, err
	}
	sealed, err := s.sealIDP(p)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := s.identifiersFree(ctx, tx, pool.ID, p.Name, p.Identifiers); err != nil {
			return err
		}
		return tx.CreateIdentityProvider(ctx, sealed)
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return IdentityProviderOutput{}, errorf(ErrDuplicateProvider, "A provider with the name %s already exists in this user pool.", p.Name)
	case err != nil:
		return IdentityProviderOutput{}, internal("create identity provider", err)
	}
	return IdentityProviderOutput{IdentityProvider: idpType(p)}, nil
}

// withDefaultMapping adds the mapping Cognito adds: the username is the
// provider's subject for the OAuth types.
func withDefaultMapping(typ string, m map[string]string) map[string]string {
	out := maps.Clone(m)
	if typ == federation.TypeSAML {
		return out
	}
	if out == nil {
		out = map[string]string{}
	}
	if _, ok := out["username"]; !ok {
		sub := "sub"
		switch typ {
		case federation.TypeFacebook:
			sub = "id"
		case federation.TypeLoginWithAmazon:
			sub = "user_id"
		}
		out["username"] = sub
	}
	return out
}

// getIDP loads a provider of a pool, its secrets in clear.
func (s *Service) getIDP(ctx context.Context, poolID, name string) (storage.IdentityProvider, error) {
	p, err := s.store.GetIdentityProvider(ctx, poolID, name)
	if errors.Is(err, storage.ErrNotFound) {
		return p, errorf(ErrResourceNotFound, "Identity provider %s does not exist.", name)
	}
	if err != nil {
		return p, internal("get identity provider", err)
	}
	return s.openIDP(p)
}

// DescribeIdentityProvider returns one provider.
func (s *Service) DescribeIdentityProvider(ctx context.Context, in ProviderInput) (IdentityProviderOutput, error) {
	if err := in.validate(); err != nil {
		return IdentityProviderOutput{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	p, err := s.getIDP(ctx, pool.ID, in.ProviderName)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	return IdentityProviderOutput{IdentityProvider: idpType(p)}, nil
}

// UpdateIdentityProvider changes a provider's details (merged key by key),
// attribute mapping or identifiers.
func (s *Service) UpdateIdentityProvider(ctx context.Context, in UpdateIdentityProviderInput) (IdentityProviderOutput, error) {
	if err := in.validate(); err != nil {
		return IdentityProviderOutput{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	p, err := s.getIDP(ctx, pool.ID, in.ProviderName)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	prior := p.UpdatedAt
	if in.ProviderDetails != nil {
		if p.Details == nil {
			p.Details = map[string]string{}
		}
		maps.Copy(p.Details, in.ProviderDetails)
	}
	if in.AttributeMapping != nil {
		p.AttributeMapping = withDefaultMapping(p.Type, in.AttributeMapping)
	}
	if in.IdpIdentifiers != nil {
		p.Identifiers = slices.Compact(slices.Clone(in.IdpIdentifiers))
	}
	if err := s.checkProvider(ctx, pool, &p); err != nil {
		return IdentityProviderOutput{}, err
	}
	p.UpdatedAt = s.now()
	sealed, err := s.sealIDP(p)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := s.identifiersFree(ctx, tx, pool.ID, p.Name, p.Identifiers); err != nil {
			return err
		}
		return tx.UpdateIdentityProvider(ctx, pool.ID, p.Name, func(cur storage.IdentityProvider) (storage.IdentityProvider, error) {
			if !cur.UpdatedAt.Equal(prior) {
				return cur, errorf(ErrConcurrentModification, "The identity provider was changed by another request.")
			}
			return sealed, nil
		})
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return IdentityProviderOutput{}, errorf(ErrResourceNotFound, "Identity provider %s does not exist.", p.Name)
	case err != nil:
		return IdentityProviderOutput{}, internal("update identity provider", err)
	}
	return IdentityProviderOutput{IdentityProvider: idpType(p)}, nil
}

// DeleteIdentityProvider removes a provider and the links of its users;
// the users stay.
func (s *Service) DeleteIdentityProvider(ctx context.Context, in ProviderInput) (struct{}, error) {
	if err := in.validate(); err != nil {
		return struct{}{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return struct{}{}, err
	}
	err = s.store.DeleteIdentityProvider(ctx, pool.ID, in.ProviderName)
	if errors.Is(err, storage.ErrNotFound) {
		return struct{}{}, errorf(ErrResourceNotFound, "Identity provider %s does not exist.", in.ProviderName)
	}
	if err != nil {
		return struct{}{}, internal("delete identity provider", err)
	}
	return struct{}{}, nil
}

// ListIdentityProviders pages a pool's providers by name: NextToken is the
// last name returned.
func (s *Service) ListIdentityProviders(ctx context.Context, in ListIdentityProvidersInput) (ListIdentityProvidersOutput, error) {
	if err := in.validate(); err != nil {
		return ListIdentityProvidersOutput{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return ListIdentityProvidersOutput{}, err
	}
	limit := int(providerQueryLimit.max)
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	after := ""
	if in.NextToken != nil {
		after = *in.NextToken
	}
	list, err := s.store.ListIdentityProviders(ctx, pool.ID, after, limit+1)
	if err != nil {
		return ListIdentityProvidersOutput{}, internal("list identity providers", err)
	}
	out := ListIdentityProvidersOutput{Providers: []ProviderDescription{}}
	for i, p := range list {
		if i == limit {
			out.NextToken = list[i-1].Name
			break
		}
		out.Providers = append(out.Providers, ProviderDescription{
			ProviderName: p.Name, ProviderType: p.Type, LastModifiedDate: Epoch(p.UpdatedAt), CreationDate: Epoch(p.CreatedAt),
		})
	}
	return out, nil
}

// GetIdentityProviderByIdentifier finds the provider one of whose
// IdpIdentifiers is the one given (case-insensitively).
func (s *Service) GetIdentityProviderByIdentifier(ctx context.Context, in GetIdentityProviderByIdentifierInput) (IdentityProviderOutput, error) {
	if err := in.validate(); err != nil {
		return IdentityProviderOutput{}, err
	}
	pool, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	p, err := s.providerByIdentifier(ctx, pool.ID, in.IdpIdentifier)
	if err != nil {
		return IdentityProviderOutput{}, err
	}
	return IdentityProviderOutput{IdentityProvider: idpType(p)}, nil
}

func (s *Service) providerByIdentifier(ctx context.Context, poolID, identifier string) (storage.IdentityProvider, error) {
	all, err := s.store.ListIdentityProviders(ctx, poolID, "", 0)
	if err != nil {
		return storage.IdentityProvider{}, internal("list identity providers", err)
	}
	for _, p := range all {
		if slices.ContainsFunc(p.Identifiers, func(id string) bool { return strings.EqualFold(id, identifier) }) {
			return s.openIDP(p)
		}
	}
	return storage.IdentityProvider{}, errorf(ErrResourceNotFound, "Identity provider for identifier %s does not exist.", identifier)
}
