//go:build tensorrt

package tensorrt

/*
#cgo CXXFLAGS: -std=c++17 -Wno-deprecated-declarations
#cgo CPPFLAGS: -I${SRCDIR}/../../../third_party/tensorrt/include -I${SRCDIR}/../../../third_party/cuda/include
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/trtc/trtc/diag"
)

// library is libnvinfer, opened once per process.
var library struct {
	once    sync.Once
	path    string
	version int
	err     error
}

func loadLibrary() (string, int, error) {
	library.once.Do(func() {
		tried := LibraryCandidates(os.Getenv)
		cs := make([]*C.char, len(tried))
		for i, p := range tried {
			cs[i] = C.CString(p)
			defer C.free(unsafe.Pointer(cs[i]))
		}
		errBuf := (*C.char)(C.malloc(8192))
		defer C.free(unsafe.Pointer(errBuf))
		i := C.trtc_load((**C.char)(unsafe.Pointer(&cs[0])), C.int(len(cs)), errBuf, 8192)
		if i < 0 {
			library.err = NotFoundError(tried, C.GoString(errBuf))
			return
		}
		library.path = tried[i]
		library.version = int(C.trtc_library_version())
		if hv := int(C.trtc_header_version()); hv/10000 != library.version/10000 {
			library.err = diag.Errorf(diag.NoDevice, "%s is TensorRT %s but this trtc was compiled against TensorRT %s headers; rebuild trtc against the installed headers", library.path, versionString(library.version), versionString(hv))
		}
	})
	return library.path, library.version, library.err
}

// versionString formats NV_TENSORRT_VERSION (major*10000+minor*100+patch).
func versionString(v int) string { return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100) }

// A session collects what TensorRT reports for one builder or runtime:
// the logger and error recorder call back with the session's id.
type session struct {
	name string
	mu   sync.Mutex
	errs []trtError
}

type trtError struct {
	code int
	msg  string
}

var (
	sessions  sync.Map // int64 -> *session
	sessionID atomic.Int64
)

func newSession(name string) (int64, *session) {
	id := sessionID.Add(1)
	s := &session{name: name}
	sessions.Store(id, s)
	return id, s
}

func endSession(id int64) { sessions.Delete(id) }

// err turns what TensorRT recorded into one typed error: the code of the
// first recorded error, and every message.
func (s *session) err(what string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return diag.Errorf(diag.Internal, "%s: %s failed and TensorRT reported no error", s.name, what)
	}
	msgs := make([]string, len(s.errs))
	for i, e := range s.errs {
		msgs[i] = fmt.Sprintf("%s: %s", ErrorCodeName(e.code), e.msg)
	}
	first := s.errs[0].code
	s.errs = nil
	return diag.Errorf(ErrorCode(first), "%s: %s failed: %s", s.name, what, strings.Join(msgs, "; "))
}

var severities = []slog.Level{slog.LevelError, slog.LevelError, slog.LevelWarn, slog.LevelInfo, slog.LevelDebug}

//export trtcGoLog
func trtcGoLog(id C.int64_t, severity C.int32_t, msg *C.char) {
	lvl := slog.LevelDebug
	if int(severity) >= 0 && int(severity) < len(severities) {
		lvl = severities[severity]
	}
	name := ""
	if v, ok := sessions.Load(int64(id)); ok {
		name = v.(*session).name
	}
	slog.Log(context.Background(), lvl, C.GoString(msg), "component", "tensorrt", "session", name)
}

//export trtcGoError
func trtcGoError(id C.int64_t, code C.int32_t, msg *C.char) {
	v, ok := sessions.Load(int64(id))
	if !ok {
		return
	}
	s := v.(*session)
	s.mu.Lock()
	s.errs = append(s.errs, trtError{int(code), C.GoString(msg)})
	s.mu.Unlock()
}
