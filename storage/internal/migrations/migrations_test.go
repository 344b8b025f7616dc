package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ms, err := Load(fstest.MapFS{
		"m/0010_later.sql": file("B"), "m/0002_first.sql": file("A"), "m/README": file("x"),
	}, "m/*.sql")
	if err != nil || len(ms) != 2 || ms[0].Version != 2 || ms[0].SQL != "A" || ms[1].Name != "0010_later.sql" {
		t.Fatalf("Load: %+v %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no version":    {"m/init.sql": file("")},
		"zero version":  {"m/0000_x.sql": file("")},
		"shared":        {"m/0001_a.sql": file(""), "m/1_b.sql": file("")},
		"no migrations": {},
	} {
		if _, err := Load(fsys, "m/*.sql"); err == nil {
			t.Errorf("%s: Load succeeded", name)
		} else if !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
