//go:build !linux

package main

import "errors"

var errNoEpoll = errors.New("the epoll reader needs Linux: use -reader goroutine")

func newEpoller(*meter, bool) (reader, error) { return nil, errNoEpoll }

func writeFD(int, []byte) error { return errNoEpoll }
