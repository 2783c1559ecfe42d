package runner

// prioHeap is a binary min-heap of node indices ordered by prio[node]
// (lower first; prios are distinct, so the order is total and stable).
// Entries pack prio and node into one word, so comparisons need no
// lookups.
type prioHeap struct {
	prio  []int32
	items []uint64 // prio<<32 | node
}

func (h *prioHeap) Len() int { return len(h.items) }

// head returns the smallest node; the heap must not be empty.
func (h *prioHeap) head() int32 { return int32(uint32(h.items[0])) }

func (h *prioHeap) push(x int32) {
	h.items = append(h.items, uint64(uint32(h.prio[x]))<<32|uint64(uint32(x)))
	items := h.items
	i := len(items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if items[parent] <= items[i] {
			break
		}
		items[parent], items[i] = items[i], items[parent]
		i = parent
	}
}

// pop removes and returns the smallest node; the heap must not be empty.
func (h *prioHeap) pop() int32 {
	items := h.items
	top := items[0]
	last := len(items) - 1
	items[0] = items[last]
	items = items[:last]
	h.items = items
	i := 0
	for {
		l := 2*i + 1
		if l >= last {
			break
		}
		m := l
		if r := l + 1; r < last && items[r] < items[l] {
			m = r
		}
		if items[i] <= items[m] {
			break
		}
		items[i], items[m] = items[m], items[i]
		i = m
	}
	return int32(uint32(top))
}
