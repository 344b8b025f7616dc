package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/srp"
)

// The driver's side of USER_SRP_AUTH, written for load: the math and the
// bytes on the wire are Amplify's (RFC 5054 group 15, SHA-256, Cognito's
// PAD and HKDF), but a worker keeps one 256-bit secret a for the whole run
// (Amplify draws 1024 bits per sign-in) and caches each user's x and
// k·g^x. The server's work is the same either way — it draws a fresh b and
// derives everything from the A it is sent — while the driver's per
// sign-in cost drops to one exponentiation with a ~512-bit exponent, so
// that on a shared 2-core machine the driver does not starve the server
// it measures. A wrong step anywhere here shows up as the server refusing
// the claim, which loadgen counts as an error.

var (
	groupN = srp.GroupPrime()
	groupG = big.NewInt(2)
	// groupK = H(PAD(N) | PAD(g)).
	groupK = hashPadded(groupN, groupG)
)

// padded is Cognito's PAD: the big-endian magnitude, with a 0x00 in front
// when the top bit is set (Java's BigInteger.toByteArray).
func padded(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	if b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

func hashPadded(xs ...*big.Int) *big.Int {
	h := sha256.New()
	for _, x := range xs {
		h.Write(padded(x))
	}
	return new(big.Int).SetBytes(h.Sum(nil))
}

// srpClient is one worker's SRP state.
type srpClient struct {
	poolName string
	a, A     *big.Int
	aHex     string
	users    map[string]srpUser // by USER_ID_FOR_SRP
}

// srpUser caches what depends only on the user's password and salt.
type srpUser struct {
	salt string
	x    *big.Int
	kgx  *big.Int // k·g^x mod N
}

func newSRPClient(poolID string) (*srpClient, error) {
	name := srp.PoolName(poolID)
	if name == "" {
		return nil, fmt.Errorf("pool ID %q has no name after \"_\"", poolID)
	}
	var buf [32]byte
	rand.Read(buf[:])
	a := new(big.Int).SetBytes(buf[:])
	A := new(big.Int).Exp(groupG, a, groupN)
	return &srpClient{poolName: name, a: a, A: A, aHex: A.Text(16), users: map[string]srpUser{}}, nil
}

// respond answers PASSWORD_VERIFIER: PASSWORD_CLAIM_SIGNATURE and the
// TIMESTAMP it signs.
func (c *srpClient) respond(userID, password, saltHex, bHex, secretBlockB64 string, now time.Time) (sig, ts string, err error) {
	B, ok := new(big.Int).SetString(bHex, 16)
	if !ok || strings.HasPrefix(bHex, "-") || new(big.Int).Mod(B, groupN).Sign() == 0 {
		return "", "", errors.New("SRP_B is malformed or 0 mod N")
	}
	u := hashPadded(c.A, B)
	if u.Sign() == 0 {
		return "", "", errors.New("u is 0")
	}
	usr, ok := c.users[userID]
	if !ok || usr.salt != saltHex {
		salt, ok := new(big.Int).SetString(saltHex, 16)
		if !ok {
			return "", "", errors.New("SALT is not hex")
		}
		inner := sha256.Sum256([]byte(c.poolName + userID + ":" + password))
		outer := sha256.New()
		outer.Write(padded(salt))
		outer.Write(inner[:])
		x := new(big.Int).SetBytes(outer.Sum(nil))
		kgx := new(big.Int).Exp(groupG, x, groupN)
		kgx.Mul(kgx, groupK).Mod(kgx, groupN)
		usr = srpUser{salt: saltHex, x: x, kgx: kgx}
		c.users[userID] = usr
	}
	// S = (B - k·g^x)^(a + u·x) mod N
	base := new(big.Int).Sub(B, usr.kgx)
	base.Mod(base, groupN)
	exp := new(big.Int).Mul(u, usr.x)
	exp.Add(exp, c.a)
	S := base.Exp(base, exp, groupN)

	// K = HKDF-SHA256(salt = PAD(u), IKM = PAD(S), info = "Caldera Derived Key")[:16]
	extract := hmac.New(sha256.New, padded(u))
	extract.Write(padded(S))
	expand := hmac.New(sha256.New, extract.Sum(nil))
	expand.Write([]byte("Caldera Derived Key\x01"))
	key := expand.Sum(nil)[:16]

	block, err := base64.StdEncoding.DecodeString(secretBlockB64)
	if err != nil {
		return "", "", fmt.Errorf("SECRET_BLOCK: %w", err)
	}
	ts = srp.FormatTimestamp(now)
	return base64.StdEncoding.EncodeToString(srp.Signature(key, c.poolName, userID, block, ts)), ts, nil
}
