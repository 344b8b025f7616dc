// Package qr renders the QR code of an authenticator-app setup link as
// inline SVG, the one way the managed login pages, the session library's
// pages and the demo show a TOTP secret to scan. SVG needs no image
// route and no data: URL, so the pages' Content-Security-Policy stays
// as strict as it is.
package qr

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// TOTPURI is the otpauth:// link authenticator apps read, in the form
// Amplify's getSetupUri builds: the label "issuer:account", the secret
// (unpadded base32, as AssociateSoftwareToken returns it) and the issuer.
func TOTPURI(issuer, account, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{"secret": {secret}, "issuer": {issuer}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// SVG is content's QR code (medium error correction, a four-module quiet
// zone) as one <svg> element of one path, sized by the page's CSS. The
// title is the accessible name.
func SVG(content, title string) (template.HTML, error) {
	code, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qr: %w", err)
	}
	code.DisableBorder = true
	bits := code.Bitmap()
	const quiet = 4
	n := len(bits) + 2*quiet
	var d strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", start+quiet, y+quiet, x-start, x-start)
		}
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, template.HTMLEscapeString(title), n, n, d.String())
	return template.HTML(svg), nil
}
