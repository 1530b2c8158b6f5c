// Package proctest reads Linux's process table (/proc) for tests that watch worker processes
// start, stay and end.
package proctest

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// Children returns the pids of ppid's running child processes (zombies left out), sorted;
// nil where /proc cannot be read.
func Children(ppid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, parent, ok := stat(pid); ok && parent == ppid && running(state) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// Alive reports whether pid runs (a zombie has ended).
func Alive(pid int) bool {
	state, _, ok := stat(pid)
	return ok && running(state)
}

func running(state string) bool { return state != "Z" && state != "X" }

// stat reads pid's state and parent from /proc/PID/stat (the fields after the command name,
// which may itself hold spaces and parentheses).
func stat(pid int) (state string, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0], ppid, err == nil
}
