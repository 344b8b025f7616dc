package srp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Client is the user's side of USER_SRP_AUTH, computed the way Amplify JS
// v6 does it. It exists to test servers and to drive them from development
// tools; a server has no use for it.
type Client struct {
	poolName string
	a, A     *big.Int
}

// NewClient starts a sign-in for the pool with the given ID (for example
// "us-east-1_AbCdEf123") with a fresh 128-byte secret a, as Amplify does.
func NewClient(poolID string) (*Client, error) {
	var buf [128]byte
	rand.Read(buf[:]) // never fails since Go 1.24: it crashes the program instead
	return newClient(poolID, new(big.Int).SetBytes(buf[:]))
}

// NewDeviceClient starts a device's sign-in (DEVICE_SRP_AUTH): the same
// exchange, with the device group key where the pool name goes. Its
// Respond takes the device key as USER_ID_FOR_SRP and the device's
// secret as the password.
func NewDeviceClient(deviceGroupKey string) (*Client, error) {
	if deviceGroupKey == "" {
		return nil, errors.New("srp: empty device group key")
	}
	var buf [128]byte
	rand.Read(buf[:]) // never fails since Go 1.24: it crashes the program instead
	return withSecret(deviceGroupKey, new(big.Int).SetBytes(buf[:]))
}

func newClient(poolID string, a *big.Int) (*Client, error) {
	name := PoolName(poolID)
	if name == "" {
		return nil, fmt.Errorf("srp: pool ID %q has no name after \"_\"", poolID)
	}
	return withSecret(name, a)
}

// withSecret is a client of the given SRP pool name with secret a.
func withSecret(name string, a *big.Int) (*Client, error) {
	A := new(big.Int).Exp(groupG, a, groupN)
	if A.Sign() == 0 {
		// Impossible for a group element, but Amplify checks it, so do we.
		return nil, errors.New("srp: A is 0")
	}
	return &Client{poolName: name, a: a, A: A}, nil
}

// AHex returns SRP_A as Amplify sends it: BigInteger.toString(16), that is
// lowercase hex with no padding and possibly an odd number of digits.
func (c *Client) AHex() string {
	return c.A.Text(16)
}

// Respond answers a PASSWORD_VERIFIER challenge: given USER_ID_FOR_SRP, the
// password and the challenge's SALT, SRP_B and SECRET_BLOCK, it returns
// PASSWORD_CLAIM_SIGNATURE and the TIMESTAMP it signed (now, formatted). As
// in Amplify, SECRET_BLOCK may also be unpadded or URL-safe base64.
func (c *Client) Respond(userIDForSRP, password, saltHex, bHex, secretBlockB64 string, now time.Time) (signatureB64, timestamp string, err error) {
	_, _, key, err := c.compute(userIDForSRP, password, saltHex, bHex)
	if err != nil {
		return "", "", err
	}
	secretBlock, err := decodeSecretBlock(secretBlockB64)
	if err != nil {
		return "", "", err
	}
	timestamp = FormatTimestamp(now)
	sig := Signature(key, c.poolName, userIDForSRP, secretBlock, timestamp)
	return base64.StdEncoding.EncodeToString(sig), timestamp, nil
}

// compute returns u, S and K from the client's side:
// S = (B - k*g^x)^(a + u*x) mod N.
func (c *Client) compute(userID, password, saltHex, bHex string) (u, S *big.Int, key []byte, err error) {
	B, ok := parseHex(bHex)
	if !ok || len(bHex) > MaxAHexLen || isZeroModN(B) {
		return nil, nil, nil, fmt.Errorf("%w: malformed or 0 mod N", ErrInvalidB)
	}
	salt, ok := parseHex(saltHex)
	if !ok {
		return nil, nil, nil, errors.New("srp: SALT is not hex")
	}
	u, err = computeU(c.A, B)
	if err != nil {
		return nil, nil, nil, err
	}
	x := computeX(c.poolName, userID, password, salt)

	base := new(big.Int).Exp(groupG, x, groupN)
	base.Mul(base, groupK)
	base.Sub(B, base)
	base.Mod(base, groupN) // Euclidean, so the negative difference wraps into [0, N)
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, c.a)
	S = base.Exp(base, exp, groupN)
	return u, S, deriveKey(u, S), nil
}

// decodeSecretBlock decodes base64 as leniently as Amplify does: URL-safe
// letters are mapped back and missing padding is added.
func decodeSecretBlock(s string) ([]byte, error) {
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	if r := len(s) % 4; r != 0 {
		s += strings.Repeat("=", 4-r)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("srp: SECRET_BLOCK is not base64: %w", err)
	}
	return b, nil
}
