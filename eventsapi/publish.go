package eventsapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/events"
)

// errorBody is AppSync's error response: {"errors":[{"errorType","message"}]}.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
}

// writeError answers err with its status (status overrides it when not
// 0); a 503 says when to retry.
func writeError(w http.ResponseWriter, err error, status int) {
	e := events.AsError(err)
	if status == 0 {
		status = e.Code
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		// Storage (or a key set) could not be reached: the same request
		// may succeed in a moment.
		w.Header().Set("Retry-After", "1")
	}
	// AWS clients name the error from this header (Amplify's REST error
	// parser among them); the body carries the same type.
	w.Header().Set("x-amzn-ErrorType", e.Type)
	writeJSON(w, status, errorBody{Errors: []errorEntry{{ErrorType: e.Type, Message: e.Message}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// publish serves POST /event: {"channel":"/ns/ch","events":["<json>",…]},
// authorized by the request's x-api-key or authorization header.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request) {
	if !h.originAllowed(r) {
		writeError(w, events.Unauthorized(http.StatusForbidden, "Origin %q is not allowed.", r.Header.Get("Origin")), 0)
		return
	}
	h.cors(w, r)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPublishBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.m.failed("publish", events.TypeBadRequest)
			writeError(w, events.BadRequest("The request body is larger than %d bytes.", MaxPublishBytes), http.StatusRequestEntityTooLarge)
			return
		}
		writeError(w, events.BadRequest("The request body could not be read."), 0)
		return
	}
	var req struct {
		Channel string   `json:"channel"`
		Events  []string `json:"events"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		h.m.failed("publish", events.TypeBadRequest)
		writeError(w, events.BadRequest(`The body must be {"channel": "/namespace/channel", "events": ["<JSON>", …]}, each event a JSON document in a string.`), 0)
		return
	}
	res, err := h.hub.Publish(r.Context(), requestHeaders(r), req.Channel, req.Events)
	if err != nil {
		h.m.failed("publish", events.AsError(err).Type)
		writeError(w, err, 0)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// requestHeaders are an HTTP request's headers as events.Headers.
func requestHeaders(r *http.Request) events.Headers {
	h := make(events.Headers, len(r.Header)+1)
	for k, v := range r.Header {
		if len(v) > 0 {
			h[strings.ToLower(k)] = v[0]
		}
	}
	h["host"] = r.Host
	return h
}
