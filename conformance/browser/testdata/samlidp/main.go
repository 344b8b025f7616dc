// Command samlidp runs a real SAML 2.0 identity provider for the browser
// suite: crewjam/saml's samlidp, with its own user store (one user, given
// by flags), on loopback. It prints its base URL on the first line of its
// output and serves until killed.
//
// Its administrative endpoints are open (it listens on loopback only): a
// test registers the pool's service provider metadata with
// PUT /services/<id> and the IdP's metadata is at /metadata. It lives
// under testdata so that it is never part of the cognate binary; run it
// with `go run ./conformance/browser/testdata/samlidp`.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"time"

	"github.com/crewjam/saml/samlidp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	user := flag.String("user", "alice", "the IdP user's name")
	password := flag.String("password", "", "the IdP user's password (required)")
	email := flag.String("email", "alice@corp.example", "the IdP user's email, sent as NameID")
	flag.Parse()
	if *password == "" {
		log.Fatal("samlidp: -password is required")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		log.Fatal("samlidp: listens on loopback only (its admin endpoints are open)")
	}
	base, _ := url.Parse("http://" + ln.Addr().String())
	key, cert, err := keyPair()
	if err != nil {
		log.Fatal(err)
	}
	idp, err := samlidp.New(samlidp.Options{URL: *base, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{}})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"name": *user, "password": *password, "email": *email, "given_name": *user})
	rec := httptest.NewRecorder()
	idp.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/users/"+url.PathEscape(*user), bytes.NewReader(body)))
	if rec.Code != http.StatusNoContent {
		log.Fatalf("samlidp: create user: %d %s", rec.Code, rec.Body)
	}
	fmt.Fprintln(os.Stdout, base.String())
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func keyPair() (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cognate test IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}
