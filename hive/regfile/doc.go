// Package regfile reads and writes the text format of regedit's .reg files,
// "Windows Registry Editor Version 5.00" and the older "REGEDIT4", and
// applies them to a hive.
//
// The text layer is separate from the hive: a Parser turns a .reg file into
// a stream of operations (Op), one at a time, so that memory stays bounded
// by the largest single value; an Encoder writes keys and values in
// regedit's exact layout. Export and Import connect the two to a *hive.Key.
//
// Key paths in a .reg file carry a prefix that the hive file does not store
// (HKEY_LOCAL_MACHINE\SYSTEM for the SYSTEM hive). Export prepends it and
// Import strips it. Without a prefix, paths are written the way hivex writes
// them: the root key is [\] and its subkeys are [\Name].
package regfile
