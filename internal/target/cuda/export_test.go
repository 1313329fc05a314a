package cuda

import "fmt"

// OnWarning routes the target's warnings to f until the returned function
// is called.
func OnWarning(f func(string)) (restore func()) {
	old := warnf
	warnf = func(format string, a ...any) { f(fmt.Sprintf(format, a...)) }
	return func() { warnf = old }
}
