package main

// oauth2-proxy's row: an OIDC app client for it in Cognate, and a
// sign-in through it (its /oauth2/start, Cognate's hosted login page,
// its callback) that yields the session cookie it sets.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/cognate-auth/cognate/server"
)

// oidcClient creates a confidential code-flow app client whose callback
// is redirect, with the admin credentials and pool of Cognate's data
// directory, and prints its id and secret.
func oidcClient(ctx context.Context, endpoint, data, redirect string, out io.Writer) error {
	raw, err := os.ReadFile(filepath.Join(data, "admin-credentials.json"))
	if err != nil {
		return err
	}
	var ac server.AdminCredentials
	if err := json.Unmarshal(raw, &ac); err != nil {
		return err
	}
	raw, err = os.ReadFile(filepath.Join(data, "amplify_outputs.json"))
	if err != nil {
		return err
	}
	var outputs struct {
		Auth struct {
			UserPoolID string `json:"user_pool_id"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(raw, &outputs); err != nil || outputs.Auth.UserPoolID == "" {
		return errors.New("amplify_outputs.json names no pool")
	}
	pool := outputs.Auth.UserPoolID
	region, _, _ := strings.Cut(pool, "_")
	c := cip.New(cip.Options{BaseEndpoint: aws.String(endpoint), Region: region,
		Credentials: credentials.NewStaticCredentialsProvider(ac.AccessKeyID, ac.SecretAccessKey, "")})
	res, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(pool), ClientName: aws.String("oauth2-proxy-bench"), GenerateSecret: true,
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes: []string{"openid", "email", "profile"}, CallbackURLs: []string{redirect},
		SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		return fmt.Errorf("CreateUserPoolClient: %w", err)
	}
	_, err = fmt.Fprintln(out, aws.ToString(res.UserPoolClient.ClientId), aws.ToString(res.UserPoolClient.ClientSecret))
	return err
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<(?:input|button)\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*"([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// proxySignIn signs user in through the auth proxy at base as a browser
// would: GET base+start, follow redirects to the hosted login page, post
// its form, follow the redirects back through the proxy's callback; it
// prints the Cookie header of the proxy's session cookies (names
// starting with cookiePrefix, its CSRF cookie left out).
func proxySignIn(ctx context.Context, base, start, cookiePrefix, user, password string, out io.Writer) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(u string) (*http.Response, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Accept", "text/html")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	resp, page, err := get(base + start)
	if err != nil {
		return err
	}
	m := formRe.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(m[2], `name="password"`) {
		return fmt.Errorf("GET %s ended at %s with %d and no login form:\n%.800s", start, resp.Request.URL, resp.StatusCode, page)
	}
	login := resp.Request.URL
	action, err := login.Parse(attrs(m[1])["action"])
	if err != nil {
		return err
	}
	form := url.Values{}
	for _, im := range inputRe.FindAllStringSubmatch(m[2], -1) {
		a := attrs(im[1])
		if a["name"] == "" || (a["type"] == "submit" && a["value"] != "signin") {
			continue
		}
		form.Set(a["name"], a["value"])
	}
	form.Set("username", user)
	form.Set("password", password)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", login.Scheme+"://"+login.Host)
	req.Header.Set("Referer", login.String())
	req.Header.Set("Accept", "text/html")
	resp, err = hc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b, _ := url.Parse(base)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != b.Host {
		return fmt.Errorf("signing in ended at %s with %d:\n%.800s", resp.Request.URL, resp.StatusCode, body)
	}
	var parts []string
	for _, c := range jar.Cookies(b) {
		if strings.HasPrefix(c.Name, cookiePrefix) && !strings.Contains(c.Name, "csrf") {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if len(parts) == 0 {
		return fmt.Errorf("no %s* cookie after signing in", cookiePrefix)
	}
	_, err = fmt.Fprintln(out, strings.Join(parts, "; "))
	return err
}
