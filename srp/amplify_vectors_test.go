package srp

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"testing"
	"time"
)

// testdata/amplify_vectors.json holds known answers computed by Amplify JS
// v6's own SRP helpers (@aws-amplify/auth's internal AuthenticationHelper,
// calculateA/U/S, getPaddedHex, getNowString, getSignatureString), not by
// this package. testdata/gen_vectors.mjs regenerates it; see its header.
// The cases cover the padding edge cases: salt, A, B and S with the top bit
// set or clear, a salt and an S with a leading zero byte, a u shorter than
// 32 bytes, an odd-length SRP_A, and non-ASCII user IDs and passwords.

type amplifyVectors struct {
	Generator string          `json:"generator"`
	N         string          `json:"N"`
	K         string          `json:"k"`
	Cases     []amplifyVector `json:"cases"`
}

type amplifyVector struct {
	Name        string `json:"name"`
	PoolID      string `json:"poolId"`
	PoolName    string `json:"poolName"`
	UserID      string `json:"userId"`
	Password    string `json:"password"`
	Salt        string `json:"salt"` // hex as sent in SALT
	A           string `json:"a"`
	B           string `json:"b"`
	X           string `json:"x"`
	V           string `json:"v"`
	PubA        string `json:"A"` // SRP_A exactly as Amplify sends it
	PubB        string `json:"B"`
	U           string `json:"u"`
	S           string `json:"S"`
	Key         string `json:"K"`
	SecretBlock string `json:"secretBlock"`
	TimeUnixMs  int64  `json:"timeUnixMs"`
	Timestamp   string `json:"timestamp"`
	Signature   string `json:"signature"`
}

func loadAmplifyVectors(t testing.TB) amplifyVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/amplify_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs amplifyVectors
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs.Cases) < 5 {
		t.Fatalf("only %d vectors", len(vs.Cases))
	}
	return vs
}

func hexInt(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex in vectors: %q", s)
	}
	return n
}

func TestAmplifyGroup(t *testing.T) {
	vs := loadAmplifyVectors(t)
	if got := groupN.Text(16); got != vs.N {
		t.Errorf("N differs from Amplify's INIT_N")
	}
	if got := groupK.Text(16); got != vs.K {
		t.Errorf("k = %s, Amplify has %s", got, vs.K)
	}
}

func TestAmplifyVectors(t *testing.T) {
	vs := loadAmplifyVectors(t)
	for _, tc := range vs.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			if got := PoolName(tc.PoolID); got != tc.PoolName {
				t.Fatalf("PoolName(%q) = %q, want %q", tc.PoolID, got, tc.PoolName)
			}
			salt, err := hex.DecodeString(tc.Salt)
			if err != nil {
				t.Fatal(err)
			}
			if got := computeX(tc.PoolName, tc.UserID, tc.Password, new(big.Int).SetBytes(salt)).Text(16); got != tc.X {
				t.Errorf("x = %s, want %s", got, tc.X)
			}
			verifier := Verifier(tc.PoolName, tc.UserID, tc.Password, salt)
			if got := new(big.Int).SetBytes(verifier).Text(16); got != tc.V {
				t.Errorf("v = %s, want %s", got, tc.V)
			}

			// Client side, with Amplify's a.
			c, err := newClient(tc.PoolID, hexInt(t, tc.A))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AHex(); got != tc.PubA {
				t.Errorf("SRP_A = %s, want %s", got, tc.PubA)
			}
			u, S, clientKey, err := c.compute(tc.UserID, tc.Password, tc.Salt, tc.PubB)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Text(16); got != tc.U {
				t.Errorf("client u = %s, want %s", got, tc.U)
			}
			if got := S.Text(16); got != tc.S {
				t.Errorf("client S = %s, want %s", got, tc.S)
			}
			if got := hex.EncodeToString(clientKey); got != tc.Key {
				t.Errorf("client K = %s, want %s", got, tc.Key)
			}

			// Server side, with the b the vectors' B was made from.
			secret := hexInt(t, tc.B).FillBytes(make([]byte, SecretSize))
			s, err := RestoreServerSession(verifier, secret)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.BHex(); got != tc.PubB {
				t.Errorf("SRP_B = %s, want %s", got, tc.PubB)
			}
			A, err := ParseA(tc.PubA)
			if err != nil {
				t.Fatal(err)
			}
			key, err := s.Key(A)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(key); got != tc.Key {
				t.Errorf("server K = %s, want %s", got, tc.Key)
			}

			// Timestamp and signature.
			now := time.UnixMilli(tc.TimeUnixMs)
			if got := FormatTimestamp(now); got != tc.Timestamp {
				t.Errorf("FormatTimestamp = %q, Amplify says %q", got, tc.Timestamp)
			}
			if got, err := ParseTimestamp(tc.Timestamp); err != nil || !got.Equal(now) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tc.Timestamp, got, err, now.UTC())
			}
			block, err := base64.StdEncoding.DecodeString(tc.SecretBlock)
			if err != nil {
				t.Fatal(err)
			}
			if got := base64.StdEncoding.EncodeToString(Signature(key, tc.PoolName, tc.UserID, block, tc.Timestamp)); got != tc.Signature {
				t.Errorf("Signature = %s, want %s", got, tc.Signature)
			}
			if !VerifySignature(key, tc.PoolName, tc.UserID, block, tc.Timestamp, tc.Signature) {
				t.Error("VerifySignature rejected Amplify's signature")
			}
			sig, ts, err := c.Respond(tc.UserID, tc.Password, tc.Salt, tc.PubB, tc.SecretBlock, now)
			if err != nil || sig != tc.Signature || ts != tc.Timestamp {
				t.Errorf("Respond = %q, %q, %v; want %q, %q", sig, ts, err, tc.Signature, tc.Timestamp)
			}
		})
	}
}
