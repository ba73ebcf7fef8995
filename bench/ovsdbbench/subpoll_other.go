//go:build !linux

package main

import "errors"

// readPolled needs epoll; elsewhere use -fanout-readers goroutines.
func readPolled([]*conn, *arrivals, func(error)) (func(), error) {
	return nil, errors.New("-fanout-readers poll needs Linux: use -fanout-readers goroutines")
}
