package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// hyperfineResult is the part of hyperfine's --export-json output we use
// (times in seconds).
type hyperfineResult struct {
	Command string    `json:"command"`
	Mean    float64   `json:"mean"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Times   []float64 `json:"times"`
}

// runHyperfine times argv with `hyperfine -N` (no shell) for runs runs after
// warmup warm-up runs, and returns the median and the minimum.
func runHyperfine(hyperfine, dir string, argv []string, runs, warmup int) (median, fastest time.Duration, err error) {
	jsonPath := filepath.Join(dir, "hyperfine.json")
	defer os.Remove(jsonPath)
	cmd := exec.Command(hyperfine, "-N", "--style", "none",
		"--warmup", strconv.Itoa(warmup), "--runs", strconv.Itoa(runs),
		"--export-json", jsonPath, shellJoin(argv))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if line := firstLine(string(out)); line != "" {
			return 0, 0, fmt.Errorf("hyperfine: %s", line)
		}
		return 0, 0, fmt.Errorf("hyperfine: %v", err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return 0, 0, err
	}
	var parsed struct {
		Results []hyperfineResult `json:"results"`
	}
	if err := json.Unmarshal(data, &parsed); err != nil {
		return 0, 0, fmt.Errorf("hyperfine JSON: %v", err)
	}
	if len(parsed.Results) != 1 {
		return 0, 0, fmt.Errorf("hyperfine JSON: %d results, want 1", len(parsed.Results))
	}
	r := parsed.Results[0]
	return seconds(r.Median), seconds(r.Min), nil
}

// timeRuns is the fallback without hyperfine: it runs argv itself.
func timeRuns(dir string, argv []string, runs, warmup int) (median, fastest time.Duration, err error) {
	var walls []time.Duration
	for i := 0; i < warmup+runs; i++ {
		m, err := runOnce(dir, argv)
		if err != nil {
			return 0, 0, err
		}
		if i >= warmup {
			walls = append(walls, m.wall)
		}
	}
	return medianDuration(walls), minDuration(walls), nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
