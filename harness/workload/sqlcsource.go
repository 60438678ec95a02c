package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/scanner"
	gotoken "go/token"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// sqlcConfig is what straddle reads of a sqlc config: the queries and engine of
// each SQL package. Version 2 lists them under sql:, version 1 under packages:.
type sqlcConfig struct {
	Version  string        `json:"version" yaml:"version"`
	SQL      []sqlcPackage `json:"sql" yaml:"sql"`
	Packages []sqlcPackage `json:"packages" yaml:"packages"`
}

// sqlcPackage is one entry of sql: (v2) or packages: (v1).
type sqlcPackage struct {
	Engine  string    `json:"engine" yaml:"engine"`
	Queries pathsList `json:"queries" yaml:"queries"`
	Schema  pathsList `json:"schema" yaml:"schema"`
}

// pathsList is a path or a list of paths, as sqlc accepts for queries: and schema:.
type pathsList []string

func (p *pathsList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*p = pathsList{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*p = list
	return nil
}

func (p *pathsList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*p = pathsList{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*p = list
	return nil
}

// sqlcEngines maps sqlc's engine names to families.
var sqlcEngines = map[string]engine.Family{
	"postgresql": engine.Postgres, "postgres": engine.Postgres,
	"mysql": engine.MySQL,
	"":      engine.Postgres, // sqlc's default, in both config versions
}

// loadConfig reads the queries a sqlc config names, each package's files with its
// engine's family. Paths are relative to the config's directory, as sqlc reads
// them; a path is a query file or a directory of *.sql files.
func loadConfig(ctx context.Context, t fileTree, p string) ([]Query, error) {
	b, err := t.read(ctx, p)
	if err != nil {
		return nil, err
	}
	name := t.display(p)
	var cfg sqlcConfig
	if strings.HasSuffix(p, ".json") {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, plan.Errorf(name, jsonLine(b, err), "not a sqlc config: %v", err)
		}
	} else if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, plan.Errorf(name, yamlLine(err), "not a sqlc config: %v", err)
	}
	pkgs := cfg.SQL
	switch cfg.Version {
	case "1":
		pkgs = cfg.Packages
	case "2":
	default:
		return nil, plan.Errorf(name, 0, "sqlc config version %q: want \"1\" or \"2\"", cfg.Version)
	}
	if len(pkgs) == 0 {
		return nil, plan.Errorf(name, 0, "sqlc config lists no SQL packages (sql: in version 2, packages: in version 1)")
	}
	dir := path.Dir(filepath.ToSlash(p))
	if _, isDisk := t.(diskTree); isDisk {
		dir = filepath.Dir(p)
	}
	var all []Query
	var others []string // packages of engines straddle does not run (sqlite)
	// Packages may share a query file (one for pgx v4 and one for v5, say):
	// its queries are read once per family.
	read := map[string]bool{}
	for i, pkg := range pkgs {
		fam, ok := sqlcEngines[strings.ToLower(pkg.Engine)]
		if !ok {
			// A config often generates code for several engines (sqlc's own
			// examples: postgresql, mysql and sqlite): the ones straddle runs are
			// the release's SQL on those engines; the others are not checked.
			others = append(others, fmt.Sprintf("package %d: engine %q", i+1, pkg.Engine))
			continue
		}
		if len(pkg.Queries) == 0 {
			return nil, plan.Errorf(name, 0, "package %d: no queries:", i+1)
		}
		for _, q := range pkg.Queries {
			// A path with *, ?, [ or ] is a pattern, expanded as sqlc expands it
			// (filepath.Glob: queries/**, swo/*/queries.sql); one that matches
			// nothing adds nothing, as in sqlc.
			paths := []string{t.join(dir, q)}
			if strings.ContainsAny(q, "*?[]") {
				var err error
				if paths, err = t.glob(ctx, t.join(dir, q)); err != nil {
					return nil, err
				}
			}
			var files []string
			for _, qp := range paths {
				kind, err := t.kind(ctx, qp)
				if err != nil {
					return nil, err
				}
				switch kind {
				case "":
					return nil, plan.Errorf(name, 0, "queries: %s: %s does not exist", q, t.display(qp))
				case "file":
					if strings.HasSuffix(qp, ".sql") || !strings.ContainsAny(q, "*?[]") {
						files = append(files, qp)
					}
				default:
					names, err := t.list(ctx, qp)
					if err != nil {
						return nil, err
					}
					for _, n := range names {
						// sqlc reads a directory's *.sql files but hidden ones and
						// down migrations (sqlpath.Glob).
						if strings.HasSuffix(n, ".sql") && !strings.HasPrefix(n, ".") && !strings.HasSuffix(n, ".down.sql") {
							files = append(files, t.join(qp, n))
						}
					}
				}
			}
			for _, f := range files {
				if read[string(fam)+"\x00"+f] {
					continue
				}
				read[string(fam)+"\x00"+f] = true
				b, err := t.read(ctx, f)
				if err != nil {
					return nil, err
				}
				qs, err := ParseFamily(t.display(f), b, fam)
				if err != nil {
					return nil, err
				}
				for i := range qs {
					qs[i].Compiled = true
				}
				all = append(all, qs...)
			}
		}
	}
	if len(others) == len(pkgs) {
		return nil, plan.Errorf(name, 0, "%s: straddle runs postgresql and mysql", strings.Join(others, ", "))
	}
	return all, nil
}

