package hive

import (
	"context"
	"errors"
	"fmt"
)

// ErrSharedCell is wrapped when a cell is reached from more than one place:
// sibling keys sharing a subkey list give a small hive exponentially many
// paths, so every walk refuses a key reached twice, and edits refuse such a
// hive.
var ErrSharedCell = errors.New("a cell is reached twice (keys share a list; see reseal reg check)")

// Walk calls fn for k and every key below it, parents first and subkeys in
// stored order, with each key's depth below k. It stops with an error
// wrapping ErrSharedCell at a key or subkey list reached twice, at nesting
// deeper than Windows allows, when ctx is done, or when fn fails.
func (k *Key) Walk(ctx context.Context, fn func(k *Key, depth int) error) error {
	if _, err := k.node(); err != nil {
		return err
	}
	seen := map[uint32]bool{}
	return k.walk(ctx, 0, seen, fn)
}

func (k *Key) walk(ctx context.Context, depth int, seen map[uint32]bool, fn func(*Key, int) error) error {
	if depth > maxDepth {
		return fmt.Errorf("key %s: nested deeper than %d levels", quoted(k.Path()), maxDepth)
	}
	if seen[k.off] {
		return fmt.Errorf("key %s: %w", quoted(k.Path()), ErrSharedCell)
	}
	seen[k.off] = true
	if len(seen)%256 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := fn(k, depth); err != nil {
		return err
	}
	n, err := k.node()
	if err != nil {
		return err
	}
	if n.subkeyCount() > 0 {
		// The list cell itself: two keys with one list reach it twice even
		// before their subkeys do.
		list := n.subkeyList() | 1<<31
		if seen[list] {
			return fmt.Errorf("key %s: subkey list: %w", quoted(k.Path()), ErrSharedCell)
		}
		seen[list] = true
	}
	subs, err := k.SubKeys()
	if err != nil {
		return fmt.Errorf("key %s: %w", quoted(k.Path()), err)
	}
	for _, s := range subs {
		if err := s.walk(ctx, depth+1, seen, fn); err != nil {
			return err
		}
	}
	return nil
}
