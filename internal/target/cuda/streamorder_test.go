package cuda

import (
	"errors"
	"testing"
)

// TestShortestAgreeingPrefix: the halving search finds the one library
// step after which a host wait makes the runs agree, with few runs; none
// when waiting after all of them does not help; and passes errors on.
func TestShortestAgreeingPrefix(t *testing.T) {
	for total := 1; total <= 60; total++ {
		for culprit := 1; culprit <= total; culprit++ {
			runs := 0
			got, err := shortestAgreeingPrefix(total, func(n int) (bool, error) {
				runs++
				return n >= culprit, nil
			})
			if err != nil || got != culprit {
				t.Fatalf("total %d, culprit %d: got %d, %v", total, culprit, got, err)
			}
			if limit := 2 + bitsFor(total); runs > limit {
				t.Errorf("total %d: %d runs, want at most %d", total, runs, limit)
			}
		}
	}
	if got, err := shortestAgreeingPrefix(10, func(int) (bool, error) { return false, nil }); got != 0 || err != nil {
		t.Errorf("no prefix agrees: got %d, %v, want 0", got, err)
	}
	boom := errors.New("boom")
	if _, err := shortestAgreeingPrefix(10, func(n int) (bool, error) { return n == 10, map[bool]error{true: nil, false: boom}[n == 10] }); !errors.Is(err, boom) {
		t.Errorf("an error in the search: got %v", err)
	}
}

func bitsFor(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}
