#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/registry.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/hooks.hpp>
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
  explicit frame_stack(frame_base* f) noexcept : frame_(f), policy_(f->stack_.policy) {}
  boost::context::stack_context allocate() {
    boost::context::stack_context sctx = allocate_stack(frame_->stack_.size, frame_->stack_.policy, frame_);
    frame_->stack_hi_ = static_cast<const char*>(sctx.sp);
    frame_->stack_lo_ = frame_->stack_hi_ - sctx.size;
    compat::stack_of(frame_->self_, frame_->stack_lo_, sctx.size);
    return sctx;
  }
  // The stack may outlive the frame (a fiber unwound as its frame is destroyed): nothing of it is read here.
  void deallocate(boost::context::stack_context& sctx) noexcept { deallocate_stack(sctx, policy_); }

 private:
  frame_base* frame_;
  stack_policy policy_;
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

}  // namespace

namespace {
std::atomic<unsigned long long> next_serial{1};
}

frame_base::frame_base(asio::any_io_executor ex, stack_options stack, compat::asio_build)
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

compat::fiber frame_base::make_fiber() {
  compat::new_fiber_for(self_);
  prepare_thread_for_overflow_reports();
  return compat::fiber(std::allocator_arg, frame_stack(this),
                       [this](compat::fiber&& caller) { return run(std::move(caller)); });
}

bool frame_base::on_running_path(const frame_base* leaf) const noexcept {
  for (const frame_base* f = this; f != nullptr; f = f->delegator_) {
    if (f == leaf->entry_) return true;
  }
  return false;
}

bool frame_base::running() const noexcept {
  if (state_ == frame_state::running) return true;
  return delegate_ != nullptr && leaf_->state_ == frame_state::running && on_running_path(leaf_);
}

frame_base* frame_base::begin(op_kind kind, std::exception_ptr thrown, std::exception_ptr* error_out) {
  if (closed_ && state_ == frame_state::suspended && !running()) {
    // Closed once already (it failed: the body yielded). As in CPython (ag_closed): a later aclose
    // is a no-op, a later athrow raises an empty StopAsyncIteration; anext and asend resume it.
    if (kind == op_kind::aclose) return nullptr;
    if (kind == op_kind::athrow) {
      *error_out = std::make_exception_ptr(stop_async_iteration());
      return nullptr;
    }
  }
  if (delegate_ != nullptr && state_ == frame_state::suspended) {
    frame_base* leaf = leaf_;
    if (leaf->state_ == frame_state::running && on_running_path(leaf)) {
      *error_out = std::make_exception_ptr(runtime_error(running_message(kind)));
      return nullptr;
    }
    if ((kind == op_kind::anext || kind == op_kind::asend) && leaf->state_ == frame_state::suspended) {
      // What this generator's yield_from_ would do, minus the climb down and back up the chain.
      state_ = frame_state::running;
      leaf->mode_ = kind == op_kind::anext ? resume_mode::next : resume_mode::send;
      leaf->kind_ = kind;
      leaf->state_ = frame_state::running;
      leaf->error_out_ = error_out;
      leaf->entry_ = this;
      return leaf;
    }
    // Anything else (athrow, aclose, a delegate that ended or runs on its own) is this body's to handle.
  }
  switch (state_) {
    case frame_state::running:
      *error_out = std::make_exception_ptr(runtime_error(running_message(kind)));
      return nullptr;
    case frame_state::finished:
      if (kind == op_kind::anext || kind == op_kind::asend) *error_out = std::make_exception_ptr(stop_async_iteration());
      return nullptr;
    case frame_state::created:
      switch (kind) {
        case op_kind::asend:
          *error_out = std::make_exception_ptr(type_error(errors::send_to_unstarted));
          return nullptr;
        case op_kind::athrow:
          // Raised where the body would start: PEP 479 applies as if it escaped a running body.
          state_ = frame_state::finished;
          *error_out = is_stop(thrown) ? std::make_exception_ptr(runtime_error(errors::raised_stop_async_iteration, thrown))
                                       : std::move(thrown);
          return nullptr;
        case op_kind::aclose:
          state_ = frame_state::finished;
          return nullptr;
        case op_kind::anext:
          break;
      }
      try {
        self_.cont = make_fiber();
      } catch (const stack_exhausted&) {
        // The operation fails with it; the generator stays unstarted.
        *error_out = std::current_exception();
        return nullptr;
      }
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
          closed_ = true;
          break;
      }
      break;
  }
  kind_ = kind;
  state_ = frame_state::running;
  error_out_ = error_out;
  entry_ = this;
  return this;
}

