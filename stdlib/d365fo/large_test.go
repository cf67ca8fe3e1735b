package d365fo_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/flowhq/flow/stdlib/d365fo"
)

// largeTenant builds a tenant-sized document from the real excerpt: its
// CustomerV3 entity type (annotation-heavy, like every real F&O type) copied
// n times under new names, each with its own entity set.
func largeTenant(tb testing.TB, n int) []byte {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(testdata, "CustomersV3_metadata_trimmed.edmx.xml"))
	if err != nil {
		tb.Fatal(err)
	}
	typ := regexp.MustCompile(`(?s)\n      <EntityType Name="CustomerV3">.*?</EntityType>`).Find(src)
	container := bytes.Index(src, []byte("\n      <EntityContainer"))
	sets := bytes.Index(src, []byte("\n        <EntitySet"))
	if typ == nil || container < 0 || sets < 0 {
		tb.Fatal("excerpt layout changed")
	}
	var b bytes.Buffer
	b.Write(src[:container])
	for i := range n {
		b.Write(bytes.Replace(typ, []byte(`"CustomerV3"`), fmt.Appendf(nil, `"Copy%dV3"`, i), 1))
	}
	b.Write(src[container:sets])
	for i := range n {
		fmt.Fprintf(&b, "\n        <EntitySet Name=\"Copies%dV3\" EntityType=\"Microsoft.Dynamics.DataEntities.Copy%dV3\" />", i, i)
	}
	b.Write(src[sets:])
	return b.Bytes()
}

// BenchmarkLoadLargeTenant loads a ~50 MB document shaped like a real tenant's
// $metadata (300 entity types of 305 annotated properties each).
func BenchmarkLoadLargeTenant(b *testing.B) {
	src := largeTenant(b, 300)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := d365fo.LoadCSDL(bytes.NewReader(src), "large.xml")
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Entities) != 301 {
			b.Fatalf("%d entities", len(c.Entities))
		}
	}
}
