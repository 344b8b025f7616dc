package userpool

import (
	"errors"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// FuzzOpenMFASession feeds arbitrary MFA challenge Sessions (client id,
// dot, sealed state) to openMFAState: nothing panics, a refusal is one of
// the Session errors, and nothing opens but a Session sealed for this
// client and challenge.
//
//	go test ./userpool -run '^$' -fuzz FuzzOpenMFASession -fuzztime 15s
func FuzzOpenMFASession(f *testing.F) {
	sl, err := newSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s := &Service{sealer: sl, now: func() time.Time { return now }}
	p := storage.Pool{ID: "us-east-1_fuzz"}
	c := storage.Client{ClientID: "client1", PoolID: p.ID}
	genuine, err := s.sealMFAState(p, c, mfaState{Username: "ann", Challenge: factorTOTP})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{genuine, "", ".", "client1.", "client1.AAAA", "other." + genuine[len("client1."):], genuine + "x"} {
		f.Add(seed, factorTOTP)
	}
	f.Add(genuine, challengeMFASetup)
	f.Fuzz(func(t *testing.T, session, challenge string) {
		st, err := s.openMFAState(p, c, session, challenge)
		if err != nil {
			if !errors.Is(err, ErrNotAuthorized) && !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("openMFAState = %v", err)
			}
			return
		}
		if challenge != factorTOTP || st.Username != "ann" || st.Challenge != factorTOTP {
			t.Fatalf("opened a Session not sealed for this use: %q %q → %+v", session, challenge, st)
		}
	})
}