// yamlLine finds the line yaml.v3 names in its error text ("yaml: line 3: …"),
// which is the only place it gives one.
func yamlLine(err error) int {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	_, rest, ok := strings.Cut(msg, "line ")
	if !ok {
		return 0
	}
	end := strings.IndexAny(rest, ": ")
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

// jsonLine is the line of the offset a JSON syntax or type error gives.
func jsonLine(b []byte, err error) int {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return 0
	}
	return 1 + strings.Count(string(b[:min(int(off), len(b))]), "\n")
}

// loadGoCode reads the queries of sqlc-generated Go code: every string constant
// that starts with "-- name:" is a query exactly as the binary sends it. The
// family comes from the code: pgx or lib/pq imports mean postgres, a
// go-sql-driver/mysql import mysql; without one, $N placeholders mean postgres
// and ? placeholders mysql; without either the queries run on both.
func loadGoCode(ctx context.Context, t fileTree, files []string) ([]Query, error) {
	type constQuery struct {
		file string
		line int
		text string
	}
	var consts, copies []constQuery
	fam := engine.Family("")
	fset := gotoken.NewFileSet()
	for _, p := range files {
		b, err := t.read(ctx, p)
		if err != nil {
			return nil, err
		}
		name := t.display(p)
		f, err := goparser.ParseFile(fset, name, b, goparser.SkipObjectResolution)
		if err != nil {
			var el scanner.ErrorList
			line := 0
			if errors.As(err, &el) && len(el) > 0 {
				line = el[0].Pos.Line
			}
			return nil, plan.Errorf(name, line, "not Go code: %v", err)
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.HasPrefix(ip, "github.com/jackc/pgx") || ip == "github.com/lib/pq":
				fam = engine.Postgres
			case ip == "github.com/go-sql-driver/mysql":
				fam = engine.MySQL
			}
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if text, ok := pgxCopyFrom(fd); ok {
					copies = append(copies, constQuery{name, fset.Position(fd.Pos()).Line, text})
					fam = engine.Postgres
				}
				continue
			}
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != gotoken.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for _, v := range vs.Values {
					// sqlc writes a backtick as `…` + "`" + `…` in a raw string.
					text, ok := constString(v)
					if !ok || !strings.HasPrefix(strings.TrimSpace(text), "-- name:") {
						continue
					}
					consts = append(consts, constQuery{name, fset.Position(v.Pos()).Line, text})
				}
			}
		}
	}
	// A :copyfrom query of pgx code has no constant: sqlc writes a CopyFrom call.
	// It is read as the INSERT it stands for, unless a constant names it too.
	for _, c := range copies {
		name := strings.Fields(strings.TrimPrefix(c.text, "-- name:"))[0]
		dup := false
		for _, k := range consts {
			if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(k.text), "-- name:")); len(f) > 0 && f[0] == name {
				dup = true
			}
		}
		if !dup {
			consts = append(consts, c)
		}
	}
	if fam == "" {
		for _, c := range consts {
			toks, _ := lex(c.text, engine.Postgres)
			for _, tk := range toks {
				switch {
				case tk.Kind == tokParam:
					fam = engine.Postgres
				case tk.Kind == tokPunct && tk.Text == "?" && fam == "":
					fam = engine.MySQL
				}
			}
		}
	}
	var all []Query
	for _, c := range consts {
		qs, err := ParseFamily(c.file, []byte(c.text), fam)
		if err != nil {
			var ie *plan.InputError
			if errors.As(err, &ie) && ie.Line > 0 {
				return nil, plan.Errorf(ie.File, c.line+ie.Line-1, "%s", ie.Msg)
			}
			return nil, err
		}
		for i := range qs {
			qs[i].Line += c.line - 1
		}
		all = append(all, qs...)
	}
	if len(all) == 0 && len(files) > 0 {
		return nil, plan.Errorf(t.display(files[0]), 0, "no sqlc queries (string constants starting with -- name:) in the Go code")
	}
	return all, nil
}

