package runner

import (
	"math/rand"
	"slices"
	"testing"
)

// TestPrioHeap checks the queue against a sorted list, with pushes in
// increasing order (the run), random pushes (the heap) and both mixed
// with pops.
func TestPrioHeap(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for round := range 200 {
		n := 1 + r.Intn(300)
		prio := make([]int32, n)
		for i, p := range r.Perm(n) {
			prio[i] = int32(p)
		}
		h := prioHeap{prio: prio}
		var want []int32 // nodes in the queue, by prio
		order := r.Perm(n)
		if round%3 == 0 { // increasing prio: all in the run
			slices.SortFunc(order, func(a, b int) int { return int(prio[a] - prio[b]) })
		}
		for _, x := range order {
			h.push(int32(x))
			want = append(want, int32(x))
			slices.SortFunc(want, func(a, b int32) int { return int(prio[a] - prio[b]) })
			for r.Intn(3) == 0 && len(want) > 0 {
				if got := h.head(); got != want[0] {
					t.Fatalf("round %d: head %d, want %d", round, got, want[0])
				}
				if got := h.pop(); got != want[0] {
					t.Fatalf("round %d: pop %d, want %d", round, got, want[0])
				}
				want = want[1:]
			}
			if h.Len() != len(want) {
				t.Fatalf("round %d: Len %d, want %d", round, h.Len(), len(want))
			}
		}
		for len(want) > 0 {
			if got := h.pop(); got != want[0] {
				t.Fatalf("round %d: pop %d, want %d", round, got, want[0])
			}
			want = want[1:]
		}
		if h.Len() != 0 {
			t.Fatalf("round %d: Len %d after popping all", round, h.Len())
		}
	}
}
