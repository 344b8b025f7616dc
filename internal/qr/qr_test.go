package qr

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

func TestTOTPURI(t *testing.T) {
	for _, tc := range []struct{ issuer, account, secret, wantPath string }{
		{"Cognate", "alice", "JBSWY3DPEHPK3PXP", "/Cognate:alice"},
		{"My App", "a b@example.com", "ABC", "/My App:a b@example.com"},
	} {
		u, err := url.Parse(TOTPURI(tc.issuer, tc.account, tc.secret))
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != tc.wantPath ||
			u.Query().Get("secret") != tc.secret || u.Query().Get("issuer") != tc.issuer {
			t.Errorf("TOTPURI(%q, %q) = %s", tc.issuer, tc.account, u)
		}
	}
}

func TestSVG(t *testing.T) {
	svg, err := SVG(TOTPURI("Cognate", "alice", "JBSWY3DPEHPK3PXP"), `scan "me" <now>`)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	if !strings.HasPrefix(s, "<svg ") || !strings.HasSuffix(s, "</svg>") || !strings.Contains(s, `d="M`) {
		t.Fatalf("not one SVG with a path: %.120s", s)
	}
	if strings.Contains(s, `"me"`) || strings.Contains(s, "<now>") {
		t.Fatalf("title not escaped: %.200s", s)
	}
	if _, err := SVG(strings.Repeat("x", 5000), "too long"); err == nil {
		t.Fatal("content past a QR code's capacity was encoded")
	}
}

// TestSVGModules draws the path back into modules and compares them
// with the encoder's own matrix.
func TestSVGModules(t *testing.T) {
	const content = "otpauth://totp/Cognate:alice?secret=JBSWY3DPEHPK3PXP"
	svg, err := SVG(content, "t")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := qrcode.New(content, qrcode.Medium)
	code.DisableBorder = true
	want := code.Bitmap()
	got := make([][]bool, len(want))
	for i := range got {
		got[i] = make([]bool, len(want))
	}
	_, d, _ := strings.Cut(string(svg), `d="`)
	d, _, _ = strings.Cut(d, `"`)
	for _, cmd := range strings.Split(strings.TrimSuffix(d, "z"), "z") {
		var x, y, w, w2 int
		if _, err := fmt.Sscanf(cmd, "M%d %dh%dv1h-%d", &x, &y, &w, &w2); err != nil || w != w2 {
			t.Fatalf("path command %q: %v", cmd, err)
		}
		for i := x - 4; i < x-4+w; i++ {
			got[y-4][i] = true
		}
	}
	for y := range want {
		for x := range want[y] {
			if got[y][x] != want[y][x] {
				t.Fatalf("module (%d,%d) = %v, want %v", x, y, got[y][x], want[y][x])
			}
		}
	}
}
