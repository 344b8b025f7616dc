// Package passkeytest is a software WebAuthn authenticator for tests: an
// ECDSA P-256 passkey that answers Cognito's CredentialCreationOptions
// and CREDENTIAL_REQUEST_OPTIONS with the RegistrationResponseJSON and
// AuthenticationResponseJSON a browser would send, and can be told to
// forge them (another origin or RP id, a stale challenge, a bad
// signature, a sign count of its choosing). CBOR is encoded by the
// WebAuthn library's encoder.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

var b64 = base64.RawURLEncoding

// Authenticator is one passkey.
type Authenticator struct {
	key *ecdsa.PrivateKey
	// ID is the credential id.
	ID []byte
	// UserHandle is the user.id the passkey was created for.
	UserHandle []byte
	// RPID is the relying party the passkey was created for.
	RPID string
	// Count is the signature counter, incremented before each assertion.
	Count uint32
}

// Forge changes what a ceremony sends, to test refusals. The zero value
// forges nothing.
type Forge struct {
	// Origin replaces the page origin in clientDataJSON.
	Origin string
	// RPID replaces the RP id whose hash the authenticator data carries.
	RPID string
	// Challenge replaces the challenge in clientDataJSON.
	Challenge string
	// BadSignature flips a bit of the signature.
	BadSignature bool
	// Count, when set, is the sign count sent instead of the next one.
	Count *uint32
	// NoUserVerification clears the UV flag.
	NoUserVerification bool
}

// creationOptions are the parts of CredentialCreationOptions an
// authenticator reads.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

// requestOptions are the parts of CREDENTIAL_REQUEST_OPTIONS it reads.
type requestOptions struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
}

// Register creates a passkey from CredentialCreationOptions (JSON) as a
// page at origin would, and returns it with the RegistrationResponseJSON
// to send to CompleteWebAuthnRegistration.
func Register(options []byte, origin string, f Forge) (*Authenticator, []byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, fmt.Errorf("creation options: %w", err)
	}
	handle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user.id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	a := &Authenticator{key: key, ID: make([]byte, 32), UserHandle: handle, RPID: o.RP.ID}
	if _, err := rand.Read(a.ID); err != nil {
		return nil, nil, err
	}
	ecdh, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, nil, err
	}
	point := ecdh.Bytes() // 0x04 ‖ X ‖ Y
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, // P-256
		XCoord:        point[1:33], YCoord: point[33:],
	})
	if err != nil {
		return nil, nil, err
	}
	attested := append(make([]byte, 16), byte(len(a.ID)>>8), byte(len(a.ID))) // AAGUID of zeros
	attested = append(append(attested, a.ID...), cose...)
	authData := a.authData(f, 0x40, a.Count, attested)
	attObj, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, authData})
	if err != nil {
		return nil, nil, err
	}
	cd := clientData("webauthn.create", o.Challenge, origin, f)
	body, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(attObj),
			"transports": []string{"internal", "hybrid"},
		},
	})
	return a, body, err
}

// Assert signs CREDENTIAL_REQUEST_OPTIONS (JSON) as a page at origin
// would and returns the AuthenticationResponseJSON to send as CREDENTIAL.
func (a *Authenticator) Assert(options []byte, origin string, f Forge) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	count := a.Count + 1
	if f.Count != nil {
		count = *f.Count
	} else {
		a.Count = count
	}
	authData := a.authData(f, 0, count, nil)
	cd := clientData("webauthn.get", o.Challenge, origin, f)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, authData...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		return nil, err
	}
	if f.BadSignature {
		sig[len(sig)-1] ^= 1
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(authData),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.UserHandle),
		},
	})
}

// authData is rpIdHash ‖ flags ‖ signCount ‖ attested (WebAuthn §6.1):
// user present and verified, plus extra flags.
func (a *Authenticator) authData(f Forge, extra byte, count uint32, attested []byte) []byte {
	rp := a.RPID
	if f.RPID != "" {
		rp = f.RPID
	}
	h := sha256.Sum256([]byte(rp))
	flags := 0x01 | 0x04 | extra
	if f.NoUserVerification {
		flags &^= 0x04
	}
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

func clientData(typ, challenge, origin string, f Forge) []byte {
	if f.Origin != "" {
		origin = f.Origin
	}
	if f.Challenge != "" {
		challenge = f.Challenge
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}
