// A small net/http server for `ebpfperf suite app`: GET /<size>.bin answers with that many bytes, as the
// nginx site does, so the Go runtime's uprobe cases can be measured on the same load.
package main

import (
	"bytes"
	"flag"
	"log"
	"net/http"
	"strconv"
	"strings"
)

var bodies = map[string][]byte{}

// handler is probed by name (main.handler), so it must not be inlined.
//
//go:noinline
func handler(w http.ResponseWriter, r *http.Request) {
	b, ok := bodies[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func main() {
	listen := flag.String("listen", "", "address:port")
	sizes := flag.String("sizes", "", "name=bytes,... (e.g. 1K=1024)")
	flag.Parse()
	for _, kv := range strings.Split(*sizes, ",") {
		p := strings.SplitN(kv, "=", 2)
		n, err := strconv.Atoi(p[len(p)-1])
		if len(p) != 2 || err != nil {
			log.Fatalf("bad -sizes entry %q", kv)
		}
		bodies[p[0]+".bin"] = bytes.Repeat([]byte{'a'}, n)
	}
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(handler)))
}
