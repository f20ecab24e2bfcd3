package main

// sysprepCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func sysprepCommands() []*command {
	return nil
}
