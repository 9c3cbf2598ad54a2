// Ring buffer vs perf buffer for `ebpfperf suite micro`: producers and a consumer, every event counted.
//
// bufferRunAsync(spec) (a Napi::AsyncWorker, resolved through a Promise):
//   1. resets the producer's per-CPU counters map (struct micro_counters {produced, failed});
//   2. opens the consumer: ring_buffer__new on the BPF_MAP_TYPE_RINGBUF map, or perf_buffer__new on the
//      BPF_MAP_TYPE_PERF_EVENT_ARRAY map (page_cnt pages per CPU; this also installs the per-CPU perf
//      events in the map, so it must happen before anything is produced);
//   3. starts a consumer thread (ring_buffer__poll / perf_buffer__poll) and one producer thread per
//      producer CPU, pinned there, each firing exactly `events` events: BPF_PROG_TEST_RUN of the producer
//      program with repeat = batch (one event per repetition; each must return `expect`), optionally
//      paced to `rate` events/s;
//   4. when the producers are done, stops the consumer thread and drains what is left on this thread
//      (ring_buffer__consume / perf_buffer__consume): every record was committed before its test run
//      returned, so nothing can arrive later. Perf buffer only: then runs the flush program once on each
//      producer CPU — the kernel writes a pending PERF_RECORD_LOST only before the next sample that fits,
//      so the marker sample brings every lost count to the lost callback — and drains again.
// The consumer records per CPU the events it got, and the latency of each (CLOCK_MONOTONIC at
// consumption minus the bpf_ktime_get_ns stamp in the event) in a log-linear histogram (1/64 relative
// resolution above 128 ns). The caller checks produced = consumed + lost.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "core/bpf_api.h"
#include "core/js_args.h"
#include "core/js_worker.h"
#include "core/libbpf_log.h"
#include "core/threads.h"
#include "suite/suites.h"

