package importupload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

// TestRefusedBeforeTheService: a declared size over the limit and a
// method other than PUT are answered before anything is read or looked
// up (the handler has no service here to look anything up with).
func TestRefusedBeforeTheService(t *testing.T) {
	h := New(nil, nil)
	tests := []struct {
		name   string
		method string
		size   int64
		status int
		code   string
	}{
		{"too large", http.MethodPut, userpool.MaxImportFileBytes + 1, http.StatusRequestEntityTooLarge, "EntityTooLarge"},
		{"GET", http.MethodGet, 0, http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{"POST", http.MethodPost, 10, http.StatusMethodNotAllowed, "MethodNotAllowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/_import/us-east-1_abc/import-x?X-Cognate-Expires=1&X-Cognate-Signature=00", strings.NewReader(""))
			req.ContentLength = tc.size
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), "<Code>"+tc.code+"</Code>") {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		})
	}
}
