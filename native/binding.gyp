{
  "targets": [
    {
      "target_name": "ebpfperf_native",
      "sources": [
        "src/addon.cc",
        "src/core/bpf_api.cc",
        "src/core/errno_text.cc",
        "src/core/js_errors.cc",
        "src/core/libbpf_log.cc",
        "src/core/object.cc",
        "src/core/proc.cc",
        "src/core/threads.cc",
        "src/net/netns.cc",
        "src/net/netns_attach.cc",
        "src/net/netns_ping.cc",
        "src/net/netns_topology.cc",
        "src/net/rtnl.cc",
        "src/probe/attach_probe.cc",
        "src/probe/deferred_teardown.cc",
        "src/probe/feature_probe.cc",
        "src/probe/netdev_probe.cc",
        "src/probe/probe_api.cc",
        "src/probe/result.cc",
        "src/probe/trivial_prog.cc",
        "src/suite/buffer_run.cc",
        "src/suite/pktgen.cc",
        "src/suite/testrun.cc",
        "src/suite/trace_programs.cc",
        "src/suite/trace_ring.cc",
        "src/suite/trace_trigger.cc",
        "src/suite/tracing.cc"
      ],
      "include_dirs": [
        "src",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": [
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers",
        "<!@(pkg-config --cflags libbpf)"
      ],
      "libraries": [
        "<!@(pkg-config --libs libbpf)",
        "-lelf",
        "-lz",
        "-pthread"
      ]
    }
  ]
}
