package cuda

import (
	"fmt"
	"strings"
)

// LibraryInfo says whether one library loaded, from where, at what version.
type LibraryInfo struct {
	Name    string // "libcuda.so.1"
	Path    string // the file loaded, "" when it did not load
	Version string // e.g. "13.0"
	Err     error  // why it did not load (a diag.NoDevice error)
}

// Report is what Probe found.
type Report struct {
	Driver, NVRTC, CublasLt, Cudnn LibraryInfo
	Devices                        []Properties
	Err                            error // Available's answer
}

// Probe loads every library it can and describes the machine. It never
// fails: what is missing is in the Err fields.
func Probe() Report {
	var r Report
	r.Err = Available()
	r.Driver = LibraryInfo{Name: libCUDA.names[0], Err: libCUDA.load()}
	if r.Driver.Err == nil {
		r.Driver.Path = libCUDA.path
		if v, err := DriverVersion(); err == nil {
			r.Driver.Version = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
		} else {
			r.Driver.Err = err
		}
	}
	if r.Err == nil {
		n, _ := DeviceCount()
		for i := 0; i < n; i++ {
			if p, err := DeviceProperties(i); err == nil {
				r.Devices = append(r.Devices, p)
			}
		}
	}
	r.NVRTC = LibraryInfo{Name: libNVRTC.names[0], Err: libNVRTC.load()}
	if r.NVRTC.Err == nil {
		r.NVRTC.Path = libNVRTC.path
		ma, mi, err := NVRTCVersion()
		r.NVRTC.Version, r.NVRTC.Err = fmt.Sprintf("%d.%d", ma, mi), err
	}
	r.CublasLt = LibraryInfo{Name: libCublasLt.names[0], Err: libCublasLt.load()}
	if r.CublasLt.Err == nil {
		r.CublasLt.Path = libCublasLt.path
		v, _ := BlasLtVersion()
		r.CublasLt.Version = fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
	}
	r.Cudnn = LibraryInfo{Name: libCudnn.names[0], Err: libCudnn.load()}
	if r.Cudnn.Err == nil {
		r.Cudnn.Path = libCudnn.path
		v, _ := CudnnVersion()
		r.Cudnn.Version = fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
	}
	return r
}

// Versions is a one-line summary for engine headers and timing-cache keys,
// e.g. "driver 13.0, nvrtc 13.0, cublasLt 13.0.0, cudnn 9.14.0".
func (r Report) Versions() string {
	var parts []string
	for _, l := range []struct {
		name string
		info LibraryInfo
	}{{"driver", r.Driver}, {"nvrtc", r.NVRTC}, {"cublasLt", r.CublasLt}, {"cudnn", r.Cudnn}} {
		v := l.info.Version
		if l.info.Err != nil || v == "" {
			v = "missing"
		}
		parts = append(parts, l.name+" "+v)
	}
	return strings.Join(parts, ", ")
}

func (r Report) String() string {
	var b strings.Builder
	for _, l := range []LibraryInfo{r.Driver, r.NVRTC, r.CublasLt, r.Cudnn} {
		if l.Err != nil {
			fmt.Fprintf(&b, "%s: %v\n", l.Name, l.Err)
		} else {
			fmt.Fprintf(&b, "%s: %s (%s)\n", l.Name, l.Version, l.Path)
		}
	}
	for _, d := range r.Devices {
		fmt.Fprintf(&b, "device %d: %s, %s, %d SMs, %.1f GiB\n", d.Ordinal, d.Name, d.Arch, d.SMs, float64(d.TotalMemory)/(1<<30))
	}
	if r.Err != nil {
		fmt.Fprintf(&b, "no GPU: %v\n", r.Err)
	}
	return b.String()
}