// constString returns the value of a string constant expression: a literal, or
// literals joined with +.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != gotoken.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return constString(e.X)
	case *ast.BinaryExpr:
		if e.Op != gotoken.ADD {
			return "", false
		}
		a, ok := constString(e.X)
		if !ok {
			return "", false
		}
		b, ok := constString(e.Y)
		return a + b, ok
	}
	return "", false
}

// pgxCopyFrom reads the method sqlc generates for a :copyfrom query with pgx,
//
//	func (q *Queries) CreateAuthors(ctx context.Context, arg []CreateAuthorsParams) (int64, error) {
//		return q.db.CopyFrom(ctx, []string{"authors"}, []string{"id", "name"}, &iteratorForCreateAuthors{rows: arg})
//	}
//
// and returns the query it stands for: an INSERT of those columns into that table,
// whose identifiers pgx quotes.
func pgxCopyFrom(fd *ast.FuncDecl) (string, bool) {
	if fd.Recv == nil || fd.Body == nil {
		return "", false
	}
	var text string
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || text != "" {
			return text == ""
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "CopyFrom" || len(call.Args) != 4 {
			return true
		}
		table, ok1 := stringList(call.Args[1])
		cols, ok2 := stringList(call.Args[2])
		if !ok1 || !ok2 || len(table) == 0 || len(cols) == 0 {
			return true
		}
		for i := range table {
			table[i] = engine.QuoteIdent(engine.Postgres, table[i])
		}
		params := make([]string, len(cols))
		for i := range cols {
			cols[i] = engine.QuoteIdent(engine.Postgres, cols[i])
			params[i] = "$" + strconv.Itoa(i+1)
		}
		text = fmt.Sprintf("-- name: %s :copyfrom\nINSERT INTO %s (%s) VALUES (%s)\n", fd.Name.Name, strings.Join(table, "."), strings.Join(cols, ", "), strings.Join(params, ", "))
		return false
	})
	return text, text != ""
}

// stringList reads a []string{"a", "b"} literal (or pgx.Identifier{…}).
func stringList(e ast.Expr) ([]string, bool) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	var out []string
	for _, el := range cl.Elts {
		lit, ok := el.(*ast.BasicLit)
		if !ok || lit.Kind != gotoken.STRING {
			return nil, false
		}
		v, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}
