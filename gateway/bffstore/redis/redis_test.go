package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cognate-auth/cognate/gateway/bffstore"
	"github.com/cognate-auth/cognate/gateway/bffstore/storetest"
	"github.com/cognate-auth/cognate/internal/servicetest"
)

// testURL is the Redis the tests use.
const testURL = "redis://" + servicetest.RedisAddr + "/0"

// needRedis skips without a Redis, or fails under
// COGNATE_REQUIRE_SERVICES=1.
func needRedis(t *testing.T) { t.Helper(); servicetest.Need(t, "Redis", servicetest.RedisAddr) }

func TestConformance(t *testing.T) {
	needRedis(t)
	storetest.Run(t, func(t *testing.T) storetest.Open {
		// A fresh prefix per subtest is a fresh backing.
		prefix := "cognate-test:" + rand.Text() + ":"
		t.Cleanup(func() {
			c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
			defer c.Close()
			ctx := context.Background()
			for it := c.Scan(ctx, 0, prefix+"*", 100).Iterator(); it.Next(ctx); {
				c.Del(ctx, it.Val())
			}
		})
		return func(t *testing.T) bffstore.Store {
			s, err := Open(testURL, Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

// TestStoreDown: a Redis that cannot be reached fails each call at once
// with an error that is not ErrNotFound.
func TestStoreDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := Open("redis://"+addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, _, err := s.Get(ctx, bffstore.Key{}); err == nil || errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("Get on a dead Redis: %v", err)
	}
	if err := s.Put(ctx, bffstore.Key{}, []byte("v"), time.Now().Add(time.Hour)); err == nil {
		t.Fatal("Put on a dead Redis succeeded")
	}
	if _, err := s.Lock(ctx, bffstore.Key{}, time.Second); err == nil {
		t.Fatal("Lock on a dead Redis succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("failing took %v", d)
	}
}

func TestOpenRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "http://x", "redis://host:port:x"} {
		if _, err := Open(u, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}
