//go:build !linux

package chassis

// KernelDatapath reports whether the kernel offers Open vSwitch's kernel
// datapath; only Linux has one.
func KernelDatapath() (bool, error) { return false, nil }