void frame_base::run_chain(frame_base* f) {
  prepare_thread_for_overflow_reports();
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
  op_kind kind = op->kind;
  if (op->cancel != nullptr && state_ != frame_state::running && state_ != frame_state::finished &&
      op->cancel->cancelled_before_start(op->cancel_serial)) {
    // asyncio throws the CancelledError of an awaitable cancelled before it ran into the generator
    // at its yield (an unstarted one is finished without running): an athrow.
    op->thrown = std::make_exception_ptr(system_error(asio::error::operation_aborted));
    kind = op_kind::athrow;
  }
  frame_base* target = begin(kind, std::move(op->thrown), &op->error);
  if (target == nullptr) {
    op->complete();
    return;
  }
  target->op_ = op;
  target->consumer_ = nullptr;
  target->cancel_ = op->cancel;
  target->value_out_ = op->kind == op_kind::aclose ? nullptr : op->value;
  target->sent_in_ = op->sent;
  run_chain(target);
}

void frame_base::complete_op() {
  op_base* op = op_;
  if (op == nullptr) return;
  op_ = nullptr;
  op->complete();
}

void frame_base::refuse_context(const char* what) const {
  throw misuse_error(std::string(what) + ": the context does not belong to the async generator running on this fiber");
}

void frame_base::yield_while_closing() {
  if (mode_ == resume_mode::close_sync) {
    close_error_ = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
    unwinding_ = true;
    throw unwind_signal();
  }
  // Python leaves the generator suspended at the offending yield.
  *error_out_ = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
}

void frame_base::raise_thrown() {
  std::exception_ptr e = std::move(thrown_);
  thrown_ = nullptr;
  std::rethrow_exception(e);
}

unsigned frame_base::prepare_await() {
  if (unwinding_) throw unwind_signal();
  for (frame_base* f = this; f != nullptr; f = f->consumer_) {
    if (f->mode_ == resume_mode::close_sync) {
      // A dropped generator is closed synchronously, and so is whatever its cleanup drives (the
      // delegate of its yield_from_): there is no event loop to wait on.
      if (!f->close_error_) f->close_error_ = std::make_exception_ptr(runtime_error(errors::ignored_generator_exit));
      unwinding_ = true;
      throw unwind_signal();
    }
  }
  return ++await_seq_;
}

bool frame_base::suspend_delegating(frame_base& delegate) {
  check_yield_allowed();
  delegate_ = &delegate;
  delegate.delegator_ = this;
  leaf_ = delegate.delegate_ != nullptr ? delegate.leaf_ : &delegate;
  set_chain_leaf(leaf_);
  state_ = frame_state::suspended;
  compat::switch_to(self_, hand_back());
  delegate_->delegator_ = nullptr;
  delegate_ = nullptr;
  leaf_ = nullptr;
  set_chain_leaf(this);
  if (delegate_ended_) {
    delegate_ended_ = false;
    return true;
  }
  on_yield_resumed();
  return false;
}

// The delegate of a yield_from_ ended while running an operation forwarded to it: the operation
// goes on in the delegating body, which gets the delegate's outcome.
compat::switch_slot& frame_base::hand_to_delegator(std::exception_ptr outcome) {
  frame_base& d = *delegator_;
  d.delegate_outcome_ = std::move(outcome);
  d.delegate_ended_ = true;
  d.state_ = frame_state::running;
  d.kind_ = kind_;
  d.mode_ = resume_mode::next;
  d.consumer_ = consumer_;
  d.op_ = op_;
  d.cancel_ = cancel_;
  d.bottom_ = bottom_;
  d.entry_ = entry_;
  d.error_out_ = error_out_;
  d.value_out_ = value_out_;
  d.sent_in_ = nullptr;
  if (bottom_->holder == this) bottom_->holder = &d;
  consumer_ = nullptr;
  op_ = nullptr;
  error_out_ = nullptr;
  value_out_ = nullptr;
  sent_in_ = nullptr;
  return d.self_;
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
  body_end end = run_body();
  std::exception_ptr error = std::move(end.error);
  const bool exit_escaped = end.generator_exit_escaped;
  const bool unwound = end.unwound;
  if (end.stop_escaped) error = std::make_exception_ptr(runtime_error(errors::raised_stop_async_iteration, error));
  if (entry_ != this && delegator_ != nullptr && !unwinding_) {
    state_ = frame_state::finished;
    compat::switch_slot& next = hand_to_delegator(error ? std::move(error) : make_stop());
    compat::final_switch_to(next);
    return std::move(next.cont);
  }
  outcome(std::move(error), exit_escaped, unwinding_ && !unwound);
  compat::switch_slot& next = hand_back();
  compat::final_switch_to(next);
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
  entry_ = this;
  cancel_ = nullptr;
  if (state_ == frame_state::suspended && context_gone_) {
    // Its execution context was destroyed: unwind the stack, but run nothing that would use it.
    unwinding_ = true;
    state_ = frame_state::running;
    resume_here();
  } else if (state_ == frame_state::suspended) {
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
  if (close_error_) report_unraisable(unraisable{close_error_, description()});
  if (op_ != nullptr) {
    op_base* op = op_;
    op_ = nullptr;
    op->destroy();
  }
  delete this;
}

}  // namespace detail
}  // namespace async_generator
