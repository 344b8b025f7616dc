package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
)

func TestEnvDefaultsFillUnsetFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	addr := fs.String("addr", "def", "")
	url := fs.String("public-url", "def", "")
	prod := fs.Bool("production", false, "")
	t.Setenv("COGNATE_ADDR", "from-env")
	t.Setenv("COGNATE_PUBLIC_URL", "https://id.example.com")
	t.Setenv("COGNATE_PRODUCTION", "true")
	if err := fs.Parse([]string{"-addr", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if err := envDefaults(fs); err != nil {
		t.Fatal(err)
	}
	if *addr != "from-flag" || *url != "https://id.example.com" || !*prod {
		t.Fatalf("addr=%s url=%s production=%v", *addr, *url, *prod)
	}
	t.Setenv("COGNATE_PRODUCTION", "maybe")
	fs2 := flag.NewFlagSet("t", flag.ContinueOnError)
	fs2.Bool("production", false, "")
	fs2.Parse(nil)
	if err := envDefaults(fs2); err == nil || !strings.Contains(err.Error(), "COGNATE_PRODUCTION") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, &out, &errb); err == nil || !strings.Contains(errb.String(), "usage") {
		t.Fatalf("err=%v stderr=%s", err, errb.String())
	}
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "cognate ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}
