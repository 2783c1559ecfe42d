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

	cacheTasks          int           // cache-noop, cache-touched: tasks (one output each)
	cacheInputs         int           // ... inputs per task
	cacheInputBytes     int           // ... bytes per input
	cacheGoTaskSlow     time.Duration // a go-task no-op slower than this ...
	cacheGoTaskFallback int           // ... is measured at this many tasks instead
	cacheCFiles         int           // cache-first-build: generated C files
	cacheRestoreFiles   int           // cache-restore: outputs
	cacheRestoreBytes   int           // ... bytes per output (a multiple of restoreSeedBytes)

	scalingTasks   []int         // scaling: the task counts, ascending
	scalingTimeout time.Duration // scaling: a run slower than this is killed and fails
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
	captureBytes:  128 * mib,

	tasks:          10000,
	taskSpawns:     1000,
	gotaskSlow:     30 * time.Second,
	gotaskFallback: 1000,

	cacheTasks:          1000,
	cacheInputs:         10,
	cacheInputBytes:     10 * kib,
	cacheGoTaskSlow:     30 * time.Second,
	cacheGoTaskFallback: 100,
	cacheCFiles:         200,
	cacheRestoreFiles:   1000,
	cacheRestoreBytes:   100 * kib,

	scalingTasks:   []int{1000, 10000, 100000},
	scalingTimeout: 5 * time.Minute,
}

var quickSizes = sizes{
	startupRuns:   50,
	startupWarmup: 5,
	spawns:        1000,
	pipeBytes:     256 * mib,
	captureBytes:  128 * mib,

	tasks:          1000,
	taskSpawns:     200,
	gotaskSlow:     30 * time.Second,
	gotaskFallback: 100,

	cacheTasks:          100,
	cacheInputs:         10,
	cacheInputBytes:     10 * kib,
	cacheGoTaskSlow:     30 * time.Second,
	cacheGoTaskFallback: 20,
	cacheCFiles:         20,
	cacheRestoreFiles:   100,
	cacheRestoreBytes:   100 * kib,

	scalingTasks:   []int{100, 1000, 10000},
	scalingTimeout: 5 * time.Minute,
}
