// Package hive reads and writes Windows registry hive files (the "regf"
// format), following Maxim Suhanov's "Windows registry file format
// specification" (github.com/msuhanov/regf, CC BY 4.0).
//
// A hive is opened whole into memory (Open), recovered in memory from the
// transaction logs beside it when the primary file is dirty, edited in memory
// through Key handles in the style of golang.org/x/sys/windows/registry, and
// written back atomically and clean (Commit, SaveAs, WriteTo). Edits work on
// the cells in place, as Windows does: everything the package does not
// understand (volatile data, flags, unknown fields) is carried over
// unchanged.
//
// A Hive is not safe for concurrent use; Key handles share their Hive.
//
// See docs/hive.md for what happens to .LOG1/.LOG2 on Commit and why.
package hive
