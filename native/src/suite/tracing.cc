// Registration and teardown of the tracing suite's native parts (tracing.h).
#include "suite/tracing.h"

namespace ebp {
namespace {

// When the JS environment ends: consumers stop reading before the trigger stops firing, and both before
// the programs they observe are detached and closed.
void Cleanup(void*) {
  StopAllRingConsumers();
  StopTrigger();
  CloseAllTracePrograms();
}

}  // namespace

void RegisterTraceFunctions(Napi::Env env, Napi::Object exports) {
  RegisterTraceProgramFunctions(env, exports);
  RegisterTriggerFunctions(env, exports);
  RegisterRingConsumerFunctions(env, exports);
  napi_add_env_cleanup_hook(env, Cleanup, nullptr);
}

}  // namespace ebp
