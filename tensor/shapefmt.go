package tensor

import (
	"fmt"
	"strings"
)

// shapeFmt prints a shape as fmt's %v does ("[2 3]"), abbreviated past 16
// dimensions so that an error about a hostile file header (which may claim
// a hundred thousand dimensions) stays readable.
type shapeFmt []int64

func (s shapeFmt) String() string {
	const keep = 16
	if len(s) <= keep {
		return fmt.Sprint([]int64(s))
	}
	head := strings.TrimSuffix(fmt.Sprint([]int64(s[:keep])), "]")
	return fmt.Sprintf("%s ... (%d dims)]", head, len(s))
}
