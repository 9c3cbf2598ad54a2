{
  "targets": [
    {
      "target_name": "ebpfperf_native",
      "sources": [
        "src/addon.cc",
        "src/common.cc",
        "src/probes.cc",
        "src/attach.cc",
        "src/netns.cc",
        "src/object.cc",
        "src/trace.cc",
        "src/netattach.cc",
        "src/testrun.cc",
        "src/pktgen.cc",
        "src/ringbuf.cc",
        "src/teardown.cc"
      ],
      "include_dirs": [
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
