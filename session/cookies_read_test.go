package session

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEachCookie(t *testing.T) {
	var got []string
	eachCookie([]string{" a=1; b = 2 ;a=3;;noeq; =x; c==d; e=\"q\"", "f=6"}, func(n, v string) {
		got = append(got, n+"|"+v)
	})
	want := "a|1,b|2,a|3,c|=d,e|\"q\",f|6"
	if strings.Join(got, ",") != want {
		t.Errorf("eachCookie: %s, want %s", strings.Join(got, ","), want)
	}
}

func FuzzCookieHeader(f *testing.F) {
	f.Add("CognitoIdentityServiceProvider.client1.LastAuthUser=a%40b; CognitoIdentityServiceProvider.client1.a%40b.accessToken=x.y.z")
	f.Add("a=1;;b; =; c==; CognitoIdentityServiceProvider.client1.u.idToken=%chunks:2; CognitoIdentityServiceProvider.client1.u.idToken.1=b")
	f.Add("CognitoIdentityServiceProvider.client1.%ZZ.accessToken=%FF; \"=\"")
	m := testManager(ModeServer)
	f.Fuzz(func(t *testing.T, header string) {
		eachCookie([]string{header}, func(n, v string) {
			if n == "" || strings.ContainsRune(n, ';') || strings.ContainsRune(v, ';') {
				t.Fatalf("bad pair %q=%q", n, v)
			}
		})
		j := m.readJar(&http.Request{Header: http.Header{"Cookie": {header}}})
		if j == nil {
			return
		}
		for _, u := range append(j.users(), j.lastAuthUsers()...) {
			for _, k := range userKeys {
				vals, _ := j.values(u, k)
				if len(vals) > maxCandidates {
					t.Fatalf("%d candidates", len(vals))
				}
				for _, v := range vals {
					if !utf8.ValidString(v) {
						t.Fatalf("invalid UTF-8 value %q", v)
					}
				}
			}
		}
	})
}
