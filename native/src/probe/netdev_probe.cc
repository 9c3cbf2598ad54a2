// Network attach probes (xdp, xdp.native, tc, tcx).
//
// The host's interfaces are never touched: each probe runs on its own thread,
// which first moves itself into a brand-new network namespace with
// unshare(CLONE_NEWNET). Only that thread lives there; the namespace (its lo,
// the veth pair we create, any qdisc or program still attached) disappears
// when the thread ends, even if something below fails half-way.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/bpf_api.h"
#include "core/fd.h"
#include "core/threads.h"
#include "net/rtnl.h"
#include "probe/deferred_teardown.h"
#include "probe/probes.h"
#include "probe/result.h"
#include "probe/trivial_prog.h"

namespace ebp {

namespace {

constexpr const char* kVeth0 = "ebp-pr0";
constexpr const char* kVeth1 = "ebp-pr1";
const std::string kLoWhere = "lo in a private netns";

// ip link set <name> up
int SetLinkUp(const char* name) {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return errno;
  ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) return errno;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) return errno;
  return 0;
}

// Interface index inside the private netns, bringing the device up.
bool PrepareDevice(const char* name, const std::string& where, int* ifindex, ProbeResult* fail) {
  if (int err = SetLinkUp(name)) {
    *fail = FailOp(Stage::Setup, err, std::string("bringing ") + name + " up", where);
    return false;
  }
  *ifindex = static_cast<int>(if_nametoindex(name));
  if (*ifindex == 0) {
    *fail = FailOp(Stage::Setup, errno, std::string("if_nametoindex(") + name + ")", where);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The probes (already inside the private netns)

ProbeResult AttachXdp(int prog, int ifindex, uint32_t flags, const std::string& mode, const std::string& where) {
  auto opts = MakeOpts<bpf_link_create_opts>();
  opts.flags = flags;
  Fd link(bpf_link_create(prog, ifindex, BPF_XDP, &opts));
  if (link.valid()) {
    DeferTeardown({&link});  // or the netns going away detaches it
    return Ok("attached via bpf_link_create(BPF_XDP, " + mode + ")", where);
  }
  int err = errno;
  if (err != EINVAL) return FailOp(Stage::Attach, err, "bpf_link_create(BPF_XDP, " + mode + ")", where);
  // Kernels before 5.9 have no XDP links: netlink attach, then detach.
  auto xopts = MakeOpts<bpf_xdp_attach_opts>();
  if (bpf_xdp_attach(ifindex, prog, flags, &xopts) < 0) {
    ProbeResult r = FailOp(Stage::Attach, errno, "bpf_xdp_attach(" + mode + ")", where);
    AddDetail(&r, "bpf_link_create(BPF_XDP): EINVAL");
    return r;
  }
  bpf_xdp_detach(ifindex, flags, nullptr);
  return Ok("attached via bpf_xdp_attach(" + mode + ") (bpf_link_create: EINVAL)", where);
}

ProbeResult ProbeXdp(bool native) {
  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_XDP;
  spec.expected_attach_type = BPF_XDP;
  ProbeResult fail;
  std::string where = kLoWhere;
  const char* dev = "lo";
  if (native) {
    where = std::string(kVeth0) + " (veth, peer " + kVeth1 + ") in a private netns";
    dev = kVeth0;
    if (int err = AddVethPair(VethEnd{kVeth0}, VethEnd{kVeth1}))
      return FailOp(Stage::Setup, err, "creating veth pair (RTM_NEWLINK)", where);
    if (int err = SetLinkUp(kVeth1)) return FailOp(Stage::Setup, err, std::string("bringing ") + kVeth1 + " up", where);
  }
  int ifindex = 0;
  if (!PrepareDevice(dev, where, &ifindex, &fail)) return fail;

  spec.target = dev;
  Fd prog;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;
  return native ? AttachXdp(prog.get(), ifindex, XDP_FLAGS_DRV_MODE, "XDP_FLAGS_DRV_MODE", where)
                : AttachXdp(prog.get(), ifindex, XDP_FLAGS_SKB_MODE, "XDP_FLAGS_SKB_MODE", where);
}

// Removes the clsact qdisc we created (ingress + egress hooks).
class TcHookGuard {
 public:
  explicit TcHookGuard(const bpf_tc_hook& hook) : hook_(hook) {}
  ~TcHookGuard() {
    hook_.attach_point = static_cast<enum bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&hook_);
  }
  TcHookGuard(const TcHookGuard&) = delete;
  TcHookGuard& operator=(const TcHookGuard&) = delete;

 private:
  bpf_tc_hook hook_;
};

ProbeResult ProbeTc(bool egress) {
  ProbeResult fail;
  int ifindex = 0;
  if (!PrepareDevice("lo", kLoWhere, &ifindex, &fail)) return fail;
  const std::string dir = egress ? "egress" : "ingress";

  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  spec.target = "lo " + dir;
  Fd prog;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  auto hook = MakeOpts<bpf_tc_hook>();
  hook.ifindex = ifindex;
  hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
  int err = bpf_tc_hook_create(&hook);
  if (err < 0 && err != -EEXIST)
    return FailOp(Stage::Attach, -err, "bpf_tc_hook_create (clsact qdisc on lo)", kLoWhere);
  TcHookGuard hook_guard(hook);

  auto opts = MakeOpts<bpf_tc_opts>();
  opts.prog_fd = prog.get();
  err = bpf_tc_attach(&hook, &opts);
  if (err < 0) return FailOp(Stage::Attach, -err, "bpf_tc_attach(" + dir + ")", kLoWhere);

  auto detach = MakeOpts<bpf_tc_opts>();
  detach.handle = opts.handle;
  detach.priority = opts.priority;
  bpf_tc_detach(&hook, &detach);
  return Ok("attached via bpf_tc_attach (clsact " + dir + ", cls_bpf direct-action)", kLoWhere);
}

ProbeResult ProbeTcx(bool egress) {
  ProbeResult fail;
  int ifindex = 0;
  if (!PrepareDevice("lo", kLoWhere, &ifindex, &fail)) return fail;
  const uint32_t type = egress ? kAttachTcxEgress : kAttachTcxIngress;
  const std::string type_name = AttachTypeName(type);

  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  spec.expected_attach_type = type;
  spec.has_expected = true;
  spec.target = "lo";
  Fd prog;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  Fd link(bpf_link_create(prog.get(), ifindex, static_cast<enum bpf_attach_type>(type), nullptr));
  if (!link.valid()) return FailOp(Stage::Attach, errno, "bpf_link_create(" + type_name + ")", kLoWhere);
  DeferTeardown({&link});  // its detach waits for a grace period
  return Ok("attached via bpf_link_create(" + type_name + ")", kLoWhere);
}

ProbeResult RunNetProbe(const std::string& kind, const std::string& target) {
  if (kind == "tc" || kind == "tcx") {
    if (!target.empty() && target != "ingress" && target != "egress")
      return FailMsg(Stage::Setup, EINVAL,
                     kind + " target must be 'ingress' or 'egress' (the probe always uses lo in a private netns)");
    bool egress = target == "egress";
    return kind == "tc" ? ProbeTc(egress) : ProbeTcx(egress);
  }
  if (!target.empty())
    return FailMsg(Stage::Setup, EINVAL,
                   kind + " takes no target: it always runs on lo / a veth pair in a private netns");
  return ProbeXdp(kind == "xdp.native");
}

struct NetnsJob {
  std::string kind;
  std::string target;
  ProbeResult result;
  bool defer_teardown;  // the calling thread's tl_defer_teardown, carried over
};

void NetnsThreadMain(NetnsJob* job) {
  if (unshare(CLONE_NEWNET) != 0) {
    job->result = FailOp(Stage::Setup, errno, "unshare(CLONE_NEWNET) for the probe thread");
    return;
  }
  tl_defer_teardown = job->defer_teardown;
  job->result = RunNetProbe(job->kind, job->target);
}

}  // namespace

ProbeResult ProbeNetAttach(const std::string& kind, const std::string& target) {
  NetnsJob job{kind, target, ProbeResult(), tl_defer_teardown};
  Thread thread;  // none of the process's signals is ever delivered to it
  if (int rc = thread.Start([&job] { NetnsThreadMain(&job); }, true))
    return FailOp(Stage::Setup, rc, "starting the private-netns probe thread");
  thread.Join();
  return job.result;
}

}  // namespace ebp
