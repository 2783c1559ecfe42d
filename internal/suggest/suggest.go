// Package suggest finds the "did you mean" candidate for a mistyped name:
// a task on the command line, a dependency, a key of an option table.
package suggest

import "unicode/utf8"

// Closest returns the candidate closest to name by edit distance when it is
// close enough to be a plausible typo, else "". Ties go to the earliest
// candidate. A candidate equal to name is returned as is (distance 0).
func Closest(name string, candidates []string) string {
	n := utf8.RuneCountInString(name)
	maxDist := max(2, n/3)
	best, bestDist := "", maxDist+1
	for _, c := range candidates {
		lc := utf8.RuneCountInString(c)
		if d := lc - n; d > maxDist || -d > maxDist {
			continue
		}
		d := Distance(name, c)
		if d < bestDist && d < max(n, lc) {
			best, bestDist = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
