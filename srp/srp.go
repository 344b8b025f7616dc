package srp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash"
	"math/big"
	"strings"
)

const (
	// SaltSize is the length in bytes of a salt made by [NewSalt], the
	// same as Amplify's device salts.
	SaltSize = 16

	// KeySize is the length in bytes of the session key K.
	KeySize = 16

	// SecretSize is the length in bytes of the server secret b, as returned
	// by [ServerSession.Secret] and taken by [RestoreServerSession].
	SecretSize = 32

	// MaxAHexLen bounds SRP_A before any big-integer work. A is below N, so a
	// well-formed SRP_A has at most 768 hex digits; the slack allows leading
	// zeros without letting a client make us parse megabytes.
	MaxAHexLen = 1024
)

// Errors that callers may branch on with errors.Is. Functions wrap them with
// detail.
var (
	// ErrInvalidA means SRP_A is malformed, too long, or 0 mod N.
	ErrInvalidA = errors.New("srp: invalid SRP_A")
	// ErrInvalidB means SRP_B (client side) is malformed or 0 mod N.
	ErrInvalidB = errors.New("srp: invalid SRP_B")
	// ErrZeroU means H(PAD(A) | PAD(B)) was 0; the attempt must be abandoned.
	// It happens with probability 2^-256 unless someone found a preimage.
	ErrZeroU = errors.New("srp: scrambling parameter u is zero")
	// ErrInvalidVerifier means a verifier is 0 or not below N.
	ErrInvalidVerifier = errors.New("srp: invalid verifier")
	// ErrInvalidSecret means a restored server secret has the wrong length
	// or is 0.
	ErrInvalidSecret = errors.New("srp: invalid server secret")
	// ErrInvalidTimestamp means TIMESTAMP is not exactly in Cognito's format.
	ErrInvalidTimestamp = errors.New("srp: invalid TIMESTAMP")
)

// nHex is the RFC 3526 3072-bit MODP prime (group 15).
const nHex = "" +
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74" +
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437" +
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05" +
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB" +
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718" +
	"3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33" +
	"A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864" +
	"D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2" +
	"08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// The group and k never change, so they are built once. They are never
// mutated after init, which makes them safe to share between goroutines.
var (
	groupN = mustHex(nHex)
	groupG = big.NewInt(2)
	groupK = computeK()
)

// hkdfInfo is the HKDF info Cognito uses, with HKDF's block counter 0x01
// already appended: only the first block is ever needed.
var hkdfInfo = []byte("Caldera Derived Key\x01")

func mustHex(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("srp: bad constant " + s)
	}
	return n
}

// computeK returns k = H(PAD(N) | PAD(g)).
func computeK() *big.Int {
	h := sha256.New()
	writePadded(h, groupN)
	writePadded(h, groupG)
	return new(big.Int).SetBytes(h.Sum(nil))
}

// appendPadded appends PAD(x) for x >= 0: the minimal big-endian bytes,
// preceded by 0x00 when the top bit is set (so that a two's-complement
// reader sees a positive number). PAD(0) is a single 0x00, matching the
// client's "0" -> "00" hex.
func appendPadded(dst []byte, x *big.Int) []byte {
	n := (x.BitLen() + 7) / 8
	if n == 0 || x.BitLen()%8 == 0 {
		dst = append(dst, 0)
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	x.FillBytes(dst[start:])
	return dst
}

// writePadded writes PAD(x) to h.
func writePadded(h hash.Hash, x *big.Int) {
	h.Write(appendPadded(nil, x))
}

// GroupPrime returns a copy of N, the RFC 3526 3072-bit prime of the
// group (for clients and tests that need the group itself).
func GroupPrime() *big.Int { return new(big.Int).Set(groupN) }

// PoolName returns the part of a user pool ID that enters the SRP hashes:
// "us-east-1_AbCdEf123" gives "AbCdEf123". Like Amplify, which takes
// element 1 of userPoolId.split("_"), it returns "" when there is no "_"
// and stops at a second "_", which real pool IDs never contain.
func PoolName(poolID string) string {
	_, after, ok := strings.Cut(poolID, "_")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(after, "_")
	return name
}

// NewSalt returns SaltSize random bytes. Send it as SALT in hex; any leading
// zero bytes are harmless since both sides hash it as an integer.
func NewSalt() []byte {
	salt := make([]byte, SaltSize)
	rand.Read(salt) // never fails since Go 1.24: it crashes the program instead
	return salt
}

// Verifier returns the big-endian bytes of v = g^x mod N for a user, to be
// stored with the salt when the password is set. poolName is
// [PoolName](poolID) and userID is what the server will send as
// USER_ID_FOR_SRP; changing either invalidates v.
//
// salt is read as a big-endian integer, because the client parses SALT hex
// into an integer before padding it; leading zero bytes therefore do not
// count.
func Verifier(poolName, userID, password string, salt []byte) []byte {
	x := computeX(poolName, userID, password, new(big.Int).SetBytes(salt))
	return new(big.Int).Exp(groupG, x, groupN).Bytes()
}

// computeX returns x = H(PAD(salt) | H(poolName | userID | ":" | password)).
func computeX(poolName, userID, password string, salt *big.Int) *big.Int {
	inner := sha256.New()
	inner.Write([]byte(poolName))
	inner.Write([]byte(userID))
	inner.Write([]byte{':'})
	inner.Write([]byte(password))
	var sum [sha256.Size]byte

	outer := sha256.New()
	writePadded(outer, salt)
	outer.Write(inner.Sum(sum[:0]))
	return new(big.Int).SetBytes(outer.Sum(sum[:0]))
}

// computeU returns u = H(PAD(A) | PAD(B)), or ErrZeroU.
func computeU(A, B *big.Int) (*big.Int, error) {
	h := sha256.New()
	writePadded(h, A)
	writePadded(h, B)
	var sum [sha256.Size]byte
	u := new(big.Int).SetBytes(h.Sum(sum[:0]))
	if u.Sign() == 0 {
		return nil, ErrZeroU
	}
	return u, nil
}

// deriveKey returns K: the first 16 bytes of the first HKDF-SHA256 output
// block with salt PAD(u) and input key material PAD(S).
func deriveKey(u, S *big.Int) []byte {
	var salt [sha256.Size + 1]byte // u is a SHA-256 value, plus PAD's 00
	extract := hmac.New(sha256.New, appendPadded(salt[:0], u))
	writePadded(extract, S)
	var prk [sha256.Size]byte
	extract.Sum(prk[:0])

	expand := hmac.New(sha256.New, prk[:])
	expand.Write(hkdfInfo)
	return expand.Sum(nil)[:KeySize]
}

// parseHex parses unsigned hex of any case, which big.Int.SetString alone
// would not ensure (it also accepts a sign).
func parseHex(s string) (*big.Int, bool) {
	if s == "" {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return nil, false
		}
	}
	return new(big.Int).SetString(s, 16)
}

// isZeroModN reports whether x ≡ 0 (mod N), without allocating for the
// usual x in (0, N).
func isZeroModN(x *big.Int) bool {
	if x.Sign() > 0 && x.Cmp(groupN) < 0 {
		return false
	}
	return new(big.Int).Mod(x, groupN).Sign() == 0
}
