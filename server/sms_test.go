package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/triggers"
	"github.com/cognate-auth/cognate/userpool"
)

// TestSMSWebhook: a text message goes to the webhook as signed JSON; a
// receiver's failure keeps it undelivered (an error, so the queue tries
// again); bad settings are refused at start.
func TestSMSWebhook(t *testing.T) {
	key := []byte("0123456789abcdef0123")
	var got smsEvent
	status := http.StatusOK
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := triggers.Verify(key, r.Header.Get(triggers.HeaderTimestamp), r.Header.Get(triggers.HeaderSignature), body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(body, &got)
		w.WriteHeader(status)
		_, _ = w.Write([]byte("{}"))
	}))
	defer recv.Close()
	hooks := triggers.New(triggers.Options{Timeout: 2 * time.Second})
	sms, err := newSMSWebhook(hooks, recv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	d := userpool.Delivery{PoolID: "us-east-1_abc", Username: "ann", Destination: "+15550100", Kind: userpool.KindMFASMS, Code: "123456"}
	if err := sms.SendSMS(t.Context(), d); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if got.To != "+15550100" || got.Code != "123456" || got.Message != "Your verification code is 123456" ||
		got.Kind != userpool.KindMFASMS || got.UserPoolID != "us-east-1_abc" || got.Username != "ann" {
		t.Fatalf("received %+v", got)
	}
	custom := d
	custom.Body = "Acme: 123456 is your code"
	if err := sms.SendSMS(t.Context(), custom); err != nil || got.Message != custom.Body || got.Code != "123456" {
		t.Fatalf("a CustomMessage text: %v, received %+v", err, got)
	}
	status = http.StatusBadGateway
	if err := sms.SendSMS(t.Context(), d); !errors.Is(err, errSMSWebhook) {
		t.Fatalf("a failing receiver: %v", err)
	}
	forged, _ := newSMSWebhook(hooks, recv.URL, []byte("another-key-entirely"))
	status = http.StatusOK
	if err := forged.SendSMS(t.Context(), d); err == nil {
		t.Fatal("a request signed with another key was taken")
	}

	for name, tc := range map[string]struct {
		url string
		key []byte
	}{
		"no key":    {recv.URL, nil},
		"short key": {recv.URL, []byte("short")},
		"not http":  {"ftp://example.com/sms", key},
		"no host":   {"https://", key},
	} {
		if _, err := newSMSWebhook(hooks, tc.url, tc.key); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if w, err := newSMSWebhook(hooks, "", nil); w != nil || err != nil {
		t.Errorf("no URL: %v %v", w, err)
	}
}
