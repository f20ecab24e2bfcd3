package sysprep

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/reseal/reseal/internal/beneath"
)

// maxObstacles bounds how many obstacles one error lists.
const maxObstacles = 20

// checkRenames proves, before the commit point, that every step of a
// commit can be carried out: each path it renames, and each directory it
// renames in, is on the volume's own file system (no mount point between),
// the directories can be written, and nothing involved is immutable or
// append-only (which no permission overrides). A directory to delete is
// checked whole, since its contents are removed from the trash later.
// Anything else would be found after the commit point, leaving a volume
// half generalized; found here, the commit stops with the volume
// unchanged.
func checkRenames(vol *beneath.Dir, steps []step) error {
	rootDev, err := vol.Device("")
	if err != nil {
		return err
	}
	var obstacles []string
	add := func(name, why string) {
		obstacles = append(obstacles, name+": "+why)
	}
	checked := map[string]bool{}
	// checkDir checks the directory a rename happens in; one that does not
	// exist yet is created in its nearest existing ancestor.
	var checkDir func(dir string)
	checkDir = func(dir string) {
		if checked[dir] {
			return
		}
		checked[dir] = true
		if dir != "" {
			fi, err := vol.Lstat(dir)
			if errors.Is(err, fs.ErrNotExist) {
				checkDir(pathDir(dir))
				return
			}
			if err != nil {
				add(dir, err.Error())
				return
			}
			if !fi.IsDir() {
				add(dir, "not a directory")
				return
			}
		}
		checkNode(vol, dir, rootDev, add)
		if err := vol.Writable(dir); err != nil {
			add(orRoot(dir), "cannot be written ("+rootCause(err)+")")
		}
	}
	for _, s := range steps {
		if len(obstacles) >= maxObstacles {
			break
		}
		checkDir(pathDir(s.Path))
		fi, err := vol.Lstat(s.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			add(s.Path, err.Error())
			continue
		}
		checkNode(vol, s.Path, rootDev, add)
		if s.Op == "delete" && fi.IsDir() {
			checkTree(vol, s.Path, rootDev, add, 0)
		}
	}
	if len(obstacles) == 0 {
		return nil
	}
	if len(obstacles) > maxObstacles {
		obstacles = append(obstacles[:maxObstacles], "...")
	}
	return fmt.Errorf("%d path(s) cannot be moved or replaced (%s): %w", len(obstacles), strings.Join(obstacles, "; "), ErrRefused)
}

// checkNode checks one path for a mount point and for inode flags.
func checkNode(vol *beneath.Dir, name string, rootDev uint64, add func(string, string)) {
	if dev, err := vol.Device(name); err == nil && dev != rootDev && name != "" {
		add(orRoot(name), "on another file system (a mount point); unmount it")
	}
	flags, err := vol.Flags(name)
	if err != nil {
		add(orRoot(name), rootCause(err))
		return
	}
	switch {
	case flags&beneath.FlagImmutable != 0:
		add(orRoot(name), "immutable (chattr -i to allow it)")
	case flags&beneath.FlagAppendOnly != 0:
		add(orRoot(name), "append-only (chattr -a to allow it)")
	}
}

// checkTree checks everything below a directory that will be deleted.
func checkTree(vol *beneath.Dir, dir string, rootDev uint64, add func(string, string), depth int) {
	if depth > 512 {
		add(dir, "nested too deep")
		return
	}
	names, err := vol.ReadDirNames(dir)
	if err != nil {
		add(dir, rootCause(err))
		return
	}
	for _, n := range names {
		p := dir + "/" + n
		checkNode(vol, p, rootDev, add)
		if ok, _ := vol.IsRealDir(p); ok {
			checkTree(vol, p, rootDev, add, depth+1)
		}
	}
}

func orRoot(name string) string {
	if name == "" {
		return "the volume's root"
	}
	return name
}

func rootCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
