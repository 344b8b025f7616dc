package servicetest

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// PostgresBinDir is where the PostgreSQL server binaries (initdb, pg_ctl)
// are looked for first; then /usr/lib/postgresql/*/bin (the newest
// version), then PATH.
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// postgresCtlTimeout bounds pg_ctl's wait for a start or a stop, in
// seconds.
const postgresCtlTimeout = 60

// PostgresServer is a private PostgreSQL cluster of one test: its own
// data directory under t.TempDir(), its own port on 127.0.0.1, started
// with pg_ctl. Unlike the machine's shared server (Postgres), a test may
// stop and restart it to cause an outage. It keeps its port and data
// across Stop and Start, and is stopped (immediately) when the test ends.
//
// initdb refuses to run as root, so as root the server runs as the
// postgres OS user, which then owns its directories.
type PostgresServer struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // owned by the server's user: data/, the socket, the log
	data string
	port int
	cred *syscall.Credential // nil: run as this process's user

	mu      sync.Mutex
	running bool
}

// StartPostgresServer creates a private PostgreSQL cluster for t (initdb,
// trust authentication for the postgres role) and starts it. Without the
// binaries, or as root without a postgres OS user, it skips t (or fails
// it under COGNATE_REQUIRE_SERVICES=1).
func StartPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	p := &PostgresServer{bin: postgresBinDir(t), port: freePort(t)}
	base := t.TempDir()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "servicetest: running as root, where initdb refuses to run, and there is no postgres OS user to run it as (%v)", err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("servicetest: postgres OS user has uid %q, gid %q", u.Uid, u.Gid)
		}
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
		// t.TempDir() and the per-test directory above it are 0700: let
		// the postgres user through them (only through, not list them).
		for _, d := range []string{base, filepath.Dir(base)} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatalf("servicetest: %v", err)
			}
		}
	}
	p.dir = filepath.Join(base, "pg")
	p.data = filepath.Join(p.dir, "data")
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		t.Fatalf("servicetest: %v", err)
	}
	if p.cred != nil {
		if err := os.Chown(p.dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			t.Fatalf("servicetest: %v", err)
		}
	}
	// Registered after t.TempDir, so it runs before the directory is
	// removed.
	t.Cleanup(func() {
		p.mu.Lock()
		running := p.running
		p.running = false
		p.mu.Unlock()
		if running {
			if out, err := p.ctl("stop", "-m", "immediate"); err != nil {
				t.Logf("servicetest: pg_ctl stop at cleanup: %v: %s", err, out)
			}
		}
	})
	if out, err := p.run("initdb", "-D", p.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		t.Fatalf("servicetest: initdb: %v: %s", err, out)
	}
	p.Start(t)
	return p
}

// URL is the postgres database's URL on this server, as its superuser.
func (p *PostgresServer) URL() string {
	return "postgres://postgres@" + p.Addr() + "/postgres?sslmode=disable"
}

// Addr is the server's host:port.
func (p *PostgresServer) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
}

// Database creates a fresh, empty database on this server and returns its
// URL; it goes away with the server.
func (p *PostgresServer) Database(t testing.TB) string {
	t.Helper()
	name := "cognate_" + Unique()
	if err := pgExec(p.URL(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("servicetest: create database on %s: %v", p.Addr(), err)
	}
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatalf("servicetest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Start starts the stopped server on its port and waits until it accepts
// connections.
func (p *PostgresServer) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		t.Fatalf("servicetest: PostgreSQL at %s is already running", p.Addr())
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.port, p.dir)
	if out, err := p.ctl("start", "-l", filepath.Join(p.dir, "postgres.log"), "-o", opts); err != nil {
		t.Fatalf("servicetest: pg_ctl start: %v: %s\nlog:\n%s", err, out, p.Log())
	}
	p.running = true
}

// Stop shuts the server down in fast mode (open sessions are ended, as
// in a database failover or restart) and waits until it has.
func (p *PostgresServer) Stop(t testing.TB) {
	t.Helper()
	p.stop(t, "fast")
}

// Kill shuts the server down in immediate mode (no checkpoint, as in a
// crash) and waits until it has.
func (p *PostgresServer) Kill(t testing.TB) {
	t.Helper()
	p.stop(t, "immediate")
}

func (p *PostgresServer) stop(t testing.TB, mode string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		t.Fatalf("servicetest: PostgreSQL at %s is not running", p.Addr())
	}
	if out, err := p.ctl("stop", "-m", mode); err != nil {
		t.Fatalf("servicetest: pg_ctl stop -m %s: %v: %s", mode, err, out)
	}
	p.running = false
}

// Log is the server's log so far.
func (p *PostgresServer) Log() string {
	b, err := os.ReadFile(filepath.Join(p.dir, "postgres.log"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// ctl runs pg_ctl on the data directory, waiting for the action to end.
func (p *PostgresServer) ctl(args ...string) ([]byte, error) {
	return p.run("pg_ctl", append([]string{"-D", p.data, "-w", "-t", strconv.Itoa(postgresCtlTimeout)}, args...)...)
}

// run runs one of the server's binaries as the server's user, in its
// directory (a postgres user may not reach this process's own).
func (p *PostgresServer) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.dir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start leaves the server running with its output in the log
	// file, so Wait returns once pg_ctl itself exits.
	err := cmd.Run()
	return out.Bytes(), err
}

// postgresBinDir finds the directory holding initdb and pg_ctl.
func postgresBinDir(t testing.TB) string {
	t.Helper()
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return false
			}
		}
		return true
	}
	if has(PostgresBinDir) {
		return PostgresBinDir
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	unavailable(t, "servicetest: no PostgreSQL server binaries (initdb, pg_ctl) in %s, /usr/lib/postgresql/*/bin or PATH; install the postgresql package to run this test", PostgresBinDir)
	return ""
}

// versionOf is the major version in /usr/lib/postgresql/<version>/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// unavailable skips t for a missing prerequisite, or fails it under
// COGNATE_REQUIRE_SERVICES=1.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("COGNATE_REQUIRE_SERVICES") == "1" {
		t.Fatalf(format+" (required: COGNATE_REQUIRE_SERVICES=1)", args...)
	}
	t.Skipf(format, args...)
}
