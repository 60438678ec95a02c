package input

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/straddle-dev/straddle/harness/plan"
)

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantOff int
		wantMsg string
		reason  string
	}{
		{"plain", "SELECT 1;\n", -1, "", "ordinary SQL"},
		{"utf8", "SELECT 'café', '日本';\n", -1, "", "multi-byte UTF-8 is text"},
		{"bom", "\uFEFFSELECT 1;", -1, "", "a byte order mark is valid UTF-8; the splitter drops it"},
		{"nul", "SELECT 1;\nSELECT '\x00';", 18, "NUL byte", "a NUL byte, at its offset"},
		{"latin1", "SELECT 'caf\xe9';", 11, "invalid UTF-8 (byte 0xe9)", "a Latin-1 é"},
		{"first wins", "a\xffb\x00", 1, "invalid UTF-8", "the earlier of the two problems is reported"},
		{"nul first", "a\x00b\xff", 1, "NUL byte", "the earlier of the two problems is reported"},
		{"truncated rune", "SELECT '\xe6\x97';", 8, "invalid UTF-8", "a multi-byte sequence cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, msg := Invalid(tt.src)
			if off != tt.wantOff || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Invalid(%q) = %d, %q; want %d, %q: %s", tt.src, off, msg, tt.wantOff, tt.wantMsg, tt.reason)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	d := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(d, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(d, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxSize + 1)
	f.Close()
	link := filepath.Join(d, "zero")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		text             bool
		reason           string
	}{
		{"regular", write("ok.sql", "SELECT 1;\n"), "", true, "a file is read"},
		{"fifo", fifo, "named pipe", false, "opening a FIFO blocks until a writer comes"},
		{"device via symlink", link, "device", false, "a device never ends"},
		{"directory", d, "directory", false, "a directory is not a file"},
		{"too big", big, "larger than 64 MiB", false, "the size limit, checked before reading"},
		{"missing", filepath.Join(d, "nope"), "no such file", false, "the reason stays in the message"},
		{"nul text", write("nul.sql", "SELECT 1;\n\x00"), ":2: NUL byte", true, "ReadText checks the content, at its line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := ReadFile
			if tt.text {
				read = ReadText
			}
			_, err := read(tt.path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v: %s", err, tt.reason)
			case tt.want == "":
				return
			case err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.path):
				t.Fatalf("error %v, want one starting with %s and holding %q: %s", err, tt.path, tt.want, tt.reason)
			case !errors.Is(err, plan.ErrBadInput):
				t.Fatalf("%v is not bad input: %s", err, tt.reason)
			}
		})
	}
}
