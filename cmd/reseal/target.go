package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

// Targets: a directory holding an offline Windows volume, or an image
// inside a WIM named IMAGE.wim:INDEX or IMAGE.wim:NAME (docs/backends.md).

// openWIMTarget opens TARGET when it names an image inside a WIM; it
// returns nil, nil for any other target. A WIM without that image is
// refused (exit 1); a missing or unreadable WIM is a failure (3).
func openWIMTarget(target string) (*winimage.WIMBackend, error) {
	p, image, ok := winimage.IsWIMTarget(target)
	if !ok {
		return nil, nil
	}
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
	}
	b, err := winimage.OpenWIM(p, image)
	if errors.Is(err, winimage.ErrNoImage) {
		return nil, refused(err)
	}
	return b, err
}

// wimOutputFlags are generalize's flags for a target inside a WIM.
type wimOutputFlags struct {
	out    string
	append bool
	name   string
}

const wimOutputUsage = `A TARGET inside a WIM (IMAGE.wim:INDEX or IMAGE.wim:NAME) is generalized
without applying it: the image is read from the WIM, and the generalized
image is written with exactly one of
  -o OUT.wim    a new WIM holding the generalized image alone (unchanged
                data copied compressed as it is; OUT.wim must not exist)
  --append      a new image at the end of IMAGE.wim, named after the
                source with " (generalized)" or --name; the images already
                there stay byte for byte the same
Only the changed files are compressed anew; the image keeps DISM's XML data
(WINDOWS, FLAGS, display names) with new counts and times. The WIM is
written beside its destination and renamed into place when complete.`

// setWIMOutput checks the output flags against the target and, for an
// image inside a WIM, tells the backend where to write.
func setWIMOutput(b *winimage.WIMBackend, f wimOutputFlags, dryRun bool) error {
	if b == nil {
		if f.out != "" || f.append || f.name != "" {
			return usageError("-o, --append and --name are for a TARGET inside a WIM (IMAGE.wim:INDEX); a directory is generalized in place")
		}
		return nil
	}
	switch {
	case f.out != "" && f.append:
		return usageError("-o and --append exclude each other: -o OUT.wim writes a new WIM holding the generalized image, --append adds it to %s as a new image", b.Path())
	case f.out == "" && !f.append && !dryRun:
		return usageError("a TARGET inside a WIM needs -o OUT.wim (a new WIM holding the generalized image) or --append (a new image in %s, the source image left as it is)", b.Path())
	}
	if f.out != "" {
		if _, err := os.Stat(f.out); err == nil {
			return refusedError("%s exists: name a new file with -o, or add the image to the source WIM with --append", f.out)
		}
	}
	name := f.name
	if name == "" && f.append {
		src := b.Info().Name
		if strings.TrimSpace(src) == "" {
			src = fmt.Sprintf("image %d", b.Index())
		}
		name = src + " (generalized)"
	}
	if f.append {
		for _, im := range b.Reader().Images() {
			if im.Name == name {
				return refusedError("%s already has an image named %q: choose another with --name", b.Path(), name)
			}
		}
	}
	b.Output = winimage.WIMOutput{Path: f.out, Append: f.append, Name: name}
	return nil
}

// describeWIMOutput says where a generalize inside a WIM wrote its image.
func describeWIMOutput(b *winimage.WIMBackend) string {
	o := b.Output
	if o.Append {
		return fmt.Sprintf("%s, new image %q (image %d unchanged)", b.Path(), o.Name, b.Index())
	}
	name := o.Name
	if name == "" {
		name = b.Info().Name
	}
	return fmt.Sprintf("%s, image 1 %q", o.Path, name)
}

// isWIMTarget reports whether an argument names an image inside a WIM.
func isWIMTarget(arg string) bool {
	_, _, ok := winimage.IsWIMTarget(arg)
	return ok
}

// joinImageHive names a hive inside an image as the reg commands show it:
// IMAGE.wim:1:Windows/System32/config/SYSTEM.
func joinImageHive(target, hivePath string) string {
	return target + ":" + strings.Trim(strings.ReplaceAll(hivePath, `\`, "/"), "/")
}

// splitImageHive undoes joinImageHive.
func splitImageHive(path string) (target, hivePath string, ok bool) {
	lower := strings.ToLower(path)
	for _, ext := range []string{".wim:", ".esd:"} {
		i := strings.Index(lower, ext)
		if i < 0 {
			continue
		}
		rest := path[i+len(ext):]
		j := strings.IndexByte(rest, ':')
		if j <= 0 || j == len(rest)-1 {
			return "", "", false
		}
		target = path[:i+len(ext)+j]
		if !isWIMTarget(target) {
			return "", "", false
		}
		return target, rest[j+1:], true
	}
	return "", "", false
}

// openImageHive reads a hive of an image inside a WIM (recovered from its
// logs in memory when dirty); it cannot be changed there.
func openImageHive(target, hivePath string, readOnly bool) (*hive.Hive, error) {
	if !readOnly {
		return nil, refusedError("%s: a hive inside a WIM image is read only (generalize writes images; apply the image to edit its hives)", joinImageHive(target, hivePath))
	}
	b, err := openWIMTarget(target)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	h, err := winimage.OpenHiveFile(b, hivePath, &hive.OpenOptions{ReadOnly: true})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, refused(fmt.Errorf("%s: no such hive in the image", joinImageHive(target, hivePath)))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", joinImageHive(target, hivePath), err)
	}
	return h, nil
}
