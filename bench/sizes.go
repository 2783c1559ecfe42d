package main

import "time"

// sizes are the knobs -quick turns down.
type sizes struct {
	startupRuns   int   // hyperfine runs per variant per round
	startupWarmup int   // hyperfine warm-up runs per variant per round
	spawns        int   // sequential /bin/true spawns
	pipeBytes     int64 // bytes through the pipeline
	captureBytes  int64 // bytes captured into memory

	tasks          int           // tasks in the chain, fan-out and body benchmarks
	taskSpawns     int           // tasks each running /bin/true (task-spawn)
	gotaskSlow     time.Duration // a go-task warm-up run slower than this ...
	gotaskFallback int           // ... is measured at this many tasks instead
}

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

var fullSizes = sizes{
	startupRuns:   200,
	startupWarmup: 20,
	spawns:        1000,
	pipeBytes:     1 * gib,
	captureBytes:  256 * mib,

	tasks:          10000,
	taskSpawns:     1000,
	gotaskSlow:     30 * time.Second,
	gotaskFallback: 1000,
}

var quickSizes = sizes{
	startupRuns:   50,
	startupWarmup: 5,
	spawns:        1000,
	pipeBytes:     256 * mib,
	captureBytes:  256 * mib,

	tasks:          1000,
	taskSpawns:     200,
	gotaskSlow:     30 * time.Second,
	gotaskFallback: 100,
}