namespace ebp {
namespace {

// Must match bpf/micro.shared.h.
struct MicroEvent {
  uint64_t ts;
  uint32_t cpu;
  uint32_t seq;
};
constexpr uint32_t kMarker = 0xffffffffu;
struct MicroCounters {
  uint64_t produced;
  uint64_t failed;
};

// Log-linear histogram: exact below 128 ns, then 64 sub-buckets per power of two.
class Histogram {
 public:
  Histogram() : counts_(128 + 58 * 64, 0) {}
  void Add(uint64_t v) {
    counts_[Index(v)]++;
    n_++;
    sum_ += static_cast<double>(v);
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  uint64_t n() const { return n_; }
  double sum() const { return sum_; }
  uint64_t min() const { return n_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  // (representative value, count) for the non-empty buckets.
  std::vector<std::pair<double, uint64_t>> Buckets() const {
    std::vector<std::pair<double, uint64_t>> out;
    for (size_t i = 0; i < counts_.size(); i++)
      if (counts_[i]) out.emplace_back(Mid(i), counts_[i]);
    return out;
  }

 private:
  static size_t Index(uint64_t v) {
    if (v < 128) return static_cast<size_t>(v);
    int e = 63 - __builtin_clzll(v);  // >= 7
    uint64_t sub = (v >> (e - 6)) & 63;
    return 128 + static_cast<size_t>(e - 7) * 64 + static_cast<size_t>(sub);
  }
  static double Mid(size_t i) {
    if (i < 128) return static_cast<double>(i);
    size_t e = (i - 128) / 64 + 7;
    size_t sub = (i - 128) % 64;
    double lo = std::ldexp(static_cast<double>(64 + sub), static_cast<int>(e) - 6);
    double width = std::ldexp(1.0, static_cast<int>(e) - 6);
    return lo + width / 2;
  }
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0;
  double sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

// [[value, count], ...] for JS.
Napi::Array BucketsArray(Napi::Env env, const Histogram& h) {
  auto buckets = h.Buckets();
  Napi::Array b = Napi::Array::New(env, buckets.size());
  for (size_t i = 0; i < buckets.size(); i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, buckets[i].first);
    pair.Set(1u, static_cast<double>(buckets[i].second));
    b.Set(i, pair);
  }
  return b;
}

struct Consumer {
  std::vector<uint64_t> consumed;  // per CPU (index = CPU number)
  std::vector<uint64_t> lost;      // per CPU (perf buffer lost callback)
  uint64_t markers = 0;
  uint64_t foreign = 0;  // events whose CPU field is out of range
  uint64_t short_records = 0;
  uint64_t bytes = 0;
  uint64_t last_ns = 0;
  Histogram latency;

  void Event(const void* data, size_t size) {
    uint64_t now = MonoNs();
    bytes += size;
    if (size < sizeof(MicroEvent)) {
      short_records++;
      return;
    }
    MicroEvent e;
    std::memcpy(&e, data, sizeof(e));
    if (e.seq == kMarker) {
      markers++;
      return;
    }
    if (e.cpu >= consumed.size()) {
      foreign++;
      return;
    }
    consumed[e.cpu]++;
    last_ns = now;
    latency.Add(now > e.ts ? now - e.ts : 0);
  }
};

int RingCb(void* ctx, void* data, size_t size) {
  static_cast<Consumer*>(ctx)->Event(data, size);
  return 0;
}

void PerfCb(void* ctx, int /*cpu*/, void* data, uint32_t size) { static_cast<Consumer*>(ctx)->Event(data, size); }

void LostCb(void* ctx, int cpu, __u64 cnt) {
  auto* c = static_cast<Consumer*>(ctx);
  if (cpu >= 0 && static_cast<size_t>(cpu) < c->lost.size()) c->lost[cpu] += cnt;
}

struct BufSpec {
  bool perf = false;
  int map_fd = -1, prog_fd = -1, flush_fd = -1, counters_fd = -1;
  std::vector<int> producers;
  uint64_t events = 0;  // per producer
  uint64_t batch = 1000;
  double rate = 0;  // events/s per producer; 0: as fast as possible
  std::vector<uint8_t> data;
  uint64_t perf_pages = 64;
  int consumer_cpu = -1;
  uint64_t timeout_ns = 60000000000ull;
  uint32_t expect = 0;    // the producers' (and the flush program's) return value when all went well
  bool external = false;  // another process consumes (the map is pinned): produce (and flush) only
};

struct Producer {
  int cpu = 0;
  uint64_t fired = 0;  // repetitions that BPF_PROG_TEST_RUN reported done
  uint64_t calls = 0;
  uint64_t kernel_ns = 0;  // sum of opts.duration × repeat
  uint64_t wall_ns = 0;    // first call to last return
  bool has_bad_retval = false;
  uint32_t bad_retval = 0;  // the first return value other than the expected one
  bool timed_out = false;
  int err = 0;
  std::string what;
};

class BufferWorker : public PromiseWorker {
 public:
  BufferWorker(Napi::Env env, BufSpec spec) : PromiseWorker(env), s_(std::move(spec)) {}

  void Execute() override {
    ClearLibbpfLog();
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return Fail(ncpu < 0 ? -ncpu : EINVAL, "libbpf_num_possible_cpus");
    ncpu_ = ncpu;
    c_.consumed.assign(ncpu, 0);
    c_.lost.assign(ncpu, 0);

    // 1. counters to zero
    std::vector<MicroCounters> zero(ncpu);
    std::memset(zero.data(), 0, zero.size() * sizeof(MicroCounters));
    uint32_t key = 0;
    if (bpf_map_update_elem(s_.counters_fd, &key, zero.data(), BPF_ANY))
      return Fail(errno, "resetting the counters map");

    // 2. consumer (none when another process consumes)
    ring_buffer* rb = nullptr;
    perf_buffer* pb = nullptr;
    if (s_.external) {
    } else if (s_.perf) {
      pb = perf_buffer__new(s_.map_fd, s_.perf_pages, PerfCb, LostCb, &c_, nullptr);
      if (!pb) return Fail(errno, "perf_buffer__new (" + std::to_string(s_.perf_pages) + " pages per CPU)");
    } else {
      rb = ring_buffer__new(s_.map_fd, RingCb, &c_, nullptr);
      if (!rb) return Fail(errno, "ring_buffer__new");
    }

    auto free_buffers = [&] {
      if (pb) perf_buffer__free(pb);
      if (rb) ring_buffer__free(rb);
    };

    // 3. consumer thread, then producers
    std::atomic<bool> stop{false};
    int consumer_err = 0, consumer_pin = 0;
    start_ns_ = MonoNs();
    Thread consumer;
    int start_err = s_.external ? 0 : consumer.Start([&] {
      if (s_.consumer_cpu >= 0 && (consumer_pin = PinThisThread(s_.consumer_cpu))) return;
      while (!stop.load(std::memory_order_acquire)) {
        int n = pb ? perf_buffer__poll(pb, 20) : ring_buffer__poll(rb, 20);
        if (n < 0 && n != -EINTR) {
          consumer_err = -n;
          return;
        }
        polls_++;
        if (n > 0) wakeups_++;
      }
    });
    if (start_err) {
      free_buffers();
      return Fail(start_err, "starting the consumer thread");
    }

    producers_.resize(s_.producers.size());
    std::vector<Thread> threads(s_.producers.size());
    for (size_t i = 0; i < s_.producers.size() && !start_err; i++) {
      producers_[i].cpu = s_.producers[i];
      start_err = threads[i].Start([this, i] { Produce(&producers_[i]); });
    }
    for (auto& t : threads) t.Join();
    producers_done_ns_ = MonoNs();
    stop.store(true, std::memory_order_release);
    consumer.Join();
    if (start_err) {
      free_buffers();
      return Fail(start_err, "starting a producer thread");
    }

    // 4. drain (this thread; the consumer thread has stopped); external: the other process drains
    int n = s_.external ? 0 : pb ? perf_buffer__consume(pb) : ring_buffer__consume(rb);
    if (s_.perf && n >= 0) {
      for (auto& p : producers_) {
        int rc = 0;
        int pin = RunPinned(p.cpu, [&] {
          auto opts = MakeOpts<bpf_test_run_opts>();
          opts.data_in = s_.data.data();
          opts.data_size_in = static_cast<uint32_t>(s_.data.size());
          opts.repeat = 1;
          rc = bpf_prog_test_run_opts(s_.flush_fd, &opts) ? errno : 0;
          if (!rc && opts.retval != s_.expect) rc = ENOSPC;
        });
        if (pin || rc) {
          free_buffers();
          return Fail(pin ? pin : rc, "flush marker on CPU " + std::to_string(p.cpu));
        }
      }
      if (pb) n = perf_buffer__consume(pb);
    }
    end_ns_ = MonoNs();
    free_buffers();
    if (n < 0) return Fail(-n, s_.perf ? "perf_buffer__consume" : "ring_buffer__consume");
    if (consumer_pin) return Fail(consumer_pin, "pinning the consumer to CPU " + std::to_string(s_.consumer_cpu));
    if (consumer_err) return Fail(consumer_err, s_.perf ? "perf_buffer__poll" : "ring_buffer__poll");
    for (auto& p : producers_)
      if (p.err) return Fail(p.err, p.what);

    // 5. what the producer program counted
    counters_.assign(ncpu, MicroCounters{0, 0});
    if (bpf_map_lookup_elem(s_.counters_fd, &key, counters_.data())) return Fail(errno, "reading the counters map");
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array per = Napi::Array::New(env, producers_.size());
    for (size_t i = 0; i < producers_.size(); i++) {
      const Producer& p = producers_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("cpu", p.cpu);
      o.Set("fired", static_cast<double>(p.fired));
      o.Set("calls", static_cast<double>(p.calls));
      o.Set("kernelNs", static_cast<double>(p.kernel_ns));
      o.Set("wallNs", static_cast<double>(p.wall_ns));
      o.Set("timedOut", p.timed_out);
      if (p.has_bad_retval) o.Set("badRetval", p.bad_retval);
      const MicroCounters& mc = counters_[p.cpu];
      o.Set("producedByProgram", static_cast<double>(mc.produced));
      o.Set("failedByProgram", static_cast<double>(mc.failed));
      o.Set("consumed", static_cast<double>(c_.consumed[p.cpu]));
      o.Set("lost", static_cast<double>(c_.lost[p.cpu]));
      per.Set(i, o);
    }
    out.Set("producers", per);
    // events seen from CPUs that were not producers (there should be none)
    uint64_t elsewhere = c_.foreign;
    for (int cpu = 0; cpu < ncpu_; cpu++) {
      bool producer = std::find(s_.producers.begin(), s_.producers.end(), cpu) != s_.producers.end();
      if (!producer) elsewhere += c_.consumed[cpu] + c_.lost[cpu];
    }
    out.Set("unexpected", static_cast<double>(elsewhere));
    out.Set("shortRecords", static_cast<double>(c_.short_records));
    out.Set("markers", static_cast<double>(c_.markers));
    out.Set("bytes", static_cast<double>(c_.bytes));
    out.Set("polls", static_cast<double>(polls_));
    out.Set("wakeups", static_cast<double>(wakeups_));
    out.Set("startNs", static_cast<double>(start_ns_));
    out.Set("producersDoneNs", static_cast<double>(producers_done_ns_));
    out.Set("lastEventNs", static_cast<double>(c_.last_ns));
    out.Set("endNs", static_cast<double>(end_ns_));
    Napi::Object lat = Napi::Object::New(env);
    lat.Set("count", static_cast<double>(c_.latency.n()));
    lat.Set("sum", c_.latency.sum());
    lat.Set("min", static_cast<double>(c_.latency.min()));
    lat.Set("max", static_cast<double>(c_.latency.max()));
    lat.Set("buckets", BucketsArray(env, c_.latency));
    out.Set("latency", lat);
    return out;
  }

 private:
  void Produce(Producer* p) {
    if ((p->err = PinThisThread(p->cpu))) {
      p->what = "pinning a producer to CPU " + std::to_string(p->cpu) + " (sched_setaffinity)";
      return;
    }
    auto opts = MakeOpts<bpf_test_run_opts>();
    opts.data_in = s_.data.data();
    opts.data_size_in = static_cast<uint32_t>(s_.data.size());
    const uint64_t t0 = MonoNs();
    uint64_t done = 0;
    while (done < s_.events) {
      uint64_t n = std::min(s_.batch, s_.events - done);
      if (s_.rate > 0) {
        uint64_t due = t0 + static_cast<uint64_t>(static_cast<double>(done) * 1e9 / s_.rate);
        timespec ts{static_cast<time_t>(due / 1000000000ull), static_cast<long>(due % 1000000000ull)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
        }
      }
      if (MonoNs() - t0 > s_.timeout_ns) {
        p->timed_out = true;
        break;
      }
      opts.repeat = static_cast<int>(n);
      if (bpf_prog_test_run_opts(s_.prog_fd, &opts)) {
        p->err = errno;
        p->what = "BPF_PROG_TEST_RUN of the producer on CPU " + std::to_string(p->cpu);
        break;
      }
      if (opts.retval != s_.expect && !p->has_bad_retval) {
        p->has_bad_retval = true;
        p->bad_retval = opts.retval;
      }
      p->calls++;
      p->kernel_ns += static_cast<uint64_t>(opts.duration) * n;
      done += n;
    }
    p->fired = done;
    p->wall_ns = MonoNs() - t0;
  }

  BufSpec s_;
  Consumer c_;
  int ncpu_ = 0;
  std::vector<Producer> producers_;
  std::vector<MicroCounters> counters_;
  uint64_t polls_ = 0, wakeups_ = 0;
  uint64_t start_ns_ = 0, producers_done_ns_ = 0, end_ns_ = 0;
};

// bufferRunAsync({mechanism: 'ringbuf'|'perfbuf', mapFd, progFd, flushProgFd?, countersFd, producers: [cpu],
//                 events, batch, rate, data: Buffer, perfPages, consumerCpu, timeoutMs, expect})
Napi::Value BufferRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return TypeErr(env, "bufferRunAsync takes a spec object");
  Napi::Object o = info[0].As<Napi::Object>();
  BufSpec s;
  std::string mech = o.Get("mechanism").IsString() ? o.Get("mechanism").As<Napi::String>().Utf8Value() : "";
  if (mech != "ringbuf" && mech != "perfbuf")
    return TypeErr(env, "bufferRunAsync: mechanism must be 'ringbuf' or 'perfbuf'");
  s.perf = mech == "perfbuf";
  std::string err;
  double map_fd = -1, prog_fd = -1, flush_fd = -1, counters_fd = -1, events = 0, batch = 1000, rate = 0, pages = 64,
         ccpu = -1, timeout = 60000, expect = 0;
  s.external = o.Get("external").IsBoolean() && o.Get("external").As<Napi::Boolean>().Value();
  if (!OptNumber(o, "mapFd", 0, 1 << 30, &map_fd, true, &err, false) ||
      !OptNumber(o, "progFd", 0, 1 << 30, &prog_fd, true, &err, false) ||
      !OptNumber(o, "flushProgFd", 0, 1 << 30, &flush_fd, s.perf, &err, false) ||
      !OptNumber(o, "countersFd", 0, 1 << 30, &counters_fd, true, &err, false) ||
      !OptNumber(o, "events", 1, 1e12, &events, true, &err, false) ||
      !OptNumber(o, "batch", 1, 0x7fffffff, &batch, false, &err, false) ||
      !OptNumber(o, "rate", 0, 1e12, &rate, false, &err, false) ||
      !OptNumber(o, "perfPages", 1, 1 << 20, &pages, false, &err, false) ||
      !OptNumber(o, "consumerCpu", -1, CPU_SETSIZE - 1, &ccpu, false, &err, false) ||
      !OptNumber(o, "timeoutMs", 1, 3.6e6, &timeout, false, &err, false) ||
      !OptNumber(o, "expect", 0, 4294967295.0, &expect, false, &err, false))
    return TypeErr(env, "bufferRunAsync: " + err);
  s.map_fd = static_cast<int>(map_fd);
  s.prog_fd = static_cast<int>(prog_fd);
  s.flush_fd = static_cast<int>(flush_fd);
  s.counters_fd = static_cast<int>(counters_fd);
  s.events = static_cast<uint64_t>(events);
  s.batch = static_cast<uint64_t>(batch);
  s.rate = rate;
  s.perf_pages = static_cast<uint64_t>(pages);
  s.consumer_cpu = static_cast<int>(ccpu);
  s.timeout_ns = static_cast<uint64_t>(timeout * 1e6);
  s.expect = static_cast<uint32_t>(expect);
  Napi::Value d = o.Get("data");
  if (!d.IsBuffer()) return TypeErr(env, "bufferRunAsync: data must be a Buffer (the producer's packet)");
  auto buf = d.As<Napi::Buffer<uint8_t>>();
  s.data.assign(buf.Data(), buf.Data() + buf.Length());
  Napi::Value p = o.Get("producers");
  if (!p.IsArray() || p.As<Napi::Array>().Length() == 0)
    return TypeErr(env, "bufferRunAsync: producers must be a non-empty array of CPUs");
  int ncpu = libbpf_num_possible_cpus();
  for (uint32_t i = 0; i < p.As<Napi::Array>().Length(); i++) {
    Napi::Value c = p.As<Napi::Array>().Get(i);
    double cpu = c.IsNumber() ? c.As<Napi::Number>().DoubleValue() : -1;
    if (cpu < 0 || cpu >= ncpu || std::floor(cpu) != cpu)
      return TypeErr(env, "bufferRunAsync: producers must hold possible CPU numbers");
    if (std::find(s.producers.begin(), s.producers.end(), static_cast<int>(cpu)) != s.producers.end())
      return TypeErr(env, "bufferRunAsync: one producer per CPU");
    s.producers.push_back(static_cast<int>(cpu));
  }
  auto* worker = new BufferWorker(env, std::move(s));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// The same consumer on its own, for a consumer process (consumers/node): bufferConsumerStart({mechanism,
// mapFd, perfPages}) opens the buffer and returns {handle, done}; the polling runs on a libuv pool thread
// (an AsyncWorker), which outlives the run, so that the process's CPU time read from its live threads
// still holds it after the stop. bufferConsumerStop(handle) asks it to stop: it drains what is left and
// `done` resolves with the counts.
struct Standalone {
  Consumer c;
  ring_buffer* rb = nullptr;
  perf_buffer* pb = nullptr;
  std::atomic<bool> stop{false};
  uint64_t cpu_ns = 0;  // CPU time of the polling thread from start to the end of the drain
};
std::vector<Standalone*> g_standalone;

class StandaloneWorker : public PromiseWorker {
 public:
  StandaloneWorker(Napi::Env env, Standalone* st) : PromiseWorker(env), st_(st) {}
  ~StandaloneWorker() override {
    if (st_->pb) perf_buffer__free(st_->pb);
    if (st_->rb) ring_buffer__free(st_->rb);
    delete st_;
  }

  void Execute() override {
    const uint64_t c0 = ThreadCpuNs();
    while (!st_->stop.load(std::memory_order_acquire)) {
      int n = st_->pb ? perf_buffer__poll(st_->pb, 20) : ring_buffer__poll(st_->rb, 20);
      if (n < 0 && n != -EINTR) return Fail(-n, st_->pb ? "perf_buffer__poll" : "ring_buffer__poll");
    }
    int n = st_->pb ? perf_buffer__consume(st_->pb) : ring_buffer__consume(st_->rb);
    if (n < 0) return Fail(-n, st_->pb ? "perf_buffer__consume" : "ring_buffer__consume");
    st_->cpu_ns = ThreadCpuNs() - c0;
  }

  Napi::Value Result(Napi::Env env) override {
    const Consumer& c = st_->c;
    Napi::Object out = Napi::Object::New(env);
    Napi::Array consumed = Napi::Array::New(env), lost = Napi::Array::New(env);
    for (size_t i = 0; i < c.consumed.size(); i++) {
      consumed.Set(i, static_cast<double>(c.consumed[i]));
      lost.Set(i, static_cast<double>(c.lost[i]));
    }
    out.Set("consumed", consumed);
    out.Set("lost", lost);
    out.Set("markers", static_cast<double>(c.markers));
    out.Set("foreign", static_cast<double>(c.foreign));
    out.Set("shortRecords", static_cast<double>(c.short_records));
    out.Set("lastEventNs", static_cast<double>(c.last_ns));
    out.Set("buckets", BucketsArray(env, c.latency));
    out.Set("consumerCpuNs", static_cast<double>(st_->cpu_ns));
    return out;
  }

 private:
  Standalone* st_;
};

Napi::Value BufferConsumerStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    return TypeErr(env, "bufferConsumerStart takes {mechanism, mapFd, perfPages}");
  Napi::Object o = info[0].As<Napi::Object>();
  std::string mech = o.Get("mechanism").IsString() ? o.Get("mechanism").As<Napi::String>().Utf8Value() : "";
  if (mech != "ringbuf" && mech != "perfbuf")
    return TypeErr(env, "bufferConsumerStart: mechanism must be 'ringbuf' or 'perfbuf'");
  std::string err;
  double map_fd = -1, pages = 64;
  if (!OptNumber(o, "mapFd", 0, 1 << 30, &map_fd, true, &err, false) ||
      !OptNumber(o, "perfPages", 1, 1 << 20, &pages, false, &err, false))
    return TypeErr(env, "bufferConsumerStart: " + err);
  int ncpu = libbpf_num_possible_cpus();
  auto* st = new Standalone();
  st->c.consumed.assign(ncpu > 0 ? ncpu : 1, 0);
  st->c.lost.assign(ncpu > 0 ? ncpu : 1, 0);
  ClearLibbpfLog();
  if (mech == "perfbuf")
    st->pb = perf_buffer__new(static_cast<int>(map_fd), static_cast<size_t>(pages), PerfCb, LostCb, &st->c, nullptr);
  else
    st->rb = ring_buffer__new(static_cast<int>(map_fd), RingCb, &st->c, nullptr);
  if (!st->pb && !st->rb) {
    int e = errno;
    delete st;
    ThrowErrno(env, e, mech == "perfbuf" ? "perf_buffer__new" : "ring_buffer__new");
    return env.Undefined();
  }
  auto* worker = new StandaloneWorker(env, st);
  g_standalone.push_back(st);
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", static_cast<double>(g_standalone.size() - 1));
  out.Set("done", worker->Promise());
  worker->Queue();
  return out;
}

Napi::Value BufferConsumerStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double h = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (h < 0 || h >= g_standalone.size() || !g_standalone[static_cast<size_t>(h)])
    return TypeErr(env, "bufferConsumerStop: not a running consumer handle");
  g_standalone[static_cast<size_t>(h)]->stop.store(true, std::memory_order_release);
  g_standalone[static_cast<size_t>(h)] = nullptr;  // the worker frees it
  return env.Undefined();
}

// objPin(fd, path): bpf_obj_pin, so that another process can open the map (the caller unlinks the path).
Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) return TypeErr(env, "objPin(fd, path)");
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (bpf_obj_pin(info[0].As<Napi::Number>().Int32Value(), path.c_str()))
    ThrowErrno(env, errno, "bpf_obj_pin(" + path + ")");
  return env.Undefined();
}

}  // namespace

void RegisterBufferRunFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("bufferRunAsync", Napi::Function::New(env, BufferRunAsync, "bufferRunAsync"));
  exports.Set("bufferConsumerStart", Napi::Function::New(env, BufferConsumerStart, "bufferConsumerStart"));
  exports.Set("bufferConsumerStop", Napi::Function::New(env, BufferConsumerStop, "bufferConsumerStop"));
  exports.Set("objPin", Napi::Function::New(env, ObjPin, "objPin"));
}

}  // namespace ebp
