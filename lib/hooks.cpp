#include <async_generator/compat/asio.hpp>
#include <async_generator/hooks.hpp>
#include <async_generator/detail/registry.hpp>
#include <async_generator/unraisable.hpp>

#include <thread>

namespace async_generator {
namespace {

asyncgen_hooks& thread_hooks() {
  static thread_local asyncgen_hooks hooks;
  return hooks;
}

}  // namespace

asyncgen_hooks get_asyncgen_hooks() { return thread_hooks(); }

void set_asyncgen_hooks(asyncgen_hook firstiter, asyncgen_hook finalizer) {
  asyncgen_hooks& hooks = thread_hooks();
  hooks.firstiter = std::move(firstiter);
  hooks.finalizer = std::move(finalizer);
}

void set_asyncgen_hooks(asyncgen_hook firstiter) { thread_hooks().firstiter = std::move(firstiter); }

void set_asyncgen_hooks(keep_t, asyncgen_hook finalizer) { thread_hooks().finalizer = std::move(finalizer); }

namespace detail {

void frame_base::capture_hooks() {
  unsigned char state = hooks_uncaptured;
  if (!hooks_.compare_exchange_strong(state, hooks_capturing, std::memory_order_acquire)) {
    // First operations started at once from two threads: the other one captures its thread's hooks.
    while (hooks_.load(std::memory_order_acquire) == hooks_capturing) std::this_thread::yield();
    return;
  }
  const asyncgen_hooks& hooks = thread_hooks();
  asyncgen_hook firstiter;
  std::shared_ptr<registry_state> registry;
  try {
    firstiter = hooks.firstiter;  // the hook may replace the hooks
    if (hooks.finalizer) finalizer_.reset(new asyncgen_hook(hooks.finalizer));
    registry = registry_of(asio::query(ex_, asio::execution::context));
  } catch (...) {
    finalizer_.reset();
    hooks_.store(hooks_uncaptured, std::memory_order_release);
    throw;
  }
  // Every started generator is in its context's record, which tears it down when the context goes;
  // without a finalizer of the thread's own, the context's bookkeeping stands in (asyncio's hooks).
  bookkept_ = !finalizer_;
  claims_shared_ = !registry->one_thread();
  if (registry->add(this)) registry_ = std::move(registry);
  // Published before firstiter runs: the hook may start an operation on the generator itself.
  hooks_.store(hooks_captured, std::memory_order_release);
  if (!firstiter) return;
  try {
    firstiter(generator_ref(frame_ptr<frame_base>(this)));
  } catch (...) {
    report_unraisable_error(std::current_exception(), "firstiter hook of ");
  }
}

bool frame_base::finalize() noexcept {
  if (state_ != frame_state::suspended || !finalizer_ || closed_) return false;
  std::unique_ptr<asyncgen_hook> finalizer = std::move(finalizer_);
  refs_.store(1, std::memory_order_relaxed);  // resurrected: the finalizer's handle owns it now
  // The finalizer may drop that handle: this frame lives until the call is over (then, dropped, it
  // is destroyed as any dropped generator, without a second finalizer call).
  frame_ptr<frame_base> keep(this);
  try {
    (*finalizer)(generator_ref(frame_ptr<frame_base>(this, false)));
  } catch (...) {
    report_unraisable_error(std::current_exception(), "finalizer hook of ");
  }
  return true;
}

}  // namespace detail
}  // namespace async_generator
