package userpool

// USER_SRP_AUTH: the PASSWORD_VERIFIER challenge (startSRP), its answer
// (verifySRP), and the decoys that keep unknown names indistinguishable.
// The math is in package srp.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// srpBlockTTL is how long a client has to answer PASSWORD_VERIFIER.
const srpBlockTTL = 3 * time.Minute

// timestampSkew bounds the client's TIMESTAMP against the server clock.
const timestampSkew = 5 * time.Minute

// srpState is what a SECRET_BLOCK carries: the session key the client
// must prove it derived, and whom it was derived for. The key is computed
// when the challenge is issued, so answering costs only an HMAC.
type srpState struct {
	Username string `json:"u"`
	Key      []byte `json:"k"`
	// Verifier fingerprints the password the key was derived from, so a
	// password changed in the meantime voids the block.
	Verifier []byte `json:"v"`
	Fake     bool   `json:"f,omitempty"`
	// Name is, for a decoy, the name whose guess counter the answer
	// counts against (see lookupName).
	Name string `json:"n,omitempty"`
}

// startSRP answers USER_SRP_AUTH with a PASSWORD_VERIFIER challenge. For
// an unknown user (when existence errors are prevented) it answers with a
// decoy computed from a per-name fake salt, indistinguishable to the
// caller, that can never be satisfied.
func (s *Service) startSRP(ctx context.Context, c storage.Client, p storage.Pool, name, hexA string) (AuthOutput, error) {
	if name == "" {
		return AuthOutput{}, invalidParam("Missing required parameter USERNAME")
	}
	if hexA == "" {
		return AuthOutput{}, invalidParam("Missing required parameter SRP_A")
	}
	A, err := srp.ParseA(hexA)
	if err != nil {
		return AuthOutput{}, invalidParam("SRP_A is invalid")
	}
	u, err := s.findUser(ctx, p, name)
	fake := errors.Is(err, ErrUserNotFound)
	subject := u.Username
	switch {
	case fake && !preventsExistenceErrors(c):
		return AuthOutput{}, err
	case fake:
		u, subject = s.decoyUser(p, name), lookupName(p, name)
	case err != nil:
		return AuthOutput{}, err
	case len(u.SRPVerifier) == 0:
		// A user without a password (passwordless sign-in) gets a decoy
		// that no answer satisfies, counted against the user; imported
		// users get srpWithoutVerifier's answer.
		if err := s.srpWithoutVerifier(ctx, c, u); err != nil {
			return AuthOutput{}, err
		}
		u, fake = s.decoyUser(p, u.Username), true
	default:
		if err := s.preAuthentication(ctx, p, c.ClientID, u); err != nil {
			return AuthOutput{}, err
		}
	}
	if _, err := s.startGuess(ctx, passwordSecret, p.ID, subject); err != nil {
		return AuthOutput{}, err
	}
	sess, err := srp.NewServerSession(u.SRPVerifier)
	if err != nil {
		return AuthOutput{}, internal("srp session", err)
	}
	key, err := sess.Key(A)
	if err != nil {
		return AuthOutput{}, invalidParam("SRP_A is invalid")
	}
	st := srpState{Username: u.Username, Key: key, Verifier: fingerprint(u.SRPVerifier)}
	if fake {
		st.Fake, st.Name = true, subject
	}
	block, err := s.sealer.seal(sealSRP, p.ID+"|"+c.ClientID, s.now(), st)
	if err != nil {
		return AuthOutput{}, internal("seal srp", err)
	}
	return AuthOutput{
		ChallengeName: challengePasswordVerifier,
		ChallengeParameters: map[string]string{
			"SALT":            hex.EncodeToString(u.SRPSalt),
			"SECRET_BLOCK":    block,
			"SRP_B":           sess.BHex(),
			"USERNAME":        u.Username,
			"USER_ID_FOR_SRP": u.Username,
		},
	}, nil
}

