package main

// wimCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func wimCommands() []*command {
	return nil
}
