package sqlite

import (
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cognate-auth/cognate/storage"
)

// Decoding a pool's or client's settings with encoding/json costs more
// than the query that reads them, and they seldom change: GetPool and
// GetClient keep what each stored text decoded to, and hand out deep
// copies of it, so that a caller changing its copy (an updater, say)
// changes no one else's.

var (
	poolSettings   = settingsCache[storage.PoolSettings]{clone: clonePoolSettings}
	clientSettings = settingsCache[storage.ClientSettings]{clone: cloneClientSettings}
)

// maxCachedSettings bounds each cache; past it the cache starts over.
const maxCachedSettings = 256

// settingsCache maps settings JSON text to what it decodes to.
type settingsCache[T any] struct {
	// clone returns a deep copy: it shares no slice, map or pointer with
	// its argument.
	clone func(T) T
	m     sync.Map // string → *T, never changed once stored
	n     atomic.Int64
}

// decode sets *v to what text decodes to, as json.Unmarshal into a zero
// *v would.
func (c *settingsCache[T]) decode(text string, v *T) error {
	if cached, ok := c.m.Load(text); ok {
		*v = c.clone(*cached.(*T))
		return nil
	}
	decoded := new(T)
	if err := json.Unmarshal([]byte(text), decoded); err != nil {
		return err
	}
	if c.n.Add(1) > maxCachedSettings {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(text, decoded)
	*v = c.clone(*decoded)
	return nil
}

// clonePoolSettings deep-copies s; TestCloneSettings checks that it
// covers every field.
func clonePoolSettings(s storage.PoolSettings) storage.PoolSettings {
	s.UsernameAttributes = slices.Clone(s.UsernameAttributes)
	s.AutoVerifiedAttributes = slices.Clone(s.AutoVerifiedAttributes)
	s.Schema = slices.Clone(s.Schema)
	s.AttributesRequireVerificationBeforeUpdate = slices.Clone(s.AttributesRequireVerificationBeforeUpdate)
	s.AllowedFirstAuthFactors = slices.Clone(s.AllowedFirstAuthFactors)
	s.DeviceConfiguration = clonePointer(s.DeviceConfiguration)
	s.LambdaConfig = clonePointer(s.LambdaConfig)
	return s
}

// clonePointer copies what p points to, for a struct without references.
func clonePointer[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// cloneClientSettings deep-copies s; TestCloneSettings checks that it
// covers every field.
func cloneClientSettings(s storage.ClientSettings) storage.ClientSettings {
	s.ExplicitAuthFlows = slices.Clone(s.ExplicitAuthFlows)
	s.ReadAttributes = slices.Clone(s.ReadAttributes)
	s.WriteAttributes = slices.Clone(s.WriteAttributes)
	s.CallbackURLs = slices.Clone(s.CallbackURLs)
	s.LogoutURLs = slices.Clone(s.LogoutURLs)
	s.AllowedOAuthFlows = slices.Clone(s.AllowedOAuthFlows)
	s.AllowedOAuthScopes = slices.Clone(s.AllowedOAuthScopes)
	s.SupportedIdentityProviders = slices.Clone(s.SupportedIdentityProviders)
	return s
}
