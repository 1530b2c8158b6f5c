package jsruntime

import (
	"regexp"
	"slices"
	"strings"
)

// ES module support, the subset Lambda@Edge code uses: `export const handler = ...`,
// `export async function handler`, `export { a as b }`, `export default`, and static imports of
// built-ins and bundled files. A module is rewritten line by line into CommonJS before it is
// compiled; import.meta, dynamic import() and top-level await are not supported.

var (
	reImportDefault = regexp.MustCompile(`^(\s*)import\s+([\w$]+)\s+from\s+(['"][^'"]+['"])\s*;?`)
	reImportBoth    = regexp.MustCompile(`^(\s*)import\s+([\w$]+)\s*,\s*\{([^}]*)\}\s*from\s+(['"][^'"]+['"])\s*;?`)
	reImportNS      = regexp.MustCompile(`^(\s*)import\s+\*\s+as\s+([\w$]+)\s+from\s+(['"][^'"]+['"])\s*;?`)
	reImportNamed   = regexp.MustCompile(`^(\s*)import\s+\{([^}]*)\}\s*from\s+(['"][^'"]+['"])\s*;?`)
	reImportBare    = regexp.MustCompile(`^(\s*)import\s+(['"][^'"]+['"])\s*;?`)
	reExportDecl    = regexp.MustCompile(`^(\s*)export\s+(const|let|var)\s+([\w$]+)\s*=`)
	reExportFunc    = regexp.MustCompile(`^(\s*)export\s+((?:async\s+)?function\s*\*?\s*([\w$]+))`)
	reExportClass   = regexp.MustCompile(`^(\s*)export\s+(class\s+([\w$]+))`)
	reExportList    = regexp.MustCompile(`^(\s*)export\s*\{([^}]*)\}\s*;?\s*$`)
	reExportDefault = regexp.MustCompile(`^(\s*)export\s+default\s+`)
	reESMHint       = regexp.MustCompile(`(?m)^\s*(import\s+[\w${*'"]|export\s+[\w{*])`)
)

// isESM reports whether a file should be treated as an ES module.
func isESM(name, src string) bool {
	return strings.HasSuffix(name, ".mjs") || (!strings.HasSuffix(name, ".cjs") && reESMHint.MatchString(src))
}

// esmToCJS rewrites an ES module's import and export statements into CommonJS.
func esmToCJS(src string) string {
	lines := strings.Split(src, "\n")
	var tail []string
	hasDefault := false
	for i, l := range lines {
		switch {
		case reImportBoth.MatchString(l):
			m := reImportBoth.FindStringSubmatch(l)
			lines[i] = m[1] + "const " + m[2] + " = __esmDefault(require(" + m[4] + ")), {" + renames(m[3], ":") + "} = require(" + m[4] + ");" + l[len(m[0]):]
		case reImportNS.MatchString(l):
			m := reImportNS.FindStringSubmatch(l)
			lines[i] = m[1] + "const " + m[2] + " = require(" + m[3] + ");" + l[len(m[0]):]
		case reImportDefault.MatchString(l):
			m := reImportDefault.FindStringSubmatch(l)
			lines[i] = m[1] + "const " + m[2] + " = __esmDefault(require(" + m[3] + "));" + l[len(m[0]):]
		case reImportNamed.MatchString(l):
			m := reImportNamed.FindStringSubmatch(l)
			lines[i] = m[1] + "const {" + renames(m[2], ":") + "} = require(" + m[3] + ");" + l[len(m[0]):]
		case reImportBare.MatchString(l):
			m := reImportBare.FindStringSubmatch(l)
			lines[i] = m[1] + "require(" + m[2] + ");" + l[len(m[0]):]
		case reExportDecl.MatchString(l):
			m := reExportDecl.FindStringSubmatch(l)
			lines[i] = m[1] + m[2] + " " + m[3] + " = exports." + m[3] + " =" + l[len(m[0]):]
		case reExportFunc.MatchString(l):
			m := reExportFunc.FindStringSubmatch(l)
			lines[i] = m[1] + "exports." + m[3] + " = " + m[3] + "; " + m[2] + l[len(m[0]):]
		case reExportClass.MatchString(l):
			m := reExportClass.FindStringSubmatch(l)
			lines[i] = m[1] + m[2] + l[len(m[0]):]
			tail = append(tail, "exports."+m[3]+" = "+m[3]+";")
		case reExportList.MatchString(l):
			m := reExportList.FindStringSubmatch(l)
			var b strings.Builder
			for _, part := range strings.Split(m[2], ",") {
				local, exported, ok := strings.Cut(strings.TrimSpace(part), " as ")
				if !ok {
					exported = local
				}
				if local = strings.TrimSpace(local); local != "" {
					b.WriteString("exports." + strings.TrimSpace(exported) + " = " + local + "; ")
				}
			}
			lines[i] = m[1]
			tail = append(tail, b.String())
		case reExportDefault.MatchString(l):
			m := reExportDefault.FindStringSubmatch(l)
			lines[i] = m[1] + "exports.default = " + l[len(m[0]):]
			hasDefault = true
		}
	}
	// What the rewrite adds goes after the module's last line, so that every line keeps its
	// number and the lines without an import or export their columns (positions in stacks are
	// the file's); __esmDefault is a function declaration, so it is defined from the start.
	// A bundler's `//# sourceMappingURL=` line stays the last (it must be, to be read).
	tail = append(tail, "function __esmDefault(m) { return m && m.__esModule ? m.default : m; }")
	if hasDefault {
		tail = append(tail, "Object.defineProperty(exports, '__esModule', { value: true });")
	}
	last := len(lines)
	for last > 0 && strings.TrimSpace(lines[last-1]) == "" {
		last--
	}
	if last > 0 && strings.HasPrefix(lines[last-1], "//# sourceMappingURL=") {
		last--
	} else {
		last = len(lines)
	}
	return strings.Join(slices.Concat(lines[:last], tail, lines[last:]), "\n")
}

// renames turns an import list "a, b as c" into a destructuring list "a, b: c".
func renames(list, sep string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if a, b, ok := strings.Cut(strings.TrimSpace(p), " as "); ok {
			parts[i] = strings.TrimSpace(a) + sep + " " + strings.TrimSpace(b)
		}
	}
	return strings.Join(parts, ",")
}
