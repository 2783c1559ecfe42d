package runner

// prioHeap is a min-queue of node indices ordered by prio[node] (lower
// first; prios are distinct, so the order is total and stable). Entries
// pack prio and node into one word, so comparisons need no lookups.
//
// Nodes pushed in increasing prio, as the tasks ready at the start of a
// run or a plan are, go to a sorted run instead of the binary heap: a
// fan-out of 10,000 ready tasks is then pushed and popped in O(1) each,
// not O(log n). The others go to the heap; pop takes the smaller head.
type prioHeap struct {
	prio  []int32
	items []uint64 // the heap: prio<<32 | node
	run   []uint64 // ascending, from runAt on
	runAt int
}

func (h *prioHeap) Len() int { return len(h.items) + len(h.run) - h.runAt }

// fromRun reports whether the smallest entry is the run's head; the queue
// must not be empty.
func (h *prioHeap) fromRun() bool {
	return h.runAt < len(h.run) && (len(h.items) == 0 || h.run[h.runAt] < h.items[0])
}

// head returns the smallest node; the queue must not be empty.
func (h *prioHeap) head() int32 {
	if h.fromRun() {
		return int32(uint32(h.run[h.runAt]))
	}
	return int32(uint32(h.items[0]))
}

func (h *prioHeap) push(x int32) {
	key := uint64(uint32(h.prio[x]))<<32 | uint64(uint32(x))
	if h.runAt == len(h.run) {
		h.run, h.runAt = h.run[:0], 0
	}
	if len(h.run) == 0 || key > h.run[len(h.run)-1] {
		h.run = append(h.run, key)
		return
	}
	h.items = append(h.items, key)
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

// pop removes and returns the smallest node; the queue must not be empty.
func (h *prioHeap) pop() int32 {
	if h.fromRun() {
		top := h.run[h.runAt]
		h.runAt++
		return int32(uint32(top))
	}
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
