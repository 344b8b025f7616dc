package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// conn is a keep-alive HTTP/1.1 client connection with a hand-written
// reader: cheap enough that the driver, on its own core, keeps a
// trivial server's core busy, and precise about when each chunk of a
// streamed body arrives.
type conn struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(u *url.URL) (*conn, error) {
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, br: bufio.NewReaderSize(c, 32<<10)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// request is a GET of u's path with cookie (none when empty).
func request(u *url.URL, path, cookie string) []byte {
	var b bytes.Buffer
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: gatewayload\r\nAccept: */*\r\n")
	if cookie != "" {
		b.WriteString("Cookie: " + cookie + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// response is what roundTrip read.
type response struct {
	status    int
	setCookie bool
	body      []byte // only when asked for
	// first and last: from the request's write to the end of the first
	// and of the last piece of the body (chunk, or the whole of a
	// Content-Length body).
	first, last time.Duration
}

var errClose = errors.New("the server closes the connection")

// roundTrip writes req and reads the response; keep keeps the body.
func (c *conn) roundTrip(req []byte, keep bool) (response, error) {
	var res response
	t0 := time.Now()
	if _, err := c.c.Write(req); err != nil {
		return res, err
	}
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return res, err
	}
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.1 ")) {
		return res, fmt.Errorf("status line %q", bytes.TrimSpace(status))
	}
	if res.status, err = strconv.Atoi(string(status[9:12])); err != nil {
		return res, fmt.Errorf("status line %q", bytes.TrimSpace(status))
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return res, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return res, fmt.Errorf("content-length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Set-Cookie")):
			res.setCookie = true
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := c.br.ReadSlice('\n')
			if err != nil {
				return res, err
			}
			line = bytes.TrimRight(line, "\r\n")
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			n, err := strconv.ParseInt(string(line), 16, 32)
			if err != nil {
				return res, fmt.Errorf("chunk size %q", line)
			}
			if n == 0 {
				for { // trailer
					l, err := c.br.ReadSlice('\n')
					if err != nil {
						return res, err
					}
					if len(bytes.TrimRight(l, "\r\n")) == 0 {
						break
					}
				}
				break
			}
			if err := c.body(&res, int(n), keep); err != nil {
				return res, err
			}
			if _, err := c.br.Discard(2); err != nil {
				return res, err
			}
			res.last = time.Since(t0)
			if res.first == 0 {
				res.first = res.last
			}
		}
	case length >= 0:
		if err := c.body(&res, length, keep); err != nil {
			return res, err
		}
		res.last = time.Since(t0)
		res.first = res.last
	default:
		return res, errors.New("a response with neither Content-Length nor chunked encoding")
	}
	if closing {
		return res, errClose
	}
	return res, nil
}

func (c *conn) body(res *response, n int, keep bool) error {
	if !keep {
		_, err := c.br.Discard(n)
		return err
	}
	start := len(res.body)
	res.body = append(res.body, make([]byte, n)...)
	_, err := io.ReadFull(c.br, res.body[start:])
	return err
}
