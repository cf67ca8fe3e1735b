//go:build !linux

package pgtest

import (
	"os"
	"syscall"
)

func procAttr(dir string) (*syscall.SysProcAttr, error) { return nil, nil }

func stopProcess(p *os.Process) { p.Kill() }
