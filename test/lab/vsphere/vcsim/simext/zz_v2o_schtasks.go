// v2o lab add-on compiled INTO package simulator (test-only): schtasks.exe in the simulated
// Windows guest, as far as a first-boot task needs it: /Create, /Query, /Delete, recorded in the
// guest model (V2oGuest.Tasks, which travels in the boot disk's state region). Texts and exit
// codes as Microsoft documents schtasks (learn.microsoft.com "schtasks create", "schtasks query",
// "schtasks delete"): success lines start with "SUCCESS:", failures with "ERROR:" and exit 1; a
// missing task is "ERROR: The system cannot find the file specified.".
package simulator

import (
	"fmt"
	"strings"
)

func v2oTaskName(n string) string {
	return `\` + strings.TrimPrefix(strings.Trim(n, `"`), `\`)
}

func (x *v2oExec) schtasks(args []string, o *v2oOut) int32 {
	if len(args) == 0 {
		args = []string{"/query"}
	}
	opts := map[string]string{}
	for i := 1; i < len(args); i++ {
		a := strings.ToLower(args[i])
		if !strings.HasPrefix(a, "/") {
			continue
		}
		if a == "/f" || a == "/v" || a == "/hresult" {
			opts[a] = "1"
			continue
		}
		if i+1 < len(args) {
			opts[a] = args[i+1]
			i++
		}
	}
	bad := func(msg string) int32 {
		o.stderr.WriteString("ERROR: " + msg + crlf + `Type "SCHTASKS ` + strings.ToUpper(strings.TrimPrefix(args[0], "/")) + ` /?" for usage.` + crlf)
		return 1
	}
	name, hasName := opts["/tn"]
	find := func() int {
		for i, t := range x.g.Tasks {
			if strings.EqualFold(t.Name, v2oTaskName(name)) {
				return i
			}
		}
		return -1
	}
	switch strings.ToLower(args[0]) {
	case "/create":
		if !hasName || opts["/tr"] == "" || opts["/sc"] == "" {
			return bad("Invalid syntax. Mandatory option '/tn', '/tr' or '/sc' is missing.")
		}
		t := V2oTask{Name: v2oTaskName(name), Run: opts["/tr"], Schedule: strings.ToUpper(opts["/sc"]),
			User: opts["/ru"], Level: strings.ToUpper(opts["/rl"])}
		if i := find(); i >= 0 {
			if opts["/f"] == "" {
				// without /F schtasks asks "WARNING: The task name ... already exists. Do you want to
				// replace it (Y/N)?" on the console; a guest operation has none to answer it
				return bad("Cannot create a file when that file already exists.")
			}
			x.g.Tasks[i] = t
		} else {
			x.g.Tasks = append(x.g.Tasks, t)
		}
		fmt.Fprintf(&o.stdout, "SUCCESS: The scheduled task \"%s\" has successfully been created."+crlf, strings.Trim(name, `"`))
		return 0
	case "/query":
		if !hasName {
			o.stdout.WriteString(crlf + "Folder: \\" + crlf + "TaskName                                 Next Run Time          Status" + crlf +
				"======================================== ====================== ===============" + crlf)
			for _, t := range x.g.Tasks {
				fmt.Fprintf(&o.stdout, "%-40s %-22s %s"+crlf, strings.TrimPrefix(t.Name, `\`), "N/A", "Ready")
			}
			return 0
		}
		i := find()
		if i < 0 {
			o.stderr.WriteString("ERROR: The system cannot find the file specified." + crlf)
			return 1
		}
		t := x.g.Tasks[i]
		o.stdout.WriteString(crlf + "Folder: \\" + crlf + "TaskName                                 Next Run Time          Status" + crlf +
			"======================================== ====================== ===============" + crlf)
		fmt.Fprintf(&o.stdout, "%-40s %-22s %s"+crlf, strings.TrimPrefix(t.Name, `\`), "N/A", "Ready")
		return 0
	case "/delete":
		if !hasName {
			return bad("Invalid syntax. Mandatory option '/tn' is missing.")
		}
		i := find()
		if i < 0 {
			o.stderr.WriteString("ERROR: The system cannot find the file specified." + crlf)
			return 1
		}
		x.g.Tasks = append(x.g.Tasks[:i:i], x.g.Tasks[i+1:]...)
		fmt.Fprintf(&o.stdout, "SUCCESS: The scheduled task \"%s\" was successfully deleted."+crlf, strings.Trim(name, `"`))
		return 0
	}
	return bad("Invalid argument/option - '" + args[0] + "'.")
}
