package reqid

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler{slog.NewTextHandler(&buf, nil)}).With("component", "x")
	id := New()
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("id %q is not UUID-shaped", id)
	}
	log.InfoContext(With(context.Background(), id), "hello")
	log.InfoContext(context.Background(), "no id")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.Contains(lines[0], "request_id="+id) || !strings.Contains(lines[0], "component=x") {
		t.Fatalf("line with id: %s", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Fatalf("line without id: %s", lines[1])
	}
	if From(context.Background()) != "" || From(With(context.Background(), "a")) != "a" {
		t.Fatal("From")
	}
}
