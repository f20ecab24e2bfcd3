package hive

import (
	"errors"
	"io"
)

var errNotImplemented = errors.New("hive: not implemented yet")

func New() *Hive                                                    { panic("hive.New: not implemented yet") }
func (h *Hive) Commit() error                                       { return errNotImplemented }
func (h *Hive) SaveAs(path string) error                            { return errNotImplemented }
func (h *Hive) WriteTo(w io.Writer) (int64, error)                  { return 0, errNotImplemented }
func (h *Hive) Check() []Problem                                    { return []Problem{{-1, errNotImplemented.Error()}} }
func (k *Key) CreateKey(path string) (*Key, error)                  { return nil, errNotImplemented }
func (k *Key) DeleteKey(path string) error                          { return errNotImplemented }
func (k *Key) SetValue(name string, t ValueType, data []byte) error { return errNotImplemented }
func (k *Key) DeleteValue(name string) error                        { return errNotImplemented }
