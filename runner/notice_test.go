package runner

import (
	"context"
	"strings"
	"testing"
)

func TestNotice(t *testing.T) {
	t.Run("free output", func(t *testing.T) {
		// As Printf: on a cleared line, the status line redrawn after.
		o, _, stderr := newTestOutput(t, Prefixed, false, false, true)
		g := newGraph(t, &Task{Name: "a", Run: func(ctx context.Context, tc *TaskContext) error {
			if err := o.Notice("hazlua: note"); err != nil {
				t.Errorf("Notice: %v", err)
			}
			return nil
		}})
		Run(context.Background(), mustPlan(t, g, "a"), Options{Output: o})
		if errs, want := contents(t, stderr), clearLine+"hazlua: note\n[0/1]"; !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	})
	for _, status := range []bool{true, false} {
		name := "held output, no status line"
		want := "hazlua: note\n"
		if status {
			name = "held output, status line"
			want = clearLine + want
		}
		t.Run(name, func(t *testing.T) {
			// A task's write to a full stdout holds the output: Notice
			// still writes, at once, on a line of its own.
			o, _, stderr := newTestOutput(t, Prefixed, false, false, status)
			o.begin(1)
			o.mu.Lock()
			err := o.Notice("hazlua: note")
			o.mu.Unlock()
			if err != nil {
				t.Errorf("Notice: %v", err)
			}
			if errs := contents(t, stderr); !strings.HasSuffix(errs, want) {
				t.Errorf("stderr %q, want it to end with %q", errs, want)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		var o *Output
		if err := o.Notice("x"); err != nil {
			t.Error(err)
		}
	})
}
