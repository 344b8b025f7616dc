package oauth_test

// Temporary: drives headless Chromium over CDP to check that the login
// form's post, answered by a redirect to the callback, is not blocked by
// the page's CSP form-action. Deleted before hand-off.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestZZCDP(t *testing.T) {
	target := os.Getenv("CDP_URL")
	if target == "" {
		t.Skip()
	}
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=9333", "about:blank")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var wsURL string
	for i := 0; i < 50 && wsURL == ""; i++ {
		time.Sleep(200 * time.Millisecond)
		resp, err := http.Get("http://127.0.0.1:9333/json/list")
		if err != nil {
			continue
		}
		var list []struct{ Type, WebSocketDebuggerUrl string }
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, l := range list {
			if l.Type == "page" {
				wsURL = l.WebSocketDebuggerUrl
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(10 << 20)
	id := 0
	send := func(method string, params any) {
		id++
		b, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
		c.Write(ctx, websocket.MessageText, b)
	}
	events := make(chan string, 1000)
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				close(events)
				return
			}
			events <- string(b)
		}
	}()
	send("Network.enable", map[string]any{})
	send("Log.enable", map[string]any{})
	send("Runtime.enable", map[string]any{})
	send("Page.enable", map[string]any{})
	send("Page.navigate", map[string]any{"url": target})
	time.Sleep(2 * time.Second)
	send("Runtime.evaluate", map[string]any{"expression": `document.getElementById('username').value='ann@example.com';document.getElementById('password').value='Passw0rd!';document.getElementById('signin').click();'ok'`})
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if strings.Contains(ev, `"method":"POST"`) || strings.Contains(ev, "localhost:8080") || strings.Contains(ev, "Content Security Policy") || strings.Contains(ev, "form-action") {
				t.Logf("%.1500s", ev)
			}
		case <-deadline:
			return
		}
	}
}
