package server

import (
	"html/template"
	"net/http"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

type outboxEntry struct {
	PoolID      string `json:"pool_id"`
	Username    string `json:"username"`
	Destination string `json:"destination"`
	Kind        string `json:"kind"`
	Code        string `json:"code"`
	// Subject and Message are the CustomMessage trigger's text, the code
	// substituted; absent for the default text.
	Subject   string    `json:"subject,omitempty"`
	Message   string    `json:"message,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Status is "queued" (waiting for the mail relay), "sent" (or kept
	// here, with no relay) or "failed" (given up; LastError says why).
	Status    string `json:"status"`
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

const outboxLimit = 200

func (s *Server) outbox(r *http.Request) ([]outboxEntry, error) {
	msgs, err := s.store.ListMessages(r.Context(), outboxLimit)
	if err != nil {
		return nil, err
	}
	out := make([]outboxEntry, 0, len(msgs))
	for _, m := range msgs {
		status := "queued"
		switch {
		case !m.DoneAt.IsZero() && m.LastError != "":
			status = "failed"
		case !m.DoneAt.IsZero():
			status = "sent"
		}
		subject, body := userpool.RenderMessage(m)
		out = append(out, outboxEntry{m.PoolID, m.Username, m.Destination, m.Kind, m.Code, subject, body, m.CreatedAt.UTC(),
			status, m.Attempts, m.LastError})
	}
	return out, nil
}

func (s *Server) outboxJSON(w http.ResponseWriter, r *http.Request) {
	entries, err := s.outbox(r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "outbox", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal server error."})
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

var outboxPage = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>Cognate dev outbox</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem}p{color:#555}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid #e3e6ec}th{font-weight:600;background:#f5f7fa}
code{font:600 1.05rem ui-monospace,monospace;background:#eef2ff;padding:.1rem .4rem;border-radius:4px}
</style></head><body>
<h1>Development outbox</h1>
<p>Codes Cognate sent (with <code>--smtp-url</code>, the relay has them and the codes are wiped here once sent) or would have sent, newest first. This page refreshes every 5 seconds and is served only to requests made directly from this machine with the key in <code>&lt;data&gt;/dev-outbox-key</code>; it does not exist with <code>--production</code>.</p>
{{if .}}<table><thead><tr><th scope="col">When (UTC)</th><th scope="col">To</th><th scope="col">Kind</th><th scope="col">Code</th><th scope="col">Pool</th><th scope="col">Status</th></tr></thead><tbody>
{{range .}}<tr><td>{{.CreatedAt.Format "2006-01-02 15:04:05"}}</td><td>{{.Destination}}</td><td>{{.Kind}}</td><td><code>{{.Code}}</code>{{if or .Subject .Message}}<br><strong>{{.Subject}}</strong><pre>{{.Message}}</pre>{{end}}</td><td>{{.PoolID}}</td><td>{{.Status}}{{if .LastError}}: {{.LastError}}{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No messages yet.</p>{{end}}
</body></html>`))

func (s *Server) outboxHTML(w http.ResponseWriter, r *http.Request) {
	entries, err := s.outbox(r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "outbox", "err", err)
		http.Error(w, "Internal server error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	outboxPage.Execute(w, entries)
}