// decoyUser derives a stable fake salt and verifier for a name that does
// not exist, so repeated probes see consistent, plausible challenges. When
// the name is an email in a pool that signs in by email, a real user's
// USER_ID_FOR_SRP is its sub, a UUID, so the decoy gets a stable fake one:
// echoing the email back would tell the caller the user does not exist.
func (s *Service) decoyUser(p storage.Pool, name string) storage.User {
	m := hmac.New(sha256.New, s.fakeKey)
	m.Write([]byte(p.ID + "\x00" + name))
	sum := m.Sum(nil)
	salt := sum[:srp.SaltSize]
	username := name
	if signsInByEmail(p) && strings.Contains(name, "@") {
		var id uuid.UUID
		copy(id[:], sum[srp.SaltSize:])
		id[6] = id[6]&0x0f | 0x40 // version 4, like uuid.NewString's subs
		id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
		username = id.String()
	}
	// The decoy's challenge can never be answered, so its verifier need
	// not come from a password: keyed pseudo-random bytes below N cost no
	// exponentiation, so a decoy challenge is no slower than a real one.
	v := make([]byte, 0, 384)
	for i := byte(0); len(v) < 384; i++ {
		m.Reset()
		m.Write([]byte{'v', i})
		m.Write(sum)
		v = m.Sum(v)
	}
	v[0] &= 0x7f // below N, whose top bit is set
	return storage.User{PoolID: p.ID, Username: username, Enabled: true, SRPSalt: salt, SRPVerifier: v[:384]}
}

func fingerprint(v []byte) []byte {
	h := sha256.Sum256(v)
	return h[:8]
}

func (s *Service) verifySRP(ctx context.Context, c storage.Client, p storage.Pool, cr map[string]string) (AuthOutput, error) {
	u, claim, err := s.checkSRP(ctx, c, p, cr)
	if err != nil {
		return AuthOutput{}, err
	}
	return s.afterPassword(ctx, c, p, u, cr["DEVICE_KEY"], claim)
}

// checkSRP checks a PASSWORD_VERIFIER answer and returns the user it
// proves, and the claim to make of the answer: only a right answer is
// claimed, in the write that completes the sign-in, so a replayed wrong
// answer (a decoy's included) is just wrong again, and every answer reads
// the same whoever it was for.
func (s *Service) checkSRP(ctx context.Context, c storage.Client, p storage.Pool, cr map[string]string) (storage.User, oneTimeClaim, error) {
	var u storage.User
	blockB64, ts, sig := cr["PASSWORD_CLAIM_SECRET_BLOCK"], cr["TIMESTAMP"], cr["PASSWORD_CLAIM_SIGNATURE"]
	for name, v := range map[string]string{"PASSWORD_CLAIM_SECRET_BLOCK": blockB64, "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig, "USERNAME": cr["USERNAME"]} {
		if v == "" {
			return u, oneTimeClaim{}, invalidParam("Missing required parameter %s", name)
		}
	}
	var st srpState
	now := s.now()
	if err := s.sealer.open(sealSRP, p.ID+"|"+c.ClientID, blockB64, srpBlockTTL, now, &st); err != nil {
		return u, oneTimeClaim{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	when, err := srp.ParseTimestamp(ts)
	if err != nil {
		return u, oneTimeClaim{}, invalidParam("TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.")
	}
	if d := now.Sub(when); d > timestampSkew || d < -timestampSkew {
		return u, oneTimeClaim{}, errorf(ErrNotAuthorized, "Incorrect username or password.")
	}
	block, _ := base64.StdEncoding.DecodeString(blockB64) // opened above, so valid
	if subtle.ConstantTimeCompare([]byte(cr["USERNAME"]), []byte(st.Username)) != 1 {
		return u, oneTimeClaim{}, ErrNotAuthorized
	}
	subject := st.Name
	if !st.Fake {
		var err error
		u, err = s.findUser(ctx, p, st.Username)
		if errors.Is(err, ErrUserNotFound) {
			return u, oneTimeClaim{}, ErrNotAuthorized
		}
		if err != nil {
			return u, oneTimeClaim{}, err
		}
		subject = u.Username
	}
	g, err := s.startGuess(ctx, passwordSecret, p.ID, subject)
	if err != nil {
		return u, oneTimeClaim{}, err
	}
	ok := !st.Fake && hmac.Equal(fingerprint(u.SRPVerifier), st.Verifier) &&
		srp.VerifySignature(st.Key, srp.PoolName(p.ID), u.Username, block, ts, sig)
	if err := g.settle(ctx, s.store, ok); err != nil {
		return u, oneTimeClaim{}, err
	}
	return u, blockClaim(blockB64, now), nil
}

// srpClaimMargin is how long a claimed block stays claimed past
// srpBlockTTL: the node that sealed it may run a little ahead of this
// one's clock, and would still accept it.
const srpClaimMargin = time.Minute

// blockClaim is the claim of a secret block: the sign-in it completes
// marks it used in storage (oneTimeClaim), so that a second answer to the
// same challenge is refused by whichever node it reaches, even in a race
// with the first. The claim outlives the block.
func blockClaim(block string, now time.Time) oneTimeClaim {
	return oneTimeClaim{key: append([]byte("srp/"), hashToken(block)...), until: now.Add(srpBlockTTL + srpClaimMargin)}
}
