// Package importupload serves the pre-signed URLs of user import jobs
// (userpool.UploadPath): the CSV of a job is sent there with HTTP PUT, as
// to the Amazon S3 URL Cognito hands out, before StartUserImportJob.
//
// The URL's query carries its expiry and an HMAC of pool, job and expiry
// under a server secret (userpool checks both, in constant time): a
// forged, altered or expired URL is 403, a file over
// userpool.MaxImportFileBytes is 413, a job already started is 409.
// Answers are S3-style XML errors, which S3 clients and curl show as is.
package importupload

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// uploadTimeout bounds the read of one upload.
const uploadTimeout = 10 * time.Minute

// Handler accepts uploads to pre-signed URLs.
type Handler struct {
	svc *userpool.Service
	log *slog.Logger
}

// New returns the upload handler; mount it on "PUT " + userpool.UploadPath.
func New(svc *userpool.Service, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: svc, log: log}
}

// ServeHTTP stores the body as the job's file.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	if r.ContentLength > userpool.MaxImportFileBytes {
		fail(w, http.StatusRequestEntityTooLarge, "EntityTooLarge", fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d bytes.", userpool.MaxImportFileBytes))
		return
	}
	// A file of up to MaxImportFileBytes may take longer to arrive than
	// the server's read timeout allows an API request.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTimeout))
	q := r.URL.Query()
	pool, job := r.PathValue("pool"), r.PathValue("job")
	err := h.svc.UploadImportFile(r.Context(), pool, job, q.Get("X-Cognate-Expires"), q.Get("X-Cognate-Signature"), r.Body)
	switch {
	case err == nil:
		h.log.Info("import file uploaded", "pool", pool, "job", job)
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, userpool.ErrUploadForbidden):
		fail(w, http.StatusForbidden, "AccessDenied", "Request has expired or its signature does not match.")
	case errors.Is(err, userpool.ErrUploadTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, "EntityTooLarge", fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d bytes.", userpool.MaxImportFileBytes))
	case errors.Is(err, userpool.ErrUploadClosed):
		fail(w, http.StatusConflict, "InvalidObjectState", "The import job was started or has expired; it takes no file.")
	default:
		h.log.Error("import file upload failed", "pool", pool, "job", job, "err", err)
		fail(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Please try again.")
	}
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>\n", code, msg)
}
