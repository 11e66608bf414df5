// v2o lab add-on compiled INTO package simulator (test-only): the command interpreter of the
// simulated Windows guest. It understands what a driver-install step runs, with Windows' output
// formats and exit codes: cmd.exe /c (&&, ||, &, >, >>, 2>&1, if exist, echo, type, dir, del,
// mkdir, exit), powershell.exe -Command / -EncodedCommand / -File (statements, `& native`, exit,
// `| Out-File`, `>` writing UTF-16LE as Windows PowerShell 5.1 does, Set-ItemProperty,
// Get-ItemPropertyValue, Test-Path, Get-Content, Write-Output), pnputil (/add-driver [/subdirs]
// [/install], /enum-drivers, /delete-driver), reg (query, add, delete), sc (config start=, qc),
// wmic logicaldisk, hostname, whoami, ver. Scripted rules (V2oRule) override any simple command.
package simulator

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/vmware/govmomi/vim25/types"
)

const crlf = "\r\n"

type v2oExec struct {
	g        *V2oGuest
	vm       *VirtualMachine
	letters  []string
	isos     map[string]string
	cwd      string
	commands []string
	exited   bool
	exitCode int32
	// PowerShell state (zz_v2o_guest_ps.go): variables the script assigned, the line being run
	// (for error positions), a pipeline that never started, modules auto-loaded, and whether the
	// caller redirected stderr (cmd's 2> / 2>&1).
	psVars        map[string]string
	psLine        int
	psAborted     bool
	psModules     bool
	psModeled     bool // the statement just run was one of zz_v2o_guest_ps.go's (pipeline or cmdlet)
	errRedirected bool
	copyNoPath    string // the destination copyFile refused: its folder does not exist
}

type v2oOut struct{ stdout, stderr bytes.Buffer }

func (g *V2oGuest) env() []string {
	return []string{
		"COMPUTERNAME=" + g.Seed.HostName,
		"OS=Windows_NT",
		"PROCESSOR_ARCHITECTURE=AMD64",
		"SystemDrive=C:",
		"SystemRoot=C:\\Windows",
		"TEMP=C:\\Users\\" + g.Seed.Username + "\\AppData\\Local\\Temp",
		"USERNAME=" + g.Seed.Username,
		"windir=C:\\Windows",
	}
}

var v2oPrograms = map[string]bool{
	"cmd": true, "powershell": true, "pwsh": true, "pnputil": true, "reg": true, "sc": true,
	"wmic": true, "hostname": true, "whoami": true, "shutdown": true, "schtasks": true,
}

func v2oProgramBase(p string) string {
	p = strings.Trim(strings.TrimSpace(p), `"'`)
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	p = strings.ToLower(p)
	return strings.TrimSuffix(p, ".exe")
}

// start runs a program (with g.mu held) and returns its pid; the process reports as running
// for ProcessDuration, then with its exit code.
func (g *V2oGuest) start(vm *VirtualMachine, spec *types.GuestProgramSpec) (int64, types.BaseMethodFault) {
	base := v2oProgramBase(spec.ProgramPath)
	full := strings.TrimSpace(spec.ProgramPath + " " + spec.Arguments)
	if !v2oPrograms[base] && g.rule(full) == nil {
		if _, ok := g.readFile(spec.ProgramPath); !ok {
			return 0, &types.FileNotFound{FileFault: types.FileFault{File: spec.ProgramPath}}
		}
	}
	if spec.WorkingDirectory != "" && !g.isDir(spec.WorkingDirectory) {
		return 0, &types.InvalidArgument{InvalidProperty: "spec.workingDirectory"}
	}
	x := &v2oExec{g: g, vm: vm, cwd: `C:\Windows\System32`}
	if spec.WorkingDirectory != "" {
		x.cwd = spec.WorkingDirectory
	}
	x.letters, x.isos = v2oCDDrives(vm)
	var out v2oOut
	var code int32
	switch base {
	case "cmd":
		code = x.runCmd(spec.Arguments, &out)
	case "powershell", "pwsh":
		code = x.runPS(spec.Arguments, base == "pwsh", &out)
	default:
		code = x.simple(base+" "+spec.Arguments, &out)
	}
	if x.exited {
		code = x.exitCode
	}
	pid := g.nextPid
	g.nextPid += 4
	now := time.Now()
	name := spec.ProgramPath
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	g.procs[pid] = &v2oProcess{
		info: types.GuestProcessInfo{
			Name:      strings.Trim(name, `"`),
			Pid:       pid,
			Owner:     g.Seed.HostName + `\` + g.Seed.Username,
			CmdLine:   fmt.Sprintf("\"%s\" %s", strings.Trim(spec.ProgramPath, `"`), spec.Arguments),
			StartTime: now,
		},
		endsAt: now.Add(g.ProcessDuration),
		exit:   code,
	}
	g.History = append(g.History, V2oHistoryEntry{
		Pid: pid, Program: spec.ProgramPath, Args: spec.Arguments, ExitCode: code,
		Stdout: out.stdout.String(), Stderr: out.stderr.String(), Started: now, Commands: x.commands,
	})
	if len(g.History) > 200 {
		g.History = g.History[len(g.History)-200:]
	}
	return pid, nil
}

func (g *V2oGuest) rule(cmd string) *V2oRule {
	for i, r := range g.Rules {
		re, err := regexp.Compile("(?i)" + r.Match)
		if err != nil || !re.MatchString(cmd) {
			continue
		}
		r.matched++
		if r.Times > 0 && r.matched >= r.Times {
			g.Rules = append(g.Rules[:i:i], g.Rules[i+1:]...)
		}
		return r
	}
	return nil
}

// --- tokenizing ------------------------------------------------------------------------

// v2oArgs splits a Windows command line like CommandLineToArgvW: double quotes group, \" is a quote.
func v2oArgs(s string) []string {
	var out []string
	var cur strings.Builder
	in, has := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
			has = true
		case c == '"':
			in = !in
			has = true
		case (c == ' ' || c == '\t') && !in:
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(c)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}

// v2oPSArgs splits PowerShell arguments: single and double quotes group.
func v2oPSArgs(s string) []string {
	var out []string
	var cur strings.Builder
	var q byte
	has := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
			has = true
		case q == 0 && (c == ' ' || c == '\t'):
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(c)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}

// splitTop splits s at any of seps outside quotes and parentheses/braces; returns parts and the
// separator preceding each part ("" for the first).
func splitTop(s string, seps []string, quotes string) (parts, ops []string) {
	depth := 0
	var q byte
	last := 0
	op := ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if q != 0 {
			if c == q {
				q = 0
			}
			continue
		}
		if strings.IndexByte(quotes, c) >= 0 {
			q = c
			continue
		}
		switch c {
		case '(', '{':
			depth++
			continue
		case ')', '}':
			depth--
			continue
		}
		if depth > 0 {
			continue
		}
		if c == '&' && i > 0 && s[i-1] == '>' {
			continue // 2>&1 is a redirection, not a command separator
		}
		for _, sep := range seps {
			if strings.HasPrefix(s[i:], sep) {
				parts = append(parts, s[last:i])
				ops = append(ops, op)
				op = sep
				i += len(sep) - 1
				last = i + 1
				break
			}
		}
	}
	parts = append(parts, s[last:])
	ops = append(ops, op)
	return parts, ops
}

type v2oRedirect struct {
	stdout, stderr       string // target file ("" = inherit, "nul" = discard)
	stdoutApp, stderrApp bool
	errToOut             bool
	allToOut             bool // PowerShell *>
}

