#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/unraisable.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace async_generator {
namespace detail {
namespace {

// The stack allocator of a body's fiber: pooled guard-paged stacks, whose bounds the frame keeps
// so that yield_ can tell whether it runs on its own generator's fiber.
class frame_stack {
 public:
  frame_stack(frame_base* f, std::size_t size) noexcept : frame_(f), size_(size) {}
  boost::context::stack_context allocate() {
    boost::context::stack_context sctx = allocate_stack(size_);
    frame_->stack_hi_ = static_cast<const char*>(sctx.sp);
    frame_->stack_lo_ = frame_->stack_hi_ - sctx.size;
    return sctx;
  }
  void deallocate(boost::context::stack_context& sctx) noexcept { deallocate_stack(sctx); }

 private:
  frame_base* frame_;
  std::size_t size_;
};

const char* running_message(op_kind kind) noexcept {
  switch (kind) {
    case op_kind::athrow:
      return errors::athrow_running;
    case op_kind::aclose:
      return errors::aclose_running;
    default:
      return errors::anext_running;
  }
}

std::string describe(const frame_base* f) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "<async_generator object at %p>", static_cast<const void*>(f));
  return buf;
}

}  // namespace

namespace {
std::atomic<unsigned long long> next_serial{1};
}

frame_base::frame_base(boost::asio::any_io_executor ex, std::size_t stack_size)
    : ex_(std::move(ex)), stack_size_(stack_size), serial_(next_serial.fetch_add(1, std::memory_order_relaxed)) {}

frame_base::~frame_base() = default;

compat::fiber frame_base::make_fiber() {
  return compat::fiber(std::allocator_arg, frame_stack(this, stack_size_),
                       [this](compat::fiber&& caller) { return run(std::move(caller)); });
}

bool frame_base::begin(op_kind kind, std::exception_ptr thrown, std::exception_ptr* error_out) {
  switch (state_) {
    case frame_state::running:
      *error_out = std::make_exception_ptr(runtime_error(running_message(kind)));
      return false;
    case frame_state::finished:
      if (kind == op_kind::anext || kind == op_kind::asend) *error_out = std::make_exception_ptr(stop_async_iteration());
      return false;
    case frame_state::created:
      switch (kind) {
        case op_kind::asend:
          *error_out = std::make_exception_ptr(type_error(errors::send_to_unstarted));
          return false;
        case op_kind::athrow:
          state_ = frame_state::finished;
          *error_out = std::move(thrown);
          return false;
        case op_kind::aclose:
          state_ = frame_state::finished;
          return false;
        case op_kind::anext:
          break;
      }
      self_.cont = make_fiber();
      mode_ = resume_mode::next;
      break;
    case frame_state::suspended:
      switch (kind) {
        case op_kind::anext:
          mode_ = resume_mode::next;
          break;
        case op_kind::asend:
          mode_ = resume_mode::send;
          break;
        case op_kind::athrow:
          mode_ = resume_mode::throw_in;
          thrown_ = std::move(thrown);
          break;
        case op_kind::aclose:
          mode_ = resume_mode::close;
          break;
      }
      break;
  }
  kind_ = kind;
  state_ = frame_state::running;
  error_out_ = error_out;
  return true;
}

void frame_base::run_chain(frame_base* f) {
  native_stack ns;
  while (f != nullptr) {
    f->bottom_ = &ns;
    ns.after = nullptr;
    compat::switch_to(ns, f->self_);
    f = ns.after != nullptr ? ns.after(ns.after_arg) : nullptr;
  }
}

void frame_base::start_pending_await(const native_stack& ns) {
  if (frame_base* f = ns.after(ns.after_arg)) run_chain(f);
}

void frame_base::start_op(op_base* op) {
  if (!begin(op->kind, std::move(op->thrown), &op->error)) {
    op->complete();
    return;
  }
  op_ = op;
  consumer_ = nullptr;
  value_out_ = op->kind == op_kind::aclose ? nullptr : op->value;
  sent_in_ = op->sent;
  resume_here();
}

void frame_base::complete_op() {
  op_base* op = op_;
  if (op == nullptr) return;
  op_ = nullptr;
  op->complete();
}





unsigned frame_base::prepare_await() {
  if (unwinding_) throw unwind_signal();
  if (mode_ == resume_mode::close_sync) {
    // A dropped generator is closed synchronously: there is no event loop to wait on.
    close_error_ = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
    unwinding_ = true;
    throw unwind_signal();
  }
  return ++await_seq_;
}

void frame_base::suspend_await(frame_base* (*start)(void*), void* arg) {
  awaiting_ = true;
  bottom_->after = start;
  bottom_->after_arg = arg;
  compat::switch_to(self_, *bottom_);
  awaiting_ = false;
  if (unwinding_) throw unwind_signal();
}

compat::fiber frame_base::run(compat::fiber&& caller) {
  compat::arrive(self_, std::move(caller));
  std::exception_ptr error;
  bool exit_escaped = false;
  bool unwound = false;
  try {
    run_body();
  } catch (const compat::forced_unwind&) {
    throw;
  } catch (const unwind_signal&) {
    unwound = true;
  } catch (const generator_exit&) {
    exit_escaped = true;
    error = std::current_exception();
  } catch (const stop_async_iteration&) {
    error = std::make_exception_ptr(runtime_error(errors::raised_stop_async_iteration, std::current_exception()));
  } catch (...) {
    error = std::current_exception();
  }
  outcome(std::move(error), exit_escaped, unwinding_ && !unwound);
  compat::switch_slot& next = hand_back();
  next.from = nullptr;
  return std::move(next.cont);
}

void frame_base::outcome(std::exception_ptr error, bool generator_exit_escaped, bool swallowed_unwind) {
  state_ = frame_state::finished;
  if (unwinding_) {
    if (swallowed_unwind) {
      close_error_ = std::make_exception_ptr(
          misuse_error("async generator body swallowed the library's stack unwinding (a catch (...) that does not "
                       "rethrow); it ran on until it returned"));
    }
    return;
  }
  if (mode_ == resume_mode::close_sync) {
    if (error && !generator_exit_escaped) close_error_ = std::move(error);
    return;
  }
  if (error_out_ == nullptr) return;
  if (!error) {
    if (kind_ != op_kind::aclose) *error_out_ = make_stop();
    return;
  }
  if (kind_ == op_kind::aclose && generator_exit_escaped) return;
  *error_out_ = std::move(error);
}

void frame_base::destroy() noexcept {
  if (state_ == frame_state::suspended) {
    // PEP 525 without a finalizer: close synchronously, right here.
    mode_ = resume_mode::close_sync;
    kind_ = op_kind::aclose;
    state_ = frame_state::running;
    resume_here();
  } else if (state_ == frame_state::running && self_.cont) {
    // Abandoned mid-operation (its execution context went away): unwind without running awaits.
    unwinding_ = true;
    consumer_ = nullptr;
    resume_here();
  }
  if (close_error_) report_unraisable(unraisable{close_error_, describe(this)});
  if (op_ != nullptr) {
    op_base* op = op_;
    op_ = nullptr;
    op->destroy();
  }
  delete this;
}

}  // namespace detail
}  // namespace async_generator
