package saml_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/saml"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

// TestCheckDetails: provider details are checked as Cognito checks them,
// and described with what Cognito adds.
func TestCheckDetails(t *testing.T) {
	e := newEnv(t, map[string]string{})
	resp, err := http.Get(e.idpSrv.URL + "/metadata")
	if err != nil {
		t.Fatal(err)
	}
	file := readPage(t, resp, http.StatusOK)
	url := e.idpSrv.URL + "/metadata"
	cases := []struct {
		name    string
		details map[string]string
		want    error
	}{
		{"metadata URL", map[string]string{"MetadataURL": url}, nil},
		{"metadata file, every option", map[string]string{"MetadataFile": file, "IDPSignout": "true", "EncryptedResponses": "true", "RequestSigningAlgorithm": "rsa-sha256", "IDPInit": "false"}, nil},
		{"neither", map[string]string{"IDPSignout": "true"}, saml.ErrInvalidDetails},
		{"both", map[string]string{"MetadataURL": url, "MetadataFile": file}, saml.ErrInvalidDetails},
		{"bad boolean", map[string]string{"MetadataURL": url, "IDPInit": "yes"}, saml.ErrInvalidDetails},
		{"other algorithm", map[string]string{"MetadataURL": url, "RequestSigningAlgorithm": "rsa-sha1"}, saml.ErrInvalidDetails},
		{"unknown key", map[string]string{"MetadataURL": url, "client_id": "x"}, saml.ErrInvalidDetails},
		{"not metadata", map[string]string{"MetadataFile": "<html/>"}, saml.ErrMetadata},
		{"SP metadata, not an IdP's", map[string]string{"MetadataFile": spMetadata(t, e)}, saml.ErrMetadata},
		{"metadata file too long", map[string]string{"MetadataFile": strings.Repeat(" ", 131073)}, saml.ErrInvalidDetails},
		{"http URL off loopback", map[string]string{"MetadataURL": "http://idp.example/metadata"}, saml.ErrMetadata},
		{"ftp URL", map[string]string{"MetadataURL": "ftp://127.0.0.1/metadata"}, saml.ErrMetadata},
		{"URL answering 404", map[string]string{"MetadataURL": e.idpSrv.URL + "/nothing"}, saml.ErrMetadataUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.Check(t.Context(), federation.Provider{PoolID: testPool, Name: testProvider, Type: federation.TypeSAML, Details: tc.details})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			if got[saml.DetailSSORedirectBindingURI] != e.idpSrv.URL+"/sso" || got[saml.DetailSLORedirectBindingURI] != e.idpSrv.URL+"/slo" {
				t.Errorf("described = %v", got)
			}
			cert := got[saml.DetailActiveEncryptionCertificate]
			if (cert != "") != (tc.details["EncryptedResponses"] == "true") {
				t.Errorf("ActiveEncryptionCertificate = %q", cert)
			}
			if cert != "" {
				der, err := base64.StdEncoding.DecodeString(cert)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := x509.ParseCertificate(der); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if !errors.Is(saml.ErrMetadataUnavailable, federation.ErrUnavailable) || !errors.Is(saml.ErrMetadata, federation.ErrConfig) || !errors.Is(saml.ErrInvalidDetails, federation.ErrConfig) {
		t.Fatal("sentinels do not wrap the seam's")
	}
}

func spMetadata(t *testing.T, e *env) string {
	b, err := e.svc.Metadata(t.Context(), e.provider())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestKeysKeptAndShared: the pool's signing certificate is made once and
// read back by every Service on the store (every node); a production
// Service refuses http metadata even on loopback.
func TestKeysKeptAndShared(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var certs []string
	for range 2 {
		svc, err := saml.New(saml.Options{Store: store, BaseURL: "https://auth.example"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := svc.SigningCertificate(ctx, testPool)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if certs[0] == "" || certs[0] != certs[1] {
		t.Fatalf("signing certificates differ between nodes: %.20s… vs %.20s…", certs[0], certs[1])
	}
	der, _ := base64.StdEncoding.DecodeString(certs[0])
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life < 9*365*24*time.Hour {
		t.Errorf("certificate valid for %v, want ten years as Cognito's", life)
	}

	prod, err := saml.New(saml.Options{Store: store, BaseURL: "https://auth.example", Production: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = prod.Check(ctx, federation.Provider{PoolID: testPool, Name: "P", Details: map[string]string{"MetadataURL": "http://127.0.0.1:1/metadata"}})
	if !errors.Is(err, saml.ErrMetadata) {
		t.Fatalf("production, http loopback metadata: %v, want ErrMetadata", err)
	}
}

// TestMetadataFetchBounded: a metadata URL is fetched within bounds of
// size and time, cached, and fetched again after its refresh period; a
// failed refresh keeps the copy it has for a while.
func TestMetadataFetchBounded(t *testing.T) {
	e := newEnv(t, map[string]string{})
	resp, err := http.Get(e.idpSrv.URL + "/metadata")
	if err != nil {
		t.Fatal(err)
	}
	doc := readPage(t, resp, http.StatusOK)

	var fetches atomic.Int32
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			_, _ = w.Write([]byte(strings.Repeat("<x/>", 1<<19)))
		case "/slow":
			time.Sleep(3 * time.Second)
		case "/redirect-away":
			http.Redirect(w, r, "http://idp.example/metadata", http.StatusFound)
		default:
			fetches.Add(1)
			if broken.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(doc))
		}
	}))
	t.Cleanup(srv.Close)

	now := time.Now()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := saml.New(saml.Options{Store: store, BaseURL: "http://127.0.0.1", HTTPClient: &http.Client{Timeout: time.Second}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string) error {
		_, err := svc.New(ctx, federation.Provider{PoolID: testPool, Name: testProvider, Details: map[string]string{"MetadataURL": srv.URL + path}})
		return err
	}
	for path, want := range map[string]error{"/huge": saml.ErrMetadata, "/slow": saml.ErrMetadataUnavailable, "/redirect-away": saml.ErrMetadataUnavailable} {
		if err := check(path); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
	for range 3 {
		if err := check("/md"); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for three uses within the refresh period, want 1", n)
	}
	now = now.Add(2 * time.Hour)
	broken.Store(true)
	if err := check("/md"); err != nil {
		t.Fatalf("failed refresh with a recent copy: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the refresh period, want 2", n)
	}
	now = now.Add(48 * time.Hour)
	if err := check("/md"); !errors.Is(err, saml.ErrMetadataUnavailable) {
		t.Fatalf("failed refresh with a stale copy: %v, want ErrMetadataUnavailable", err)
	}
}