// cutRedirects removes >, >>, 1>, 2>, 2>&1, *> from a command outside quotes.
func cutRedirects(s, quotes string) (string, v2oRedirect) {
	var r v2oRedirect
	var b strings.Builder
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if q != 0 {
			if c == q {
				q = 0
			}
			b.WriteByte(c)
			continue
		}
		if strings.IndexByte(quotes, c) >= 0 {
			q = c
			b.WriteByte(c)
			continue
		}
		if c != '>' {
			b.WriteByte(c)
			continue
		}
		stream := byte('1')
		cur := b.String()
		if n := len(cur); n > 0 && (cur[n-1] == '1' || cur[n-1] == '2' || cur[n-1] == '*') && (n == 1 || cur[n-2] == ' ') {
			stream = cur[n-1]
			b.Reset()
			b.WriteString(cur[:n-1])
		}
		app := false
		if i+1 < len(s) && s[i+1] == '>' {
			app = true
			i++
		}
		if strings.HasPrefix(s[i+1:], "&1") {
			i += 2
			if stream == '2' {
				r.errToOut = true
			}
			continue
		}
		j := i + 1
		for j < len(s) && s[j] == ' ' {
			j++
		}
		k := j
		if k < len(s) && (s[k] == '"' || s[k] == '\'') {
			qq := s[k]
			k++
			for k < len(s) && s[k] != qq {
				k++
			}
			k++
		} else {
			for k < len(s) && s[k] != ' ' {
				k++
			}
		}
		if k > len(s) {
			k = len(s)
		}
		target := strings.Trim(s[j:k], `"'`)
		switch stream {
		case '2':
			r.stderr, r.stderrApp = target, app
		case '*':
			r.stdout, r.stdoutApp, r.allToOut = target, app, true
		default:
			r.stdout, r.stdoutApp = target, app
		}
		i = k - 1
	}
	return strings.TrimSpace(b.String()), r
}

func (x *v2oExec) abs(p string) string {
	p = strings.Trim(strings.TrimSpace(p), `"'`)
	if len(p) >= 2 && p[1] == ':' {
		return p
	}
	if strings.HasPrefix(p, `\`) {
		return "C:" + p
	}
	return strings.TrimSuffix(x.cwd, `\`) + `\` + p
}

// write routes a command's output per its redirections; utf16 is how PowerShell 5.1 writes files.
func (x *v2oExec) route(r v2oRedirect, cmd *v2oOut, out *v2oOut, encoding string) {
	stdout := cmd.stdout.Bytes()
	stderr := cmd.stderr.Bytes()
	if r.errToOut || r.allToOut {
		stdout = append(append([]byte{}, stdout...), stderr...)
		stderr = nil
	}
	put := func(target string, app bool, data []byte, dst *bytes.Buffer) {
		switch {
		case target == "":
			dst.Write(data)
		case strings.EqualFold(target, "nul") || strings.EqualFold(target, "$null"):
		default:
			p := x.abs(target)
			if i := strings.LastIndex(p, `\`); i > 2 && !x.g.isDir(p[:i]) {
				// A redirect or Out-File into a folder that does not exist fails; neither creates it.
				if x.psLine > 0 {
					out.stderr.WriteString("Out-File : Could not find a part of the path '" + p + "'." + crlf)
				} else {
					out.stderr.WriteString("The system cannot find the path specified." + crlf)
				}
				return
			}
			if encoding == "" && x.g.Seed.v2oGerman() {
				encoding = "cp850" // console programs write the OEM code page into a redirect
			}
			enc := v2oEncode(data, encoding)
			old, ok := x.g.readFile(p)
			if app && ok {
				if encoding == "utf16" && len(old) >= 2 {
					enc = v2oEncode(data, "utf16-nobom")
				}
				enc = append(append([]byte{}, old...), enc...)
			}
			x.g.writeFile(p, enc)
		}
	}
	put(r.stdout, r.stdoutApp, stdout, &out.stdout)
	put(r.stderr, r.stderrApp, stderr, &out.stderr)
}

// v2oCP850: the German letters of the lab's texts in code page 850 (a German console's OEM page).
var v2oCP850 = map[rune]byte{'ä': 0x84, 'ö': 0x94, 'ü': 0x81, 'Ä': 0x8E, 'Ö': 0x99, 'Ü': 0x9A, 'ß': 0xE1}

func v2oEncode(data []byte, encoding string) []byte {
	switch encoding {
	case "utf16", "utf16-nobom":
		u := utf16.Encode([]rune(string(data)))
		var b bytes.Buffer
		if encoding == "utf16" {
			b.Write([]byte{0xFF, 0xFE})
		}
		for _, c := range u {
			b.WriteByte(byte(c))
			b.WriteByte(byte(c >> 8))
		}
		return b.Bytes()
	case "utf8bom":
		return append([]byte{0xEF, 0xBB, 0xBF}, data...)
	case "cp850":
		var b bytes.Buffer
		for _, r := range string(data) {
			if c, ok := v2oCP850[r]; ok {
				b.WriteByte(c)
			} else if r < 0x80 {
				b.WriteByte(byte(r))
			} else {
				b.WriteByte('?')
			}
		}
		return b.Bytes()
	}
	return data
}

// --- cmd.exe -----------------------------------------------------------------------------

func (x *v2oExec) runCmd(args string, out *v2oOut) int32 {
	rest := strings.TrimSpace(args)
	for {
		low := strings.ToLower(rest)
		if strings.HasPrefix(low, "/c") || strings.HasPrefix(low, "/k") {
			rest = strings.TrimSpace(rest[2:])
			break
		}
		if strings.HasPrefix(low, "/") {
			i := strings.IndexByte(rest, ' ')
			if i < 0 {
				return 0
			}
			rest = strings.TrimSpace(rest[i:])
			continue
		}
		if rest == "" {
			return 0
		}
		break
	}
	if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
		inner := rest[1 : len(rest)-1]
		if len(v2oArgs(inner)) > 0 {
			rest = inner
		}
	}
	return x.cmdLine(rest, out)
}

func (x *v2oExec) cmdLine(line string, out *v2oOut) int32 {
	parts, ops := splitTop(line, []string{"&&", "||", "&", "\n"}, `"`)
	var code int32
	for i, p := range parts {
		if x.exited {
			break
		}
		if strings.TrimSpace(p) == "" {
			continue
		}
		switch ops[i] {
		case "&&":
			if code != 0 {
				continue
			}
		case "||":
			if code == 0 {
				continue
			}
		}
		code = x.cmdSimple(p, out)
	}
	return code
}

// v2oEnvVar: cmd.exe expands %NAME% from the environment before it parses a command; an unknown
// name stays as typed (cmd.exe's rule on the command line).
var v2oEnvVar = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_]*)%`)

func (x *v2oExec) expand(s string) string {
	env := map[string]string{}
	for _, kv := range x.g.env() {
		if i := strings.IndexByte(kv, '='); i > 0 {
			env[strings.ToLower(kv[:i])] = kv[i+1:]
		}
	}
	return v2oEnvVar.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := env[strings.ToLower(m[1:len(m)-1])]; ok {
			return v
		}
		return m
	})
}

func (x *v2oExec) cmdSimple(s string, out *v2oOut) int32 {
	body, redir := cutRedirects(x.expand(strings.TrimSpace(s)), `"`)
	var cmd v2oOut
	saved := x.errRedirected
	x.errRedirected = redir.stderr != "" || redir.errToOut
	code := x.cmdBody(body, &cmd)
	x.errRedirected = saved
	x.route(redir, &cmd, out, "")
	return code
}

func (x *v2oExec) cmdBody(body string, out *v2oOut) int32 {
	body = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(body), "@"))
	if strings.HasPrefix(body, "(") && strings.HasSuffix(body, ")") {
		return x.cmdLine(body[1:len(body)-1], out)
	}
	args := v2oArgs(body)
	if len(args) == 0 {
		return 0
	}
	name := v2oProgramBase(args[0])
	rest := strings.TrimSpace(body[min(len(body), len(strings.SplitN(body, " ", 2)[0])):])
	switch name {
	case "echo", "echo.":
		if name == "echo." || rest == "" {
			out.stdout.WriteString(crlf)
			return 0
		}
		out.stdout.WriteString(rest + crlf)
		return 0
	case "exit":
		a := strings.Fields(rest)
		if len(a) > 0 && strings.EqualFold(a[0], "/b") {
			a = a[1:]
		}
		x.exited = true
		if len(a) > 0 {
			n, _ := strconv.Atoi(a[0])
			x.exitCode = int32(n)
		}
		return x.exitCode
	case "if":
		return x.cmdIf(rest, out)
	case "set", "setlocal", "endlocal", "rem", "::", "chcp", "title", "cls", "@echo":
		return 0
	case "cd", "chdir":
		if rest != "" {
			if !x.g.isDir(x.abs(rest)) {
				out.stderr.WriteString("The system cannot find the path specified." + crlf)
				return 1
			}
			x.cwd = x.abs(rest)
		} else {
			out.stdout.WriteString(x.cwd + crlf)
		}
		return 0
	case "powershell", "pwsh":
		return x.runPS(rest, name == "pwsh", out)
	case "cmd":
		return x.runCmd(rest, out)
	}
	return x.simple(body, out)
}

