package jws

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

var enc = base64.RawURLEncoding

// seg encodes one segment.
func seg(s string) string { return enc.EncodeToString([]byte(s)) }

// Segments of a well-formed token; the signature is any 256 bytes, as
// Parse does not verify it.
var (
	goodHeader  = seg(`{"kid":"k1","alg":"RS256"}`)
	goodPayload = seg(`{"sub":"s","exp":2000000000}`)
	goodSig     = enc.EncodeToString(bytes.Repeat([]byte{0xa5}, 256))
	good        = goodHeader + "." + goodPayload + "." + goodSig
)

func TestParse(t *testing.T) {
	tok, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if tok.KID != "k1" || tok.SigningInput != goodHeader+"."+goodPayload || tok.Payload != goodPayload ||
		!bytes.Equal(tok.Signature, bytes.Repeat([]byte{0xa5}, 256)) {
		t.Fatalf("Parse = %+v", tok)
	}
	payload, err := tok.DecodePayload()
	if err != nil || string(payload) != `{"sub":"s","exp":2000000000}` {
		t.Fatalf("DecodePayload = %s, %v", payload, err)
	}
	// Header members in another order, and others beside them.
	if _, err := Parse(seg(`{"typ":"JWT","alg":"RS256","kid":"k1"}`) + "." + goodPayload + "." + goodSig); err != nil {
		t.Fatalf("header with typ: %v", err)
	}
}

// TestParseRefuses lists what Parse refuses and the reason its error
// gives (logs depend on it).
func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, token, why string
	}{
		{"empty", "", "1 segments"},
		{"two segments", goodHeader + "." + goodPayload, "2 segments"},
		{"four segments", good + "." + goodSig, "4 segments"},
		{"dots only", "..", "empty segment"},
		{"empty header", "." + goodPayload + "." + goodSig, "empty segment"},
		{"empty payload", goodHeader + ".." + goodSig, "empty segment"},
		{"alg none, no signature", seg(`{"alg":"none","kid":"k1"}`) + "." + goodPayload + ".", "empty segment"},
		{"alg none", seg(`{"alg":"none","kid":"k1"}`) + "." + goodPayload + "." + goodSig, "alg"},
		{"alg HS256", seg(`{"alg":"HS256","kid":"k1"}`) + "." + goodPayload + "." + goodSig, "alg"},
		{"alg missing", seg(`{"kid":"k1"}`) + "." + goodPayload + "." + goodSig, "alg"},
		{"long alg is cut", seg(`{"alg":"`+strings.Repeat("X", 100)+`","kid":"k1"}`) + "." + goodPayload + "." + goodSig, `"XXXXXXXXXXXXXXXXXXXX" is not`},
		{"no kid", seg(`{"alg":"RS256"}`) + "." + goodPayload + "." + goodSig, "no kid"},
		{"empty kid", seg(`{"alg":"RS256","kid":""}`) + "." + goodPayload + "." + goodSig, "no kid"},
		{"crit", seg(`{"alg":"RS256","kid":"k1","crit":["b64"]}`) + "." + goodPayload + "." + goodSig, "critical"},
		{"crit null", seg(`{"alg":"RS256","kid":"k1","crit":null}`) + "." + goodPayload + "." + goodSig, "critical"},
		{"header not JSON", seg("RS256") + "." + goodPayload + "." + goodSig, "header"},
		{"header a JSON array", seg(`["RS256"]`) + "." + goodPayload + "." + goodSig, "header"},
		{"alg not a string", seg(`{"alg":1,"kid":"k1"}`) + "." + goodPayload + "." + goodSig, "header"},
		{"header of bad length", "A." + goodPayload + "." + goodSig, "header"},
		{"signature with padding", good + "==", "base64url"},
		{"standard base64 letters", good + "+", "base64url"},
		{"newline inside", goodHeader + ".\n" + goodPayload + "." + goodSig, "base64url"},
		{"space inside", goodHeader + ". " + goodPayload + "." + goodSig, "base64url"},
		{"signature of bad length", good + "AAA", "signature"},
		{"signature with trailing bits", goodHeader + "." + goodPayload + ".AB", "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", tok)
			}
			if !isZero(tok) {
				t.Fatalf("error %v with a token %+v", err, tok)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("refused for %q, want a reason mentioning %q", err, tc.why)
			}
		})
	}
}

