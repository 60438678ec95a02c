//go:build !unix

package local

import (
	"errors"
	"syscall"
)

var errNotUnix = errors.New("local: the local provider needs Linux or macOS")

type account struct{}

func (p *Provider) runAs(*kind) (*account, error)               { return nil, errNotUnix }
func (a *account) chown(string) error                           { return nil }
func (a *account) lchown(string) error                          { return nil }
func sysProcAttr(*account, syscall.Signal) *syscall.SysProcAttr { return nil }
func groupAlive(int) bool                                       { return false }
func killGroup(int)                                             {}
func signalGroup(int, syscall.Signal) error                     { return errNotUnix }

func pidAlive(int) bool { return false }

// memDir: no known memory file system here.
func memDir(uint64) string { return "" }

func mine(string) bool { return false }
