package sqlite

import (
	"path/filepath"
	"testing"
)

func TestPing(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "cognate.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping of an open store: %v", err)
	}
	s.Close()
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping of a closed store succeeded")
	}
}