// TestDecodePayload: Parse checks only the payload's alphabet, so
// decoding can still fail, and says it was the payload.
func TestDecodePayload(t *testing.T) {
	for _, p := range []string{"A", "AB"} { // bad length; non-zero trailing bits
		tok, err := Parse(goodHeader + "." + p + "." + goodSig)
		if err != nil {
			t.Fatalf("payload %q: Parse: %v", p, err)
		}
		if _, err := tok.DecodePayload(); err == nil || !strings.Contains(err.Error(), "payload") {
			t.Fatalf("payload %q: DecodePayload error %v", p, err)
		}
	}
}

func isZero(t Token) bool {
	return t.KID == "" && t.SigningInput == "" && t.Payload == "" && t.Signature == nil
}

// FuzzParse feeds arbitrary strings to Parse (it serves keys.Verify and
// tokenverify.Verify alike): no panic, and what it accepts is exactly
// three segments of canonical base64url whose parts it returns
// faithfully.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		good, "", ".", "..", "a.b.c", "e30.e30.e30",
		goodHeader + "." + goodPayload + ".",
		goodHeader + "." + goodPayload,
		goodHeader + "..." + goodSig,
		good + "." + goodSig,
		good + "=",
		goodHeader + ".\r\n" + goodPayload + "." + goodSig,
		seg(`{"alg":"none","kid":"k1"}`) + "." + goodPayload + ".",
		seg(`{"alg":"HS256","kid":"k1"}`) + "." + goodPayload + "." + goodSig,
		seg(`{"alg":"RS256","kid":"k1","crit":["b64"]}`) + "." + goodPayload + "." + goodSig,
		seg(`{"alg":"RS256"}`) + "." + goodPayload + "." + goodSig,
		seg(`{"ALG":"RS256","KID":"k1"}`) + "." + goodPayload + "." + goodSig,
		seg(`{"alg":"RS256","kid":"k1","alg":"none"}`) + "." + goodPayload + "." + goodSig,
		goodHeader + "." + seg(`{"exp":1e999}`) + "." + goodSig,
		strings.Repeat("A", 100) + "." + goodPayload + "." + goodSig,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := Parse(token)
		if err != nil {
			if !isZero(tok) {
				t.Fatalf("error %v with a token %+v", err, tok)
			}
			return
		}
		h, rest, _ := strings.Cut(token, ".")
		p, s, _ := strings.Cut(rest, ".")
		if strings.Count(token, ".") != 2 || h == "" || p == "" || s == "" {
			t.Fatalf("accepted %q, which is not three non-empty segments", token)
		}
		if tok.KID == "" || tok.SigningInput != h+"."+p || tok.Payload != p {
			t.Fatalf("Parse(%q) = %+v", token, tok)
		}
		// Canonical base64url: decoding and encoding again gives the
		// segment back, so no two accepted strings carry one signature.
		if enc.EncodeToString(tok.Signature) != s {
			t.Fatalf("signature segment %q is not the encoding of what Parse returned", s)
		}
		if hdr, err := enc.DecodeString(h); err != nil || enc.EncodeToString(hdr) != h {
			t.Fatalf("header segment %q accepted but not canonical base64url", h)
		}
		if strings.ContainsAny(p, "\r\n=+/") {
			t.Fatalf("payload segment %q accepted with bytes outside base64url", p)
		}
		if payload, err := tok.DecodePayload(); err == nil && enc.EncodeToString(payload) != p {
			t.Fatalf("payload segment %q decoded but not canonical", p)
		}
	})
}
