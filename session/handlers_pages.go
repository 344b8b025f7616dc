package session

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"sync"
)

// page is one of the small HTML pages the routes answer with. Every
// value is escaped by html/template.
type page struct {
	Title, Message, Detail string
	Link, LinkText         string
	// Form, when set, is a POST form with one button (and Fields).
	Form *pageForm
	// QR and Secret show an authenticator app's setup.
	QR     template.HTML
	Secret string
}

type pageForm struct {
	Action, Button string
	Fields         []pageField
	// Passkey holds a WEB_AUTHN step's request options: the button runs
	// the browser's ceremony and posts its credential.
	Passkey string
}

type pageField struct {
	Label, Name, Type, Value, Autocomplete string
	// Choices make the field a set of radio buttons.
	Choices []pageChoice
	// Optional fields may be left empty.
	Optional bool
}

type pageChoice struct{ Label, Value string }

var (
	pageNotFound        = page{Title: "Not found", Message: "There is no such page."}
	pageMethod          = page{Title: "Method not allowed", Message: "This address does not accept that kind of request."}
	pageNoHosted        = page{Title: "Not available", Message: "Hosted sign-in is not configured for this app."}
	pageBadProvider     = page{Title: "Sign-in failed", Message: "The identity provider name is not valid."}
	pageBadCallback     = page{Title: "Sign-in failed", Message: "The sign-in answer is incomplete.", Link: "/", LinkText: "Go to the home page"}
	pageExpiredFlow     = page{Title: "Sign-in expired", Message: "This sign-in took longer than 5 minutes, was already completed, or was started in another browser."}
	pageStateMismatch   = page{Title: "Sign-in failed", Message: "The sign-in answer does not belong to the sign-in this browser started."}
	pageUnavailable     = page{Title: "Sign-in unavailable", Message: "The sign-in service could not be reached. Please try again in a moment."}
	pageExchangeRefused = page{Title: "Sign-in failed", Message: "The sign-in could not be completed: the code was refused (it may have been used already)."}
	pageBadTokens       = page{Title: "Sign-in failed", Message: "The sign-in service answered with tokens this app cannot verify."}
	pageCrossSite       = page{Title: "Request refused", Message: "This request came from another site."}
)

func restartPage(p page, link string) page {
	p.Link, p.LinkText = link, "Sign in again"
	return p
}

func issuerErrorPage(code, desc, link string) page {
	p := page{Title: "Sign-in was not completed", Message: "The sign-in service ended the sign-in.", Link: link, LinkText: "Try again"}
	if code == "access_denied" {
		p.Message = "Access was denied."
	}
	if desc != "" {
		p.Detail = clip(desc, 300)
	} else if code != "" {
		p.Detail = clip(code, 100)
	}
	return p
}

func confirmSignOutPage(action string) page {
	return page{
		Title: "Sign out?", Message: "Another site sent you here. Do you want to sign out?",
		Form: &pageForm{Action: action, Button: "Sign out"}, Link: "/", LinkText: "Stay signed in",
	}
}

func forbiddenPage(group string) page {
	return page{Title: "Not allowed", Message: "This page needs membership of the group " + strconv.Quote(group) + ".", Link: "/", LinkText: "Go to the home page"}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pageTmpl and bounceTmpl are parsed on first use rather than at init:
// parsed templates would stay live in every process that imports the
// package, also those that never render a page.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.4rem}.detail{color:#52606d;font-size:.9rem}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1.2rem}
.error{color:#b42318}</style></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p>{{with .Detail}}<p class="detail">{{.}}</p>{{end}}
{{with .QR}}<div class="qr-box" style="max-width:14rem">{{.}}</div>{{end}}{{with .Secret}}<p class="detail">Or enter this key: <code id="totp-secret">{{.}}</code></p>{{end}}
{{with .Form}}<form method="post" action="{{.Action}}"{{with .Passkey}} data-options="{{.}}"{{end}}>{{range .Fields}}{{if eq .Type "hidden"}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{else if .Choices}}<fieldset><legend>{{.Label}}</legend>{{$n := .Name}}{{range $i, $c := .Choices}}<label><input type="radio" name="{{$n}}" value="{{$c.Value}}" style="width:auto"{{if eq $i 0}} checked{{end}}> {{$c.Label}}</label>{{end}}</fieldset>{{else}}<label for="{{.Name}}">{{.Label}}</label><input id="{{.Name}}" name="{{.Name}}" type="{{.Type}}" value="{{.Value}}" autocomplete="{{.Autocomplete}}"{{if not .Optional}} required{{end}}>{{end}}{{end}}
<button type="submit" id="submit">{{.Button}}</button></form>{{if .Passkey}}
<script>(() => { const f = document.querySelector('form'); f.addEventListener('submit', async (e) => {
if (f.CREDENTIAL.value) return; e.preventDefault();
try { const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(f.dataset.options));
const c = await navigator.credentials.get({ publicKey }); f.CREDENTIAL.value = JSON.stringify(c.toJSON()); f.submit();
} catch (err) { const p = document.createElement('p'); p.className = 'error'; p.id = 'passkey-error'; p.textContent = err.message; f.after(p); } }); })();</script>{{end}}{{end}}
{{with .Link}}<p><a href="{{.}}">{{$.LinkText}}</a></p>{{end}}</main></body></html>
`))
})

// page writes p with status.
func (m *Manager) page(w http.ResponseWriter, status int, p page) {
	var buf bytes.Buffer
	if err := pageTmpl().Execute(&buf, p); err != nil {
		m.log.Error("session: rendering a page", "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	noStore(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// bounceTmpl navigates to a same-origin target from a page of this
// origin, so that SameSite=Strict cookies go along. The target is escaped
// for each context (attribute, URL, JavaScript string).
var bounceTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("bounce").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}">
<meta name="referrer" content="no-referrer"><title>Signing in…</title></head>
<body><p>Signing you in… <a href="{{.}}">Continue</a></p>
<script>window.location.replace({{.}})</script></body></html>
`))
})

func (m *Manager) bounce(w http.ResponseWriter, target string) {
	var buf bytes.Buffer
	if err := bounceTmpl().Execute(&buf, target); err != nil {
		m.log.Error("session: rendering the bounce page", "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	noStore(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	noStore(w.Header())
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// noStore marks a response uncacheable unless it already says how.
func noStore(h http.Header) {
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private, no-store")
	}
}
