package plugins

// Unregister removes a plugin, so tests can load an engine in a binary
// that lacks it. Only tests have it: registrations are for the life of a
// program.
func Unregister(k Key) {
	mu.Lock()
	defer mu.Unlock()
	delete(registry, k)
}
