package server

import (
	"os"
	"path/filepath"
	"testing"
)

// The events connection caps come from the config file's Events member
// when it sets them, else from the flags, else the defaults.
func TestEventsConnectionCaps(t *testing.T) {
	tests := []struct {
		name                 string
		cfg                  Config
		file                 string
		server, addr, perKey int
	}{
		{"defaults", Config{}, "", 10000, 100, 1000},
		{"flags", Config{EventsMaxConnections: 500, EventsMaxConnectionsPerAddress: 5, EventsMaxConnectionsPerAPIKey: 50}, "", 500, 5, 50},
		{"flags lift", Config{EventsMaxConnections: -1, EventsMaxConnectionsPerAddress: -1, EventsMaxConnectionsPerAPIKey: -1}, "", -1, -1, -1},
		{"the file wins", Config{EventsMaxConnections: 500, EventsMaxConnectionsPerAddress: 5, EventsMaxConnectionsPerAPIKey: 50},
			`{"Events": {"maxConnectionsPerAddress": 7, "maxConnectionsPerApiKey": -1}}`, 500, 7, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.file != "" {
				cfg.ConfigFile = filepath.Join(t.TempDir(), "cognate.json")
				if err := os.WriteFile(cfg.ConfigFile, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got := newTestServer(t, cfg).hub.Config()
			if got.MaxConnections != tc.server || got.MaxConnectionsPerAddress != tc.addr || got.MaxConnectionsPerAPIKey != tc.perKey {
				t.Fatalf("caps %d/%d/%d, want %d/%d/%d", got.MaxConnections, got.MaxConnectionsPerAddress, got.MaxConnectionsPerAPIKey, tc.server, tc.addr, tc.perKey)
			}
		})
	}
}
