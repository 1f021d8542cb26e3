// A generator's frame from its construction to its destruction: the drop of its last handle, and
// what PEP 525 says happens to a generator dropped unfinished.
#include <async_generator/detail/frame_switch.hpp>
#include <async_generator/detail/registry.hpp>
#include <async_generator/unraisable.hpp>

#include <cstdio>
#include <string>

namespace async_generator {
namespace detail {
namespace {
std::atomic<unsigned long long> next_serial{1};
// Frames never deleted: an abandoned body's (its fiber must be neither resumed nor unwound), or
// one whose unwind_signal somebody keeps in an exception_ptr. Reachable from here, for leak checkers.
std::atomic<frame_base*> kept_frames{nullptr};
}

frame_base::frame_base(asio::any_io_executor ex, stack_options stack, compat::asio_build, compat::fiber_build)
    : ex_(std::move(ex)),
      io_ex_(compat::io_executor_of(ex_)),
      stack_{stack.size, resolve(stack.policy)},
      serial_(next_serial.fetch_add(1, std::memory_order_relaxed)) {}

frame_base::~frame_base() = default;

std::string frame_base::description() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "<async_generator object at %p>", static_cast<const void*>(this));
  return buf;
}

void frame_base::drop_now() noexcept {
  drop_deferred_ = false;
  // A reference taken since (frame_pin::hold) carries the drop on to its own release.
  if (refs_.load(std::memory_order_acquire) == 0) destroy();
}

void frame_base::destroy() noexcept {
  if (pinned_) {
    drop_deferred_ = true;
    return;
  }
  if (finalize()) return;
  if (registry_) {
    std::shared_ptr<registry_state> registry = std::move(registry_);
    if (registry->adopt_dropped(this)) return;
  }
  // A suspended generator is closed here, with this stack as the close's waiter.
  waiter closing(op_kind::aclose, waiter_target::native, nullptr, nullptr, nullptr);
  if (state_ == frame_state::suspended) {
    install(closing, this);
    state_ = frame_state::running;
    if (context_gone_) {
      // Its execution context was destroyed: unwind the stack, but run nothing that would use it.
      unwinding_ = true;
    } else {
      // PEP 525 without a finalizer: close synchronously, right here.
      mode_ = resume_mode::close_sync;
      kind_ = op_kind::aclose;
    }
    resume_here();
  } else if (state_ == frame_state::running && self_.cont) {
    // Abandoned mid-operation (its execution context went away): unwind without running awaits.
    unwinding_ = true;
    if (waiting_consumer() != nullptr) {
      waiter_ = nullptr;
    } else if (waiter_ != nullptr) {
      waiter_->entry = this;  // the generator it was started on may be gone
    }
    resume_here();
  }
  if (close_error_) report_unraisable(unraisable{std::move(close_error_), description()});
  if (waiter_ != nullptr && waiter_->target == waiter_target::handler) {
    waiter* op = waiter_;
    waiter_ = nullptr;
    op->destroy();
  }
  if (abandoned_ || live_unwind_signals_ != 0) {
    next_kept_ = kept_frames.load(std::memory_order_relaxed);
    while (!kept_frames.compare_exchange_weak(next_kept_, this, std::memory_order_release, std::memory_order_relaxed)) {
    }
    return;
  }
  delete this;
}

}  // namespace detail
}  // namespace async_generator
