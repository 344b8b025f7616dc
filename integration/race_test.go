//go:build race

package integration_test

// raceDetector tells timing tests that the race detector instruments this
// build: it slows some code paths far more than others, so timings
// measured under it are not what a client of a real binary sees.
const raceDetector = true
