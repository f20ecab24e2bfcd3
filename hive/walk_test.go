package hive_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/hivetest"
)

func sharedListsHive(t *testing.T) *hive.Hive {
	t.Helper()
	data, err := hivetest.SharedLists(30)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestWalkRefusesSharedLists: a walk over a hive whose sibling keys share
// subkey lists (2^30 paths) stops at the first key reached twice.
func TestWalkRefusesSharedLists(t *testing.T) {
	h := sharedListsHive(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := 0
	err := h.Root().Walk(ctx, func(*hive.Key, int) error { keys++; return nil })
	if !errors.Is(err, hive.ErrSharedCell) {
		t.Fatalf("walk: %v after %d keys", err, keys)
	}
	if keys > 100 {
		t.Errorf("walked %d keys before refusing", keys)
	}
}

// TestEditRefusesSharedLists: no edit writes into a hive whose keys share
// lists (the change would appear under both keys).
func TestEditRefusesSharedLists(t *testing.T) {
	h := sharedListsHive(t)
	k, err := h.Root().OpenKey(`B00`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateKey("new"); !errors.Is(err, hive.ErrSharedCell) {
		t.Errorf("CreateKey: %v", err)
	}
	if err := k.SetValue("v", hive.TypeDWord, []byte{1, 0, 0, 0}); !errors.Is(err, hive.ErrSharedCell) {
		t.Errorf("SetValue: %v", err)
	}
}
