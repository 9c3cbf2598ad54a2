// ebpfperf ring/perf buffer consumer in Go with cilium/ebpf (Debian golang-github-cilium-ebpf-dev):
// opens the map the suite pinned (ebpf.LoadPinnedMap), reads it with ringbuf.Reader / perf.Reader in
// the library's usual blocking Read loop, counts every event per producer CPU and its latency
// (CLOCK_MONOTONIC now minus the event's bpf_ktime_get_ns), and answers in the line protocol of
// docs/consumers.md.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

const (
	marker = 0xffffffff
	sub    = 32 // log-linear histogram: exact below 64 ns, then 32 sub-buckets per power of two
	hdr    = 16 // bpf/micro.shared.h: struct micro_event {u64 ts; u32 cpu; u32 seq}
)

type counts struct {
	consumed, lost map[uint32]uint64
	hist           map[int]uint64
	markers, short uint64
	last           int64
}

// monotonic: CLOCK_MONOTONIC in ns. x/sys/unix.ClockGettime is a system call; time.Since reads the
// same clock through the vDSO, so the offset is taken once and each event costs a vDSO read.
var mono0, t0 = func() (int64, time.Time) {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano(), time.Now()
}()

func monotonic() int64 { return mono0 + int64(time.Since(t0)) }

func bucket(v uint64) int {
	if v < 64 {
		return int(v)
	}
	e := 63
	for v>>uint(e) == 0 {
		e--
	}
	return 64 + (e-6)*sub + int((v>>uint(e-5))&(sub-1))
}

func bucketValue(i int) float64 {
	if i < 64 {
		return float64(i)
	}
	e := (i-64)/sub + 6
	width := float64(uint64(1) << uint(e-5))
	return float64(sub+(i-64)%sub)*width + width/2
}

func (c *counts) event(raw []byte) {
	now := monotonic()
	if len(raw) < hdr {
		c.short++
		return
	}
	ts := binary.LittleEndian.Uint64(raw[0:8])
	cpu := binary.LittleEndian.Uint32(raw[8:12])
	if binary.LittleEndian.Uint32(raw[12:16]) == marker {
		c.markers++
		return
	}
	c.consumed[cpu]++
	c.last = now
	var lat uint64
	if uint64(now) > ts {
		lat = uint64(now) - ts
	}
	c.hist[bucket(lat)]++
}

func (c *counts) report() {
	w := bufio.NewWriter(os.Stdout)
	cpus := map[uint32]bool{}
	for k := range c.consumed {
		cpus[k] = true
	}
	for k := range c.lost {
		cpus[k] = true
	}
	keys := make([]int, 0, len(cpus))
	for k := range cpus {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "cpu %d %d %d\n", k, c.consumed[uint32(k)], c.lost[uint32(k)])
	}
	fmt.Fprintf(w, "markers %d\nshort %d\nlast %d\n", c.markers, c.short, c.last)
	bs := make([]int, 0, len(c.hist))
	for b := range c.hist {
		bs = append(bs, b)
	}
	sort.Ints(bs)
	for _, b := range bs {
		fmt.Fprintf(w, "hist %.1f %d\n", bucketValue(b), c.hist[b])
	}
	fmt.Fprintln(w, "done")
	w.Flush()
}

// reader: what both readers offer.
type reader interface {
	next(c *counts) error
	Close() error
}

type ringReader struct{ *ringbuf.Reader }

func (r ringReader) next(c *counts) error {
	rec, err := r.Read()
	if err == nil {
		c.event(rec.RawSample)
	}
	return err
}

type perfReader struct{ *perf.Reader }

func (r perfReader) next(c *counts) error {
	rec, err := r.Read()
	if err == nil {
		if rec.LostSamples > 0 {
			c.lost[uint32(rec.CPU)] += rec.LostSamples
		} else {
			c.event(rec.RawSample)
		}
	}
	return err
}

func open(path, mech string, pages int) (reader, error) {
	m, err := ebpf.LoadPinnedMap(path, nil)
	if err != nil {
		return nil, err
	}
	if mech == "perfbuf" {
		r, err := perf.NewReader(m, pages*os.Getpagesize())
		return perfReader{r}, err
	}
	r, err := ringbuf.NewReader(m)
	return ringReader{r}, err
}

func main() {
	path, mech := os.Getenv("EBPFPERF_MAP"), os.Getenv("EBPFPERF_MECHANISM")
	if path == "" || mech == "" {
		fmt.Fprintln(os.Stderr, "ebpfperf-consumer-go: EBPFPERF_MAP and EBPFPERF_MECHANISM must be set (see docs/consumers.md)")
		os.Exit(2)
	}
	pages, err := strconv.Atoi(os.Getenv("EBPFPERF_PERF_PAGES"))
	if err != nil || pages <= 0 {
		pages = 64
	}
	rd, err := open(path, mech, pages)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ebpfperf-consumer-go: %s: %v\n", path, err)
		os.Exit(1)
	}
	c := &counts{consumed: map[uint32]uint64{}, lost: map[uint32]uint64{}, hist: map[int]uint64{}}
	// The reading goroutine says how many records it has taken (progress) and whether it is inside Read.
	var progress, inRead int64
	done := make(chan error, 1)
	go func() {
		for {
			atomic.StoreInt64(&inRead, 1)
			err := rd.next(c)
			atomic.StoreInt64(&inRead, 0)
			if err != nil {
				done <- err
				return
			}
			atomic.AddInt64(&progress, 1)
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	fmt.Printf("# cilium/ebpf (%s)\nready\n", mechName(mech))
	for in.Scan() && in.Text() != "stop" {
	}
	if in.Err() != nil || in.Text() != "stop" {
		os.Exit(3) // the suite is gone
	}
	// Everything was produced before `stop`; Read returns what is in the buffer at once and blocks only
	// on an empty one. Drained: the goroutine has sat inside Read for 50 ms without taking a record.
	for quiet := 0; quiet < 5; {
		p := atomic.LoadInt64(&progress)
		time.Sleep(10 * time.Millisecond)
		if atomic.LoadInt64(&inRead) == 1 && atomic.LoadInt64(&progress) == p {
			quiet++
		} else {
			quiet = 0
		}
	}
	rd.Close()
	if err := <-done; !errors.Is(err, ringbuf.ErrClosed) && !errors.Is(err, perf.ErrClosed) && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(os.Stderr, "ebpfperf-consumer-go: reading: %v\n", err)
		os.Exit(1)
	}
	c.report()
	for in.Scan() { // wait for the suite to close stdin (it reads our CPU time first)
	}
}

func mechName(m string) string {
	if m == "perfbuf" {
		return "perf.Reader"
	}
	return "ringbuf.Reader"
}
