package servicetest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Where the private servers' binaries are looked for first; otherwise
// PATH is searched.
const (
	NATSServerBin  = "/usr/sbin/nats-server"
	RedisServerBin = "/usr/bin/redis-server"
)

// Bounds of a private server's start and stop.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// Server is a private server process of one test, for tests that stop
// and restart it (outages), which the machine's shared servers are not
// for. It listens on 127.0.0.1 on a port of its own, which it keeps
// across Stop and Start; it is killed when the test ends.
type Server struct {
	name string
	bin  string
	args []string
	addr string
	url  string

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
	out  *syncBuffer
}

// StartNATSServer starts a private nats-server (no JetStream) for t and
// waits until it accepts connections.
func StartNATSServer(t testing.TB) *Server {
	t.Helper()
	bin := needBinary(t, "nats-server", NATSServerBin)
	port := freePort(t)
	s := &Server{
		name: "nats-server", bin: bin,
		args: []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port)},
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	}
	s.url = "nats://" + s.addr
	s.launch(t)
	return s
}

// StartRedisServer starts a private redis-server (no persistence) for t
// and waits until it accepts connections.
func StartRedisServer(t testing.TB) *Server {
	t.Helper()
	bin := needBinary(t, "redis-server", RedisServerBin)
	port := freePort(t)
	s := &Server{
		name: "redis-server", bin: bin,
		args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"},
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	}
	s.url = "redis://" + s.addr + "/0"
	s.launch(t)
	return s
}

// URL is the server's URL (nats://… or redis://…).
func (s *Server) URL() string { return s.url }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Start starts the stopped server again on the same port and waits until
// it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.proc != nil
	s.mu.Unlock()
	if running {
		t.Fatalf("servicetest: %s at %s is already running", s.name, s.addr)
	}
	s.launch(t)
}

// Stop ends the server gracefully (SIGTERM) and waits for it to exit,
// killing it if it has not after a while.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGTERM)
}

// Kill ends the server abruptly (SIGKILL) and waits for it to exit.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGKILL)
}

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.mu.Lock()
	proc, done := s.proc, s.done
	s.proc = nil
	s.mu.Unlock()
	if proc == nil {
		t.Fatalf("servicetest: %s at %s is not running", s.name, s.addr)
	}
	_ = proc.Process.Signal(sig)
	select {
	case <-done:
		return
	case <-time.After(stopTimeout):
	}
	t.Logf("servicetest: %s did not exit within %s of %v; killing it", s.name, stopTimeout, sig)
	_ = proc.Process.Kill()
	<-done
}

// launch starts the process and waits until its port accepts
// connections; the test's cleanup kills it.
func (s *Server) launch(t testing.TB) {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("servicetest: start %s: %v", s.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.proc, s.done, s.out = cmd, done, out
	s.mu.Unlock()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("servicetest: %s exited at start: %s", s.name, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("servicetest: %s does not accept connections at %s after %s: %v; output: %s", s.name, s.addr, startTimeout, err, out.String())
		}
	}
}

// needBinary returns the path of a server binary: path if it exists,
// else name found in PATH; without one it skips t (or fails it under
// COGNATE_REQUIRE_SERVICES=1).
func needBinary(t testing.TB, name, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("COGNATE_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is required (COGNATE_REQUIRE_SERVICES=1) but neither %s nor one in PATH exists", name, path)
	}
	t.Skipf("no %s at %s or in PATH; install it to run this test", name, path)
	return ""
}

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servicetest: free port: %v", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("servicetest: listener address %v is not TCP", l.Addr())
	}
	return addr.Port
}

// syncBuffer is a process's output, written and read concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
