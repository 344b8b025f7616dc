package keys

// verified is what the token cache holds for an accepted token until its
// exp: the key it verified with (which names the pool and the use) and
// its payload, never modified.
type verified struct {
	key     *signingKey
	payload []byte
}
