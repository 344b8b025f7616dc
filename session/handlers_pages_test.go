package session

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBounceEscapesItsTarget: the page that follows the sign-in callback
// writes its (same-origin) target into an attribute, a link and a script,
// escaped for each, so no target can close them.
func TestBounceEscapesItsTarget(t *testing.T) {
	m := &Manager{log: slog.New(slog.DiscardHandler)}
	target := `/p?q=</script><script>alert(1)</script>&r="'><img src=x onerror=alert(2)>`
	if safePath(target) != target {
		t.Fatalf("the target is not a same-origin path the library would keep")
	}
	rec := httptest.NewRecorder()
	m.bounce(rec, target)
	body := rec.Body.String()
	for _, bad := range []string{"<script>alert(1)", "</script><script>", `"'><img`, "<img src=x"} {
		if strings.Contains(body, bad) {
			t.Errorf("the bounce page carries %q unescaped:\n%s", bad, body)
		}
	}
	if rec.Header().Get("Cache-Control") != "private, no-store" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
}
