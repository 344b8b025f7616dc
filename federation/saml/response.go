package saml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespaces of the elements inspect counts.
const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// decodeResponse decodes the SAMLResponse form value (base64, line
// breaks allowed).
func decodeResponse(raw string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', ' ', '\t':
			return -1
		}
		return r
	}, raw)
	doc, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLResponse is not base64: %w", ErrMalformed, err)
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, fmt.Errorf("%w: empty SAMLResponse", ErrMalformed)
	}
	return doc, nil
}

// shape is what inspect saw of a response.
type shape struct {
	assertions int  // Assertion and EncryptedAssertion elements, at any depth
	encrypted  bool // the one assertion is an EncryptedAssertion
	// signed: the root or a plaintext assertion has a Signature child
	// (whether it verifies is crewjam/saml's to say).
	signed bool
}

// inspect reads the whole response before crewjam/saml does and refuses
// what a genuine IdP never sends and attacks rely on, as defence in depth
// behind crewjam/saml's own checks:
//   - XML comments: inside a signed NameID they are dropped by exclusive
//     canonicalisation, so "user@evil.com<!---->.trusted.com" still
//     verifies, and a reader that stops at the comment sees another user;
//   - a DOCTYPE or processing instructions (entity tricks);
//   - more than one assertion anywhere (signature wrapping hides a forged
//     assertion next to, or around, the signed one).
func inspect(doc []byte) (shape, error) {
	var sh shape
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	depth := 0
	// assertionDepth is the depth of the open plaintext Assertion, if any.
	assertionDepth := -1
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sh, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Comment:
			return sh, fmt.Errorf("%w: XML comment", ErrMalformed)
		case xml.Directive:
			return sh, fmt.Errorf("%w: XML directive", ErrMalformed)
		case xml.ProcInst:
			if t.Target != "xml" || depth > 0 {
				return sh, fmt.Errorf("%w: processing instruction", ErrMalformed)
			}
		case xml.StartElement:
			depth++
			if t.Name.Space == nsAssertion && (t.Name.Local == "Assertion" || t.Name.Local == "EncryptedAssertion") {
				sh.assertions++
				sh.encrypted = t.Name.Local == "EncryptedAssertion"
				if !sh.encrypted {
					assertionDepth = depth
				}
			}
			if t.Name.Space == nsDSig && t.Name.Local == "Signature" && (depth == 2 || depth == assertionDepth+1) {
				sh.signed = true
			}
		case xml.EndElement:
			if depth == assertionDepth {
				assertionDepth = -1
			}
			depth--
		}
	}
	if sh.assertions > 1 {
		return sh, fmt.Errorf("%w: %d assertions", ErrMalformed, sh.assertions)
	}
	return sh, nil
}