func (x *v2oExec) cmdIf(rest string, out *v2oOut) int32 {
	neg := false
	low := strings.ToLower(rest)
	if strings.HasPrefix(low, "not ") {
		neg = true
		rest = strings.TrimSpace(rest[4:])
		low = strings.ToLower(rest)
	}
	if !strings.HasPrefix(low, "exist ") {
		out.stderr.WriteString("The syntax of the command is incorrect." + crlf)
		return 1
	}
	rest = strings.TrimSpace(rest[6:])
	a := v2oArgs(rest)
	if len(a) == 0 {
		return 1
	}
	p := a[0]
	// the remainder after the path token (quoted or not)
	after := strings.TrimSpace(rest[len(p):])
	if strings.HasPrefix(rest, `"`) {
		after = strings.TrimSpace(rest[len(p)+2:])
	}
	then, els := after, ""
	if parts, _ := splitTop(after, []string{" else "}, `"`); len(parts) == 2 {
		then, els = parts[0], parts[1]
	}
	ok := x.exists(p)
	if neg {
		ok = !ok
	}
	if ok {
		return x.cmdSimple(strings.TrimSpace(then), out)
	}
	if els != "" {
		return x.cmdSimple(strings.TrimSpace(els), out)
	}
	return 0
}

func (x *v2oExec) exists(p string) bool {
	p = x.abs(p)
	if ok, _ := v2oISOHas(x.isos, p); ok {
		return !x.g.isoMissing(p)
	}
	if strings.HasSuffix(p, `\*`) || strings.HasSuffix(p, `\*.*`) {
		return x.g.isDir(p[:strings.LastIndex(p, `\`)])
	}
	_, ok := x.g.files[v2oNormPath(p)]
	return ok || x.g.isDir(p)
}

// --- PowerShell ------------------------------------------------------------------------

func (x *v2oExec) runPS(args string, core bool, out *v2oOut) int32 {
	raw := strings.TrimSpace(args)
	var script string
	encoded := false
	noExit := regexp.MustCompile(`(?i)(^|\s)-noe(xit)?(\s|$)`).MatchString(raw)
	for raw != "" {
		tok := strings.SplitN(raw, " ", 2)
		t := strings.ToLower(tok[0])
		next := ""
		if len(tok) == 2 {
			next = strings.TrimSpace(tok[1])
		}
		switch {
		case t == "-command" || t == "-c" || t == "/command":
			script = strings.Join(v2oArgs(next), " ")
			raw = ""
			continue
		case t == "-encodedcommand" || t == "-enc" || t == "-e" || t == "-ec":
			a := strings.SplitN(next, " ", 2)
			b, err := base64.StdEncoding.DecodeString(a[0])
			if err != nil || len(b)%2 != 0 {
				out.stderr.WriteString("Cannot process the command because the value specified with -EncodedCommand is not properly encoded." + crlf)
				return 1
			}
			u := make([]uint16, len(b)/2)
			for i := range u {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			}
			script = string(utf16.Decode(u))
			encoded = true
			raw = ""
			continue
		case t == "-file" || t == "-f":
			a := v2oArgs(next)
			if len(a) == 0 {
				return 1
			}
			data, ok := x.g.readFile(x.abs(a[0]))
			if !ok {
				out.stderr.WriteString(fmt.Sprintf("The argument '%s' to the -File parameter does not exist."+crlf, a[0]))
				return 1
			}
			if msg := x.psScriptBlocked(x.abs(a[0]), data); msg != "" && !core {
				out.stderr.WriteString(msg)
				return 1
			}
			script = v2oDecodeText(data)
			raw = ""
			continue
		case t == "-executionpolicy" || t == "-ep" || t == "-windowstyle" || t == "-inputformat" || t == "-outputformat":
			a := strings.SplitN(next, " ", 2)
			raw = ""
			if len(a) == 2 {
				raw = a[1]
			}
			continue
		case strings.HasPrefix(t, "-"):
			raw = next
			continue
		}
		script = strings.Join(v2oArgs(raw), " ")
		raw = ""
	}
	if !encoded || noExit || !x.errRedirected || core {
		return x.psScript(script, core, out)
	}
	var local v2oOut
	code := x.psScript(script, core, &local)
	out.stdout.Write(local.stdout.Bytes())
	out.stderr.WriteString(psCLIXML(local.stderr.String(), x.psModules))
	return code
}

func v2oDecodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		u := make([]uint16, (len(b)-2)/2)
		for i := range u {
			u[i] = uint16(b[2+2*i]) | uint16(b[3+2*i])<<8
		}
		return string(utf16.Decode(u))
	}
	return string(bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}))
}

var psOutFile = regexp.MustCompile(`(?i)\|\s*(out-file|set-content|add-content)\s+(.*)$`)

func (x *v2oExec) psScript(script string, core bool, out *v2oOut) int32 {
	stmts, ops := splitTop(script, []string{";", "\n"}, `"'`)
	ok := true
	var last int32
	x.psLine = 1
	defer func() { x.psLine = 0 }()
	for i, st := range stmts {
		if ops[i] == "\n" {
			x.psLine++
		}
		st = strings.TrimSpace(strings.TrimSuffix(st, "\r"))
		if st == "" || strings.HasPrefix(st, "#") {
			continue
		}
		low := strings.ToLower(st)
		if strings.HasPrefix(low, "exit") && (len(low) == 4 || low[4] == ' ') {
			v := strings.TrimSpace(st[4:])
			x.exited = true
			switch {
			case v == "":
				x.exitCode = 0
			case strings.EqualFold(v, "$LASTEXITCODE"):
				x.exitCode = last
			default:
				n, _ := strconv.Atoi(v)
				x.exitCode = int32(n)
			}
			return x.exitCode
		}
		if strings.HasPrefix(st, "$") && strings.Contains(st, "=") && !strings.Contains(st, "==") {
			x.psAssignment(st) // $d = 'C:\…' is kept for "$d\…"; others ($ErrorActionPreference) change nothing here
			continue
		}
		st = x.psExpandVars(st)
		encoding := "utf16"
		if core {
			encoding = ""
		}
		body := st
		var redir v2oRedirect
		if m := psOutFile.FindStringSubmatch(st); m != nil {
			body = strings.TrimSpace(st[:len(st)-len(m[0])])
			a := v2oPSArgs(m[2])
			app := strings.EqualFold(m[1], "add-content")
			enc := map[bool]string{true: "", false: "utf16"}[core || !strings.EqualFold(m[1], "out-file")]
			var target string
			for i := 0; i < len(a); i++ {
				switch strings.ToLower(a[i]) {
				case "-filepath", "-path", "-literalpath":
					if i+1 < len(a) {
						target = a[i+1]
						i++
					}
				case "-encoding":
					if i+1 < len(a) {
						switch strings.ToLower(a[i+1]) {
						case "ascii", "oem", "default", "utf8nobom":
							enc = ""
						case "utf8":
							enc = map[bool]string{true: "", false: "utf8bom"}[core]
						case "unicode":
							enc = "utf16"
						}
						i++
					}
				case "-append":
					app = true
				case "-force", "-nonewline":
				default:
					if target == "" {
						target = a[i]
					}
				}
			}
			redir = v2oRedirect{stdout: target, stdoutApp: app}
			encoding = enc
		} else {
			body, redir = cutRedirects(st, `"'`)
		}
		var cmd v2oOut
		code, success := x.psStatement(body, core, &cmd)
		if x.psAborted { // the pipeline never started: Out-File created nothing
			x.psAborted = false
			redir.stdout = ""
		}
		if x.exited {
			x.route(redir, &cmd, out, encoding)
			return x.exitCode
		}
		x.route(redir, &cmd, out, encoding)
		if code >= 0 {
			last = code
		}
		ok = success
		if !success && x.psModeled && strings.EqualFold(x.psVars["erroractionpreference"], "stop") {
			// $ErrorActionPreference = 'Stop' turns a cmdlet's error into one that ends the
			// script (Microsoft "about_Preference_Variables"): nothing after it runs. Only for the
			// cmdlets zz_v2o_guest_ps.go models (the lab does not parse every script construct).
			return 1
		}
		x.psModeled = false
	}
	if ok {
		return 0
	}
	return 1
}

// psStatement runs one statement; returns the native exit code (-1 for cmdlets) and $?.
func (x *v2oExec) psStatement(st string, core bool, out *v2oOut) (int32, bool) {
	st = strings.TrimSpace(st)
	if strings.HasPrefix(st, "& ") {
		st = strings.TrimSpace(st[2:])
	}
	// Scripted rules apply to cmdlets too (e.g. a broken CIM: Get-CimInstance failing).
	if r := x.g.rule(st); r != nil && !r.Apply && !v2oPrograms[v2oProgramBase(strings.SplitN(st, " ", 2)[0])] {
		out.stdout.WriteString(r.Stdout)
		out.stderr.WriteString(r.Stderr)
		return r.ExitCode, r.ExitCode == 0
	}
	if parts, _ := splitTop(st, []string{"|"}, `"'`); len(parts) > 1 && x.psPipelineOf(parts) {
		x.psModeled = true
		return x.psPipeline(parts, out)
	}
	if c, ok, handled := x.psExtra(st, out); handled {
		x.psModeled = true
		return c, ok
	}
	// (Get-CimInstance -ClassName Win32_CDROMDrive).Drive: PowerShell enumerates the property of
	// every instance, one a line (member enumeration, PowerShell 3+).
	if m := regexp.MustCompile(`(?i)^\((?:get-ciminstance|get-wmiobject)\s+(?:-classname\s+|-class\s+)?win32_cdromdrive\)\.(drive|volumename)$`).FindStringSubmatch(st); m != nil {
		for _, r := range x.cdroms() {
			out.stdout.WriteString(r[map[bool]int{true: 0, false: 1}[strings.EqualFold(m[1], "drive")]] + crlf)
		}
		return -1, true
	}
	// (Get-ItemProperty -Path X -Name Y).Y
	if m := regexp.MustCompile(`(?i)^\((get-itemproperty\s+.*)\)\.(\w+)$`).FindStringSubmatch(st); m != nil {
		return x.psGetItemProperty(v2oPSArgs(m[1])[1:], m[2], out)
	}
	a := v2oPSArgs(st)
	if len(a) == 0 {
		return -1, true
	}
	name := strings.ToLower(a[0])
	args := a[1:]
	param := func(names ...string) string {
		for i := 0; i < len(args); i++ {
			for _, n := range names {
				if strings.EqualFold(args[i], n) && i+1 < len(args) {
					return args[i+1]
				}
			}
		}
		return ""
	}
	positional := func(i int) string {
		var pos []string
		for j := 0; j < len(args); j++ {
			if strings.HasPrefix(args[j], "-") {
				j++
				continue
			}
			pos = append(pos, args[j])
		}
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	switch name {
	case "write-output", "echo", "write-host":
		out.stdout.WriteString(strings.Join(args, " ") + crlf)
		return -1, true
	case "set-itemproperty", "new-itemproperty":
		key := param("-Path", "-LiteralPath")
		if key == "" {
			key = positional(0)
		}
		vname := param("-Name")
		val := param("-Value")
		typ := strings.ToLower(param("-Type", "-PropertyType"))
		if _, exists, _ := x.g.regGet(key, ""); !exists {
			out.stderr.WriteString(fmt.Sprintf("Set-ItemProperty : Cannot find path '%s' because it does not exist."+crlf, key))
			return -1, false
		}
		rv := v2oRegValue{"REG_SZ", val}
		if old, _, ok := x.g.regGet(key, vname); ok && typ == "" {
			rv.Type = old.Type
		}
		if typ == "dword" || rv.Type == "REG_DWORD" {
			n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(val), "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(strings.ToLower(val), "0x")], 32)
			if err != nil {
				out.stderr.WriteString("Set-ItemProperty : Cannot convert value to type System.UInt32." + crlf)
				return -1, false
			}
			rv = v2oRegValue{"REG_DWORD", uint32(n)}
		} else if typ == "expandstring" {
			rv.Type = "REG_EXPAND_SZ"
		}
		x.g.regSet(key, vname, rv)
		return -1, true
	case "get-itempropertyvalue":
		key := param("-Path", "-LiteralPath")
		if key == "" {
			key = positional(0)
		}
		n := param("-Name")
		if n == "" {
			n = positional(1)
		}
		return x.psGetItemProperty([]string{"-Path", key}, n, out)
	case "get-itemproperty":
		return x.psGetItemProperty(args, param("-Name"), out)
	case "test-path":
		p := param("-Path", "-LiteralPath")
		if p == "" {
			p = positional(0)
		}
		res := false
		if strings.HasPrefix(strings.ToUpper(p), "HKLM:") || strings.HasPrefix(strings.ToUpper(p), "REGISTRY::") {
			_, res, _ = x.g.regGet(p, "")
		} else {
			res = x.exists(p)
		}
		out.stdout.WriteString(map[bool]string{true: "True", false: "False"}[res] + crlf)
		return -1, true
	case "get-content", "type", "cat", "gc":
		p := param("-Path", "-LiteralPath")
		if p == "" {
			p = positional(0)
		}
		data, ok := x.g.readFile(x.abs(p))
		if !ok {
			out.stderr.WriteString(fmt.Sprintf("Get-Content : Cannot find path '%s' because it does not exist."+crlf, x.abs(p)))
			return -1, false
		}
		out.stdout.WriteString(strings.TrimRight(v2oDecodeText(data), "\r\n") + crlf)
		return -1, true
	case "new-item", "mkdir", "md":
		p := param("-Path")
		if p == "" {
			p = positional(0)
		}
		if strings.HasPrefix(strings.ToUpper(p), "HKLM:") {
			x.g.regSet(p, "", v2oRegValue{})
			return -1, true
		}
		x.g.mkdir(x.abs(p))
		return -1, true
	case "remove-item", "del", "rm":
		p := param("-Path", "-LiteralPath")
		if p == "" {
			p = positional(0)
		}
		n := v2oNormPath(x.abs(p))
		delete(x.g.files, n)
		delete(x.g.names, n)
		return -1, true
	case "start-sleep":
		return -1, true
	case "copy-item", "copy", "cp":
		src := param("-LiteralPath", "-Path")
		if src == "" {
			src = positional(0)
		}
		dst := param("-Destination")
		if dst == "" {
			dst = positional(1)
		}
		x.copyNoPath = ""
		if !x.copyFile(x.psExpand(src), x.psExpand(dst)) {
			if x.copyNoPath != "" {
				out.stderr.WriteString(fmt.Sprintf("Copy-Item : Could not find a part of the path '%s'."+crlf, x.copyNoPath))
				return -1, false
			}
			out.stderr.WriteString(fmt.Sprintf("Copy-Item : Cannot find path '%s' because it does not exist."+crlf, x.psExpand(src)))
			return -1, false
		}
		return -1, true
	case "get-ciminstance", "get-wmiobject":
		class := param("-ClassName", "-Class")
		if class == "" {
			class = positional(0)
		}
		if !strings.EqualFold(class, "Win32_CDROMDrive") {
			out.stderr.WriteString("Get-CimInstance : Invalid class " + class + " (the v2o lab knows Win32_CDROMDrive)" + crlf)
			return -1, false
		}
		for _, r := range x.cdroms() {
			fmt.Fprintf(&out.stdout, "Caption      : NECVMWar VMware SATA CD00"+crlf+"Drive        : %s"+crlf+"VolumeName   : %s"+crlf+crlf, r[0], r[1])
		}
		return -1, true
	case "get-volume":
		out.stdout.WriteString(crlf + "DriveLetter FriendlyName       FileSystemType DriveType HealthStatus" + crlf +
			"----------- ------------       -------------- --------- ------------" + crlf + "C                                NTFS           Fixed     Healthy" + crlf)
		for _, r := range x.cdroms() {
			fs := map[bool]string{true: "CDFS", false: "Unknown"}[r[1] != ""]
			fmt.Fprintf(&out.stdout, "%-11s %-18s %-14s CD-ROM    Healthy"+crlf, r[0][:1], r[1], fs)
		}
		return -1, true
	case "cmd", "cmd.exe":
		c := x.runCmd(strings.Join(quoteAll(args), " "), out)
		return c, c == 0
	case "powershell", "powershell.exe", "pwsh", "pwsh.exe":
		c := x.runPS(strings.Join(quoteAll(args), " "), core, out)
		return c, c == 0
	}
	base := v2oProgramBase(a[0])
	if v2oPrograms[base] || x.g.rule(st) != nil {
		c := x.simple(base+" "+strings.Join(quoteAll(args), " "), out)
		return c, c == 0
	}
	out.stderr.WriteString(fmt.Sprintf("%s : The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program."+crlf, a[0], a[0]))
	return -1, false
}

// cdroms: each CD-ROM drive letter and its volume label (empty without media), in device order.
func (x *v2oExec) cdroms() [][2]string {
	var out [][2]string
	for _, l := range x.letters {
		vol := ""
		if iso, ok := x.isos[l]; ok {
			vol = strings.TrimSuffix(isoBase(iso), ".iso")
			if V2oISOLabel != "" && v2oIsVirtioISO(iso) {
				vol = V2oISOLabel
			}
		}
		out = append(out, [2]string{l, vol})
	}
	return out
}

// psExpand: $env:NAME inside a PowerShell string (the only variables the lab knows).
func (x *v2oExec) psExpand(s string) string {
	for _, kv := range x.g.env() {
		if i := strings.IndexByte(kv, '='); i > 0 {
			s = regexp.MustCompile(`(?i)\$env:`+regexp.QuoteMeta(kv[:i])+`\b`).ReplaceAllLiteralString(s, kv[i+1:])
		}
	}
	return s
}

func quoteAll(a []string) []string {
	out := make([]string, len(a))
	for i, s := range a {
		if strings.ContainsAny(s, " \t") {
			s = `"` + s + `"`
		}
		out[i] = s
	}
	return out
}

func (x *v2oExec) psGetItemProperty(args []string, name string, out *v2oOut) (int32, bool) {
	key := ""
	for i := 0; i < len(args); i++ {
		if strings.EqualFold(args[i], "-Path") || strings.EqualFold(args[i], "-LiteralPath") {
			if i+1 < len(args) {
				key = args[i+1]
			}
			i++
			continue
		}
		if strings.EqualFold(args[i], "-Name") {
			i++
			continue
		}
		if key == "" && !strings.HasPrefix(args[i], "-") {
			key = args[i]
		}
	}
	v, keyOK, ok := x.g.regGet(key, name)
	if !keyOK || !ok {
		out.stderr.WriteString(fmt.Sprintf("Property %s does not exist at path %s."+crlf, name, key))
		return -1, false
	}
	out.stdout.WriteString(fmt.Sprint(v.Data) + crlf)
	return -1, true
}

// --- native programs ---------------------------------------------------------------------

// simple runs one native command line "name args..." (after rules).
func (x *v2oExec) simple(line string, out *v2oOut) int32 {
	line = strings.TrimSpace(line)
	x.commands = append(x.commands, line)
	// Rules see the program as its bare name ("pnputil /add-driver ..."), then the line as typed.
	first := strings.SplitN(line, " ", 2)[0]
	if strings.HasPrefix(line, `"`) {
		if j := strings.Index(line[1:], `"`); j >= 0 {
			first = line[:j+2]
		}
	}
	norm := strings.TrimSpace(v2oProgramBase(first) + " " + strings.TrimSpace(line[len(first):]))
	r := x.g.rule(norm)
	if r == nil && norm != line {
		r = x.g.rule(line)
	}
	if r != nil && !r.Apply {
		out.stdout.WriteString(r.Stdout)
		out.stderr.WriteString(r.Stderr)
		return r.ExitCode
	}
	args := v2oArgs(line)
	name := v2oProgramBase(args[0])
	var code int32
	var o v2oOut
	switch name {
	case "pnputil":
		code = x.pnputil(args[1:], &o)
	case "reg":
		code = x.reg(args[1:], &o)
	case "sc":
		code = x.sc(args[1:], &o)
	case "wmic":
		code = x.wmic(args[1:], &o)
	case "schtasks":
		code = x.schtasks(args[1:], &o)
	case "hostname":
		o.stdout.WriteString(x.g.Seed.HostName + crlf)
	case "whoami":
		o.stdout.WriteString(strings.ToLower(x.g.Seed.HostName+`\`+x.g.Seed.Username) + crlf)
	case "ver":
		o.stdout.WriteString(crlf + "Microsoft Windows [Version " + x.g.Seed.WindowsVersion + ".1]" + crlf)
	case "type":
		data, ok := x.g.readFile(x.abs(strings.Join(args[1:], " ")))
		if !ok {
			o.stderr.WriteString("The system cannot find the file specified." + crlf)
			code = 1
		} else {
			o.stdout.Write(data)
		}
	case "dir":
		code = x.dir(args[1:], &o)
	case "copy", "xcopy":
		var files []string
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "/") {
				files = append(files, a)
			}
		}
		x.copyNoPath = ""
		if len(files) != 2 || !x.copyFile(files[0], files[1]) {
			if x.copyNoPath != "" {
				o.stderr.WriteString(x.t("copy.nopath") + crlf)
				o.stdout.WriteString(x.t("copy.zero") + crlf)
			} else {
				o.stderr.WriteString(x.t("copy.notfound") + crlf)
			}
			code = 1
		} else {
			o.stdout.WriteString(x.t("copy.one") + crlf)
		}
	case "del", "erase":
		for _, p := range args[1:] {
			if strings.HasPrefix(p, "/") {
				continue
			}
			n := v2oNormPath(x.abs(p))
			if _, ok := x.g.readFile(x.abs(p)); !ok {
				o.stderr.WriteString("Could Not Find " + x.abs(p) + crlf)
				continue
			}
			delete(x.g.files, n)
			delete(x.g.names, n)
		}
	case "rmdir", "rd":
		// rd [/S] [/Q] dir (Microsoft "rd" command page): without /S only an empty folder goes
		// ("The directory is not empty.", 145); a missing one: "The system cannot find the file
		// specified." (2); a file: "The directory name is invalid." (267).
		tree := false
		for _, p := range args[1:] {
			if strings.EqualFold(p, "/s") {
				tree = true
			}
		}
		for _, p := range args[1:] {
			if strings.HasPrefix(p, "/") {
				continue
			}
			n := v2oNormPath(x.abs(p))
			c, ok := x.g.files[n]
			switch {
			case !ok:
				o.stderr.WriteString("The system cannot find the file specified." + crlf)
				code = 2
				continue
			case c != nil:
				o.stderr.WriteString("The directory name is invalid." + crlf)
				code = 267
				continue
			}
			var under []string
			for k := range x.g.files {
				if strings.HasPrefix(k, n+`\`) {
					under = append(under, k)
				}
			}
			if len(under) > 0 && !tree {
				o.stderr.WriteString("The directory is not empty." + crlf)
				code = 145
				continue
			}
			for _, k := range append(under, n) {
				delete(x.g.files, k)
				delete(x.g.names, k)
			}
		}
	case "mkdir", "md":
		for _, p := range args[1:] {
			if _, ok := x.g.files[v2oNormPath(x.abs(p))]; ok {
				o.stderr.WriteString("A subdirectory or file " + p + " already exists." + crlf)
				code = 1
				continue
			}
			x.g.mkdir(x.abs(p))
		}
	case "shutdown":
		o.stdout.WriteString("")
	default:
		if r == nil {
			o.stderr.WriteString(fmt.Sprintf("'%s' is not recognized as an internal or external command,"+crlf+"operable program or batch file."+crlf, args[0]))
			code = 9009
		}
	}
	if r != nil { // Apply: effects ran, output and exit code come from the rule
		out.stdout.WriteString(r.Stdout)
		out.stderr.WriteString(r.Stderr)
		return r.ExitCode
	}
	out.stdout.Write(o.stdout.Bytes())
	out.stderr.Write(o.stderr.Bytes())
	return code
}

func (x *v2oExec) dir(args []string, o *v2oOut) int32 {
	p := x.cwd
	bare, dirsOnly := false, false
	for _, a := range args {
		switch {
		case strings.EqualFold(a, "/b"):
			bare = true
		case strings.EqualFold(a, "/ad"):
			dirsOnly = true
		case !strings.HasPrefix(a, "/"):
			p = x.abs(a)
		}
	}
	// A wildcard in the last element lists the matching names of its folder, like cmd.exe.
	glob := ""
	if i := strings.LastIndex(p, `\`); i > 1 && strings.ContainsAny(p[i+1:], "*?") {
		p, glob = p[:i], strings.ToLower(p[i+1:])
	}
	entries := x.list(p)
	var shown []string
	for _, e := range entries {
		if glob != "" {
			if ok, _ := path.Match(glob, strings.ToLower(e)); !ok {
				continue
			}
		}
		if dirsOnly {
			full := strings.TrimSuffix(p, `\`) + `\` + e
			isoOK, isoDir := v2oISOHas(x.isos, full)
			if !(isoOK && isoDir) && !x.g.isDir(full) {
				continue
			}
		}
		shown = append(shown, e)
	}
	if entries == nil || (glob != "" || dirsOnly) && len(shown) == 0 {
		o.stderr.WriteString(x.t("file.notfound") + crlf)
		return 1
	}
	if !bare {
		o.stdout.WriteString(" Directory of " + p + crlf + crlf)
	}
	for _, e := range shown {
		o.stdout.WriteString(e + crlf)
	}
	return 0
}

// copyFile copies one file (from the guest or a mounted ISO) as cmd's copy and PowerShell's
// Copy-Item do; a destination that is a folder gets the source's name. Files on the lab ISO have
// no bytes the guest model keeps, so a copy from it holds a marker naming its source.
func (x *v2oExec) copyFile(src, dst string) bool {
	src, dst = x.abs(src), x.abs(dst)
	data, ok := x.g.readFile(src)
	if !ok {
		isoOK, isoDir := v2oISOHas(x.isos, src)
		if !isoOK || isoDir || x.g.isoMissing(src) {
			return false
		}
		data = []byte("MZ v2o lab copy of " + src + " (virtio-win " + V2oISOLabel + ")\r\n")
	}
	if x.g.isDir(dst) {
		dst = strings.TrimSuffix(dst, `\`) + `\` + src[strings.LastIndex(src, `\`)+1:]
	}
	if i := strings.LastIndex(dst, `\`); i > 2 && !x.g.isDir(dst[:i]) {
		// Neither copy nor Copy-Item creates the destination's folder ("The system cannot find
		// the path specified." / "Could not find a part of the path"): create it first.
		x.copyNoPath = dst
		return false
	}
	x.g.writeFile(dst, data)
	return true
}

// list returns the names directly under dir (from the guest files or a mounted ISO).
func (x *v2oExec) list(dir string) []string {
	n := v2oNormPath(dir)
	seen := map[string]bool{}
	var out []string
	if ok, isDir := v2oISOHas(x.isos, dir); ok && isDir {
		rel := strings.TrimPrefix(n[2:], `\`)
		for _, f := range V2oISOFiles {
			f = strings.ReplaceAll(f, "/", `\`)
			if rel != "" {
				if !strings.HasPrefix(strings.ToLower(f), rel+`\`) {
					continue
				}
				f = f[len(rel)+1:]
			}
			name := strings.SplitN(f, `\`, 2)[0]
			if !seen[strings.ToLower(name)] {
				seen[strings.ToLower(name)] = true
				out = append(out, name)
			}
		}
		return out
	}
	if !x.g.isDir(dir) {
		return nil
	}
	out = []string{}
	for k, orig := range x.g.names {
		if strings.HasPrefix(k, n+`\`) && !strings.Contains(k[len(n)+1:], `\`) {
			out = append(out, orig[strings.LastIndex(orig, `\`)+1:])
		}
	}
	sort.Strings(out)
	return out
}

var v2oDriverInfo = map[string]V2oDriver{
	"viostor": {Provider: "Red Hat, Inc.", ClassName: "Storage controllers", ClassGUID: "{4d36e97b-e325-11ce-bfc1-08002be10318}"},
	"vioscsi": {Provider: "Red Hat, Inc.", ClassName: "Storage controllers", ClassGUID: "{4d36e97b-e325-11ce-bfc1-08002be10318}"},
	"netkvm":  {Provider: "Red Hat, Inc.", ClassName: "Network adapters", ClassGUID: "{4d36e972-e325-11ce-bfc1-08002be10318}"},
	"balloon": {Provider: "Red Hat, Inc.", ClassName: "System devices", ClassGUID: "{4d36e97d-e325-11ce-bfc1-08002be10318}"},
	// vioser.inf: Class = System (virtio-win vioserial/*/vioser.inf), service vioser.
	"vioser": {Provider: "Red Hat, Inc.", ClassName: "System devices", ClassGUID: "{4d36e97d-e325-11ce-bfc1-08002be10318}"},
}

var v2oOSFolders = map[string]bool{"2k8": true, "2k8r2": true, "2k12": true, "2k12r2": true, "2k16": true, "2k19": true, "2k22": true, "2k25": true, "w7": true, "w8": true, "w8.1": true, "w10": true, "w11": true}

// infFiles expands an INF path pattern (wildcards in the last element; /subdirs recurses).
func (x *v2oExec) infFiles(pattern string, subdirs bool) []string {
	p := x.abs(pattern)
	i := strings.LastIndex(p, `\`)
	dir, glob := p[:i], strings.ToLower(p[i+1:])
	var out []string
	match := func(full string) {
		name := strings.ToLower(full[strings.LastIndex(full, `\`)+1:])
		if ok, _ := path.Match(glob, name); ok && strings.HasSuffix(name, ".inf") {
			out = append(out, full)
		}
	}
	nd := v2oNormPath(dir)
	if ok, _ := v2oISOHas(x.isos, dir); ok {
		rel := strings.TrimPrefix(nd[2:], `\`)
		for _, f := range V2oISOFiles {
			f = strings.ReplaceAll(f, "/", `\`)
			lf := strings.ToLower(f)
			var under string
			if rel == "" {
				under = lf
			} else if strings.HasPrefix(lf, rel+`\`) {
				under = lf[len(rel)+1:]
			} else {
				continue
			}
			if !subdirs && strings.Contains(under, `\`) {
				continue
			}
			match(strings.ToUpper(dir[:2]) + `\` + f)
		}
		return out
	}
	for k, orig := range x.g.names {
		if x.g.files[k] == nil || !strings.HasPrefix(k, nd+`\`) {
			continue
		}
		if !subdirs && strings.Contains(k[len(nd)+1:], `\`) {
			continue
		}
		match(orig)
	}
	sort.Strings(out)
	return out
}

// v2oText: pnputil's and reg's messages in English or German (a de-DE Windows answers in
// German: "Veröffentlichter Name", "Originalname"), so nothing may parse them.
var v2oText = map[string][2]string{
	"pnp.title":      {"Microsoft PnP Utility", "Microsoft-PnP-Dienstprogramm"},
	"pnp.adding":     {"Adding driver package:  ", "Treiberpaket wird hinzugefügt:  "},
	"pnp.added":      {"Driver package added successfully.", "Das Treiberpaket wurde erfolgreich hinzugefügt."},
	"pnp.exists":     {"Driver package added successfully. (Already exists in the system)", "Das Treiberpaket wurde erfolgreich hinzugefügt. (Bereits im System vorhanden)"},
	"pnp.published":  {"Published Name:         ", "Veröffentlichter Name:  "},
	"pnp.original":   {"Original Name:          ", "Originalname:           "},
	"pnp.provider":   {"Provider Name:          ", "Anbietername:           "},
	"pnp.class":      {"Class Name:             ", "Klassenname:            "},
	"pnp.classguid":  {"Class GUID:             ", "Klassen-GUID:           "},
	"pnp.version":    {"Driver Version:         ", "Treiberversion:         "},
	"pnp.signer":     {"Signer Name:            ", "Signaturgebername:      "},
	"pnp.failed":     {"Failed to add driver package: ", "Fehler beim Hinzufügen des Treiberpakets: "},
	"pnp.notfound":   {"The system cannot find the file specified.", "Das System kann die angegebene Datei nicht finden."},
	"pnp.nodevice":   {"Driver package is up-to-date on device or no matching devices found.", "Das Treiberpaket ist auf dem Gerät aktuell, oder es wurden keine passenden Geräte gefunden."},
	"pnp.total":      {"Total driver packages:  ", "Treiberpakete gesamt:  "},
	"pnp.addedcount": {"Added driver packages:  ", "Hinzugefügte Treiberpakete:  "},
	"pnp.deleted":    {"Driver package deleted successfully.", "Das Treiberpaket wurde erfolgreich gelöscht."},
	"pnp.badparam":   {"The parameter is incorrect.", "Falscher Parameter."},
	"reg.ok":         {"The operation completed successfully.", "Der Vorgang wurde erfolgreich beendet."},
	"reg.notfound":   {"ERROR: The system was unable to find the specified registry key or value.", "FEHLER: Der angegebene Registrierungsschlüssel bzw. Wert wurde nicht gefunden."},
	"reg.syntax":     {"ERROR: Invalid syntax.", "FEHLER: Ungültige Syntax."},
	"file.notfound":  {"File Not Found", "Datei nicht gefunden"},
	"copy.one":       {"        1 file(s) copied.", "        1 Datei(en) kopiert."},
	"copy.notfound":  {"The system cannot find the file specified.", "Das System kann die angegebene Datei nicht finden."},
	"copy.nopath":    {"The system cannot find the path specified.", "Das System kann den angegebenen Pfad nicht finden."},
	"copy.zero":      {"        0 file(s) copied.", "        0 Datei(en) kopiert."},
}

func (x *v2oExec) t(key string) string {
	if x.g.Seed.v2oGerman() {
		return v2oText[key][1]
	}
	return v2oText[key][0]
}

// pnputil, per Microsoft "PnPUtil Command Syntax" and "PnPUtil Return Values":
//   - Windows 10 1607 / Server 2016 and later: /add-driver <inf|*.inf> [/subdirs] [/install],
//     /enum-drivers, /delete-driver; the Windows 8 switches -a, -i -a, -e, -d still work.
//   - Server 2012 / 2012 R2 (Windows 8 pnputil): -a, -i -a, -e, -d, -f only; /add-driver is an
//     unknown switch (usage text, failure).
//   - Adding stages the package in the driver store (addDriver). /install (-i) then installs it on
//     matching devices: a VMware VM has no virtio device (PCI VEN_1AF4), so nothing installs, the
//     INF's AddService never runs (no service key, no .sys in System32\drivers) and pnputil exits
//     259 ERROR_NO_MORE_ITEMS, which virt-v2v also accepts as success (libguestfs/virt-v2v PR #96).
func (x *v2oExec) pnputil(args []string, o *v2oOut) int32 {
	o.stdout.WriteString(x.t("pnp.title") + crlf + crlf)
	legacy := x.g.Seed.v2oLegacyPnputil()
	var mode, target string
	subdirs, install := false, false
	for i := 0; i < len(args); i++ {
		a := strings.ToLower(args[i])
		if legacy && strings.HasPrefix(a, "/") && a != "/?" {
			// Windows 8's pnputil names the first switch it does not know, then its usage.
			o.stdout.WriteString("Unknown option: " + args[i] + crlf + crlf +
				"Usage:" + crlf + "pnputil.exe [-f | -i] [ -? | -a | -d | -e ] <INF name>" + crlf)
			return 87
		}
		switch a {
		case "/add-driver", "-a":
			mode = "add"
			if i+1 < len(args) {
				target = args[i+1]
				i++
			}
		case "/enum-drivers", "-e":
			mode = "enum"
		case "/delete-driver", "-d":
			mode = "delete"
			if i+1 < len(args) {
				target = args[i+1]
				i++
			}
		case "/subdirs":
			subdirs = true
		case "/install", "-i":
			install = true
		case "/reboot", "/uninstall", "/force", "-f":
		}
	}
	switch mode {
	case "enum":
		for _, d := range x.g.Drivers {
			o.stdout.WriteString(x.t("pnp.published") + d.PublishedName + crlf + x.t("pnp.original") + d.OriginalName + crlf +
				x.t("pnp.provider") + d.Provider + crlf + x.t("pnp.class") + d.ClassName + crlf + x.t("pnp.classguid") + d.ClassGUID + crlf +
				x.t("pnp.version") + d.Version + crlf + x.t("pnp.signer") + d.Signer + crlf + crlf)
		}
		return 0
	case "delete":
		for i, d := range x.g.Drivers {
			if strings.EqualFold(d.PublishedName, target) {
				x.g.Drivers = append(x.g.Drivers[:i:i], x.g.Drivers[i+1:]...)
				x.g.unstage(d)
				o.stdout.WriteString(x.t("pnp.deleted") + crlf)
				return 0
			}
		}
		o.stdout.WriteString(x.t("pnp.failed") + x.t("pnp.badparam") + crlf)
		return 87
	case "add":
	default:
		if legacy {
			o.stdout.WriteString("Usage:" + crlf + "pnputil.exe [-f | -i] [ -? | -a | -d | -e ] <INF name>" + crlf)
		} else {
			o.stdout.WriteString("Usage: pnputil /add-driver <filename.inf | *.inf> [/subdirs] [/install] [/reboot]" + crlf)
		}
		return 87
	}
	infs := x.infFiles(target, subdirs)
	if len(infs) == 0 {
		o.stdout.WriteString(x.t("pnp.adding") + target + crlf)
		o.stdout.WriteString(x.t("pnp.failed") + x.t("pnp.notfound") + crlf + crlf)
		o.stdout.WriteString(x.t("pnp.total") + "0" + crlf + x.t("pnp.addedcount") + "0" + crlf)
		return 2
	}
	added := 0
	var failed int32
	for _, inf := range infs {
		name := inf[strings.LastIndex(inf, `\`)+1:]
		stem := strings.TrimSuffix(strings.ToLower(name), ".inf")
		o.stdout.WriteString(x.t("pnp.adding") + name + crlf)
		if f, ok := x.g.FailDrivers[stem]; ok {
			msg := f.Message
			if msg == "" {
				msg = "The third-party INF does not contain digital signature information."
			}
			o.stdout.WriteString(x.t("pnp.failed") + msg + crlf + crlf)
			failed = f.ExitCode
			if failed == 0 {
				failed = 1
			}
			continue
		}
		comps := strings.Split(strings.ToLower(inf), `\`)
		osFolder := ""
		for _, c := range comps {
			if v2oOSFolders[c] {
				osFolder = c
			}
		}
		if x.g.StrictOSFolder && osFolder != "" && !strings.EqualFold(osFolder, x.g.Seed.OS) {
			o.stdout.WriteString(x.t("pnp.failed") + "The driver package is not compatible with this version of Windows (" + osFolder + " package on Windows " + x.g.Seed.WindowsVersion + ")." + crlf + crlf)
			failed = 1
			continue
		}
		var pub string
		for _, d := range x.g.Drivers {
			if strings.EqualFold(d.OriginalName, name) {
				pub = d.PublishedName
			}
		}
		if pub != "" {
			o.stdout.WriteString(x.t("pnp.exists") + crlf)
		} else {
			info := v2oDriverInfo[stem]
			if info.Provider == "" {
				info = V2oDriver{Provider: "Unknown", ClassName: "Unknown", ClassGUID: "{00000000-0000-0000-0000-000000000000}"}
			}
			info.OriginalName = strings.ToLower(name)
			info.Version = "08/30/2024 100.100.104.26200"
			info.Signer = "Red Hat, Inc."
			info.Source = inf
			pub = x.g.addDriver(info).PublishedName
			o.stdout.WriteString(x.t("pnp.added") + crlf)
		}
		o.stdout.WriteString(x.t("pnp.published") + pub + crlf)
		if install {
			// No device on VMware hardware matches a virtio package: nothing is installed.
			o.stdout.WriteString(x.t("pnp.nodevice") + crlf)
		}
		o.stdout.WriteString(crlf)
		added++
	}
	o.stdout.WriteString(x.t("pnp.total") + itoa(len(infs)) + crlf + x.t("pnp.addedcount") + itoa(added) + crlf)
	if failed == 0 && install {
		return 259 // ERROR_NO_MORE_ITEMS: staged, no device took it
	}
	return failed
}

func v2oRegFormat(v v2oRegValue) string {
	if v.Type == "REG_DWORD" {
		var n uint64
		switch d := v.Data.(type) {
		case uint32:
			n = uint64(d)
		case float64:
			n = uint64(d)
		case int:
			n = uint64(d)
		}
		return fmt.Sprintf("0x%x", n)
	}
	if ss, ok := v.Data.([]string); ok { // REG_MULTI_SZ: reg query joins the strings with \0
		return strings.Join(ss, `\0`)
	}
	return fmt.Sprint(v.Data)
}

func (x *v2oExec) reg(args []string, o *v2oOut) int32 {
	if len(args) < 2 {
		o.stderr.WriteString(x.t("reg.syntax") + crlf + "Type \"REG /?\" for usage." + crlf)
		return 1
	}
	op := strings.ToLower(args[0])
	key := args[1]
	opt := map[string]string{}
	flags := map[string]bool{}
	for i := 2; i < len(args); i++ {
		a := strings.ToLower(args[i])
		switch a {
		case "/v", "/t", "/d":
			if i+1 < len(args) {
				opt[a] = args[i+1]
				i++
			}
		default:
			flags[a] = true
		}
	}
	notFound := func() int32 {
		o.stderr.WriteString(x.t("reg.notfound") + crlf)
		return 1
	}
	norm := v2oNormKey(key)
	lk := strings.ToLower(norm)
	switch op {
	case "query":
		vals, ok := x.g.reg[lk]
		if !ok {
			return notFound()
		}
		shown := x.g.regNames[lk]
		if flags["/s"] {
			// reg query KEY /s: the key's values, then each subkey (depth first) with its values,
			// in reg.exe's layout; key paths, value names, REG_* types and data are never translated.
			var keys []string
			for k := range x.g.reg {
				if k == lk || strings.HasPrefix(k, lk+`\`) {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				o.stdout.WriteString(crlf + x.g.regNames[k] + crlf)
				var names []string
				for n := range x.g.reg[k] {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(&o.stdout, "    %s    %s    %s"+crlf, x.g.regNames[k+"|"+n], x.g.reg[k][n].Type, v2oRegFormat(x.g.reg[k][n]))
				}
			}
			o.stdout.WriteString(crlf)
			return 0
		}
		if n, has := opt["/v"]; has {
			v, ok := vals[strings.ToLower(n)]
			if !ok {
				return notFound()
			}
			fmt.Fprintf(&o.stdout, crlf+"%s"+crlf+"    %s    %s    %s"+crlf+crlf, shown, x.g.regNames[lk+"|"+strings.ToLower(n)], v.Type, v2oRegFormat(v))
			return 0
		}
		o.stdout.WriteString(crlf + shown + crlf)
		var names []string
		for n := range vals {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&o.stdout, "    %s    %s    %s"+crlf, x.g.regNames[lk+"|"+n], vals[n].Type, v2oRegFormat(vals[n]))
		}
		o.stdout.WriteString(crlf)
		for k := range x.g.reg {
			if strings.HasPrefix(k, lk+`\`) && !strings.Contains(k[len(lk)+1:], `\`) {
				o.stdout.WriteString(x.g.regNames[k] + crlf)
			}
		}
		return 0
	case "add":
		n, has := opt["/v"]
		if !has {
			x.g.regSet(norm, "", v2oRegValue{})
			o.stdout.WriteString(x.t("reg.ok") + crlf)
			return 0
		}
		typ := strings.ToUpper(opt["/t"])
		if typ == "" {
			typ = "REG_SZ"
		}
		data := opt["/d"]
		v := v2oRegValue{typ, data}
		if typ == "REG_DWORD" {
			base := 10
			s := strings.ToLower(data)
			if strings.HasPrefix(s, "0x") {
				base, s = 16, s[2:]
			}
			num, err := strconv.ParseUint(s, base, 32)
			if err != nil {
				o.stderr.WriteString(x.t("reg.syntax") + crlf + "Type \"REG ADD /?\" for usage." + crlf)
				return 1
			}
			v.Data = uint32(num)
		}
		x.g.regSet(norm, n, v)
		o.stdout.WriteString(x.t("reg.ok") + crlf)
		return 0
	case "delete":
		vals, ok := x.g.reg[lk]
		if !ok {
			return notFound()
		}
		if n, has := opt["/v"]; has {
			if _, ok := vals[strings.ToLower(n)]; !ok {
				return notFound()
			}
			delete(vals, strings.ToLower(n))
		} else {
			for k := range x.g.reg {
				if k == lk || strings.HasPrefix(k, lk+`\`) {
					delete(x.g.reg, k)
				}
			}
		}
		o.stdout.WriteString(x.t("reg.ok") + crlf)
		return 0
	}
	o.stderr.WriteString(x.t("reg.syntax") + crlf)
	return 1
}

var v2oStartTypes = []string{"BOOT_START", "SYSTEM_START", "AUTO_START", "DEMAND_START", "DISABLED"}

func (x *v2oExec) sc(args []string, o *v2oOut) int32 {
	if len(args) < 2 {
		o.stdout.WriteString("DESCRIPTION:" + crlf + "        SC is a command line program used for communicating with the" + crlf + "        Service Control Manager and services." + crlf)
		return 1
	}
	op, svc := strings.ToLower(args[0]), args[1]
	k := `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\` + svc
	start, keyOK, ok := x.g.regGet(k, "Start")
	if !keyOK || !ok {
		fmt.Fprintf(&o.stdout, "[SC] OpenService FAILED 1060:"+crlf+crlf+"The specified service does not exist as an installed service."+crlf+crlf)
		return 1060
	}
	switch op {
	case "qc":
		n, _ := strconv.Atoi(strings.TrimPrefix(v2oRegFormat(start), "0x"))
		st := "UNKNOWN"
		if n >= 0 && n < len(v2oStartTypes) {
			st = v2oStartTypes[n]
		}
		fmt.Fprintf(&o.stdout, "[SC] QueryServiceConfig SUCCESS"+crlf+crlf+"SERVICE_NAME: %s"+crlf+"        TYPE               : 1  KERNEL_DRIVER"+crlf+
			"        START_TYPE         : %d   %s"+crlf+"        ERROR_CONTROL      : 1   NORMAL"+crlf, svc, n, st)
		return 0
	case "config":
		val := ""
		for i := 2; i < len(args); i++ {
			a := strings.ToLower(args[i])
			if a == "start=" && i+1 < len(args) {
				val = strings.ToLower(args[i+1])
			} else if strings.HasPrefix(a, "start=") && len(a) > 6 {
				val = a[6:]
			}
		}
		m := map[string]uint32{"boot": 0, "system": 1, "auto": 2, "demand": 3, "disabled": 4}
		n, ok := m[val]
		if !ok {
			o.stdout.WriteString("[SC] ChangeServiceConfig FAILED 87:" + crlf + crlf + "The parameter is incorrect." + crlf)
			return 87
		}
		x.g.regSet(k, "Start", v2oRegValue{"REG_DWORD", n})
		o.stdout.WriteString("[SC] ChangeServiceConfig SUCCESS" + crlf)
		return 0
	}
	o.stdout.WriteString("[SC] unsupported in the v2o lab: " + op + crlf)
	return 1
}

func (x *v2oExec) wmic(args []string, o *v2oOut) int32 {
	if x.g.Seed.v2oNoWmic() {
		o.stderr.WriteString("'wmic' is not recognized as an internal or external command," + crlf + "operable program or batch file." + crlf)
		return 9009
	}
	if len(args) == 0 || !strings.EqualFold(args[0], "logicaldisk") {
		o.stderr.WriteString("Node - " + x.g.Seed.HostName + crlf + "ERROR:" + crlf + "Description = Invalid alias verb." + crlf)
		return 44210
	}
	o.stdout.WriteString("DeviceID  DriveType  VolumeName" + crlf)
	o.stdout.WriteString("C:        3                    " + crlf)
	for _, l := range x.letters {
		vol := ""
		if iso, ok := x.isos[l]; ok {
			vol = strings.TrimSuffix(isoBase(iso), ".iso")
			if V2oISOLabel != "" && v2oIsVirtioISO(iso) {
				vol = V2oISOLabel
			}
		}
		fmt.Fprintf(&o.stdout, "%-10s%-11s%s"+crlf, l, "5", vol)
	}
	return 0
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func compileRule(m string) (*regexp.Regexp, error) { return regexp.Compile("(?i)" + m) }
