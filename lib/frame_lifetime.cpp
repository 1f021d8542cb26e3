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

void frame_base::describe(char (&out)[64]) const noexcept {
  std::snprintf(out, sizeof out, "<async_generator object at %p>", static_cast<const void*>(this));
}

std::string frame_base::description() const {
  char buf[64];
  describe(buf);
  return buf;
}

void frame_base::report_unraisable_error(std::exception_ptr error, const char* prefix) noexcept {
  char name[64];
  describe(name);
  std::string object;
  try {
    object.append(prefix).append(name);
  } catch (...) {
    // Memory is short: the report goes without what it happened in rather than not at all.
    object.clear();
  }
  report_unraisable(unraisable{std::move(error), std::move(object)});
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
  if (state_ == frame_state::suspended && !context_gone_) {
    // PEP 525 without a finalizer: close synchronously, right here, with this stack as the close's waiter.
    waiter closing(op_kind::aclose, waiter_target::native, nullptr, nullptr, nullptr);
    install(closing, this);
    state_ = frame_state::running;
    mode_ = resume_mode::close_sync;
    kind_ = op_kind::aclose;
    resume_here();
    if (close_error_) report_unraisable_error(std::move(close_error_));
  } else {
    // Its context is gone, or it was dropped mid-operation (whatever held its await went away).
    tear_down();
  }
  if (abandoned_ || live_unwind_signals_ != 0) {
    next_kept_ = kept_frames.load(std::memory_order_relaxed);
    while (!kept_frames.compare_exchange_weak(next_kept_, this, std::memory_order_release, std::memory_order_relaxed)) {
    }
    return;
  }
  delete this;
}

void frame_base::tear_down() noexcept {
  waiter unwinding(op_kind::aclose, waiter_target::native, nullptr, nullptr, nullptr);
  waiter* pending = nullptr;
  if (waiter_ != nullptr && waiter_->target == waiter_target::handler) {
    pending = waiter_;
    hand_over(*pending, unwinding);  // the unwound body's end completes nobody
  }
  if (state_ == frame_state::suspended) {
    install(unwinding, this);
    state_ = frame_state::running;
    unwinding_ = true;
    resume_here();
  } else if (state_ == frame_state::running && self_.cont) {
    // Mid-operation (waiting in an await, or on a generator it consumes).
    unwinding_ = true;
    if (waiting_consumer() != nullptr) {
      waiter_ = nullptr;
    } else if (waiter_ != nullptr) {
      waiter_->entry = this;  // the generator it was started on may be gone
    }
    resume_here();
  }
  if (close_error_) report_unraisable_error(std::move(close_error_));
  if (pending != nullptr) pending->destroy();
}

}  // namespace detail
}  // namespace async_generator
