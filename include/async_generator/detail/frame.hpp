// A generator's state and the protocol by which fibers hand control to each other.
#ifndef ASYNC_GENERATOR_DETAIL_FRAME_HPP
#define ASYNC_GENERATOR_DETAIL_FRAME_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/fiber.hpp>
#include <async_generator/detail/cancellation.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/stack.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace async_generator {
class generator_ref;

namespace detail {

class registry_state;
enum class frame_state : unsigned char { created, suspended, running, finished };
enum class op_kind : unsigned char { anext, asend, athrow, aclose };
// How a body resumed at a yield point goes on: yield_ returns (nothing or the sent value), raises
// the thrown exception, or raises generator_exit (an aclose, or the synchronous close of a drop).
enum class resume_mode : unsigned char { next, send, throw_in, close, close_sync };

// The stack (native, or a fiber that is not a generator) that resumed a chain of generator fibers.
// When the chain can go no further (a yield to a callback consumer, an end, an await), control
// comes back here, and `after` runs on this stack.
class frame_base;
struct native_stack : compat::switch_slot {
  // Returns the frame to resume next on this stack (an await that completed at once), or null.
  frame_base* (*after)(void*) = nullptr;
  void* after_arg = nullptr;
  // The generator holding the operation begun on this stack (it moves along a delegation chain).
  frame_base* holder = nullptr;
};

// A consumer waiting through a completion handler.
class op_base {
 public:
  using complete_fn = void (*)(op_base*, bool invoke);
  op_base(complete_fn fn, op_kind k, void* value, void* sent) noexcept
      : value(value), sent(sent), kind(k), fn_(fn) {}
  void complete() { fn_(this, true); }  // deallocates the operation, then runs its handler
  void destroy() noexcept { fn_(this, false); }

  std::exception_ptr error;
  std::exception_ptr thrown;  // athrow's argument
  void* value;                // where the yielded value goes
  void* sent;                 // where asend's value waits
  cancel_state* cancel = nullptr;  // when the consumer can cancel the operation
  unsigned cancel_serial = 0;
  op_kind kind;

 private:
  complete_fn fn_;
};

// Thrown at a body's suspension point to unwind its stack without running any await.
struct unwind_signal {};

// How a body ended: it returned (nothing set), or raised `error`.
struct body_end {
  std::exception_ptr error;
  bool generator_exit_escaped = false;  // error is a generator_exit
  bool stop_escaped = false;            // error is a stop_async_iteration (PEP 479 applies)
  bool unwound = false;                 // the library's unwind_signal ended it
};

// The completion handler of an aclose started through a generator_ref, which knows no types.
struct untyped_close_handler {
  using executor_type = asio::any_io_executor;
  executor_type get_executor() const noexcept { return executor; }
  void operator()(std::exception_ptr e) { done(std::move(e)); }
  std::function<void(std::exception_ptr)> done;
  executor_type executor;
};

class frame_base {
 public:
  frame_base(asio::any_io_executor ex, stack_options stack, compat::asio_build = {});
  frame_base(const frame_base&) = delete;
  frame_base& operator=(const frame_base&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // add_ref unless the count already reached zero (the frame is being destroyed).
  bool try_add_ref() noexcept {
    long n = refs_.load(std::memory_order_relaxed);
    while (n > 0) {
      if (refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  // An initiating function that runs the body on its own stack (a callback's, asio::spawn's) pins
  // the frame for that run instead of counting a reference, an atomic pair per item: a drop of the
  // last handle meanwhile, which only that run can make, is carried out when it unpins.
  bool pin() noexcept {
    const bool outer = pinned_;
    pinned_ = true;
    return outer;
  }
  void unpin(bool outer) noexcept {
    pinned_ = outer;
    if (!outer && drop_deferred_) drop_now();
  }

  // --- consumer side -------------------------------------------------------------------------
  // Applies Python's rules for starting `kind` on this generator now. Returns the generator whose
  // body must run: this one, or the innermost of the yield_from_ chain it delegates to (the
  // operation's error now goes to *error_out). Returns null when the outcome is already in *error_out.
  frame_base* begin(op_kind kind, std::exception_ptr thrown, std::exception_ptr* error_out);
  // begin(), with its usual case inline: anext on a generator suspended at a yield of its own.
  ASYNC_GENERATOR_ALWAYS_INLINE frame_base* begin_inline(op_kind kind, std::exception_ptr thrown,
                                                         std::exception_ptr* error_out) {
    if (kind != op_kind::anext || state_ != frame_state::suspended || delegate_ != nullptr) {
      return begin(kind, std::move(thrown), error_out);
    }
    mode_ = resume_mode::next;
    kind_ = kind;
    state_ = frame_state::running;
    error_out_ = error_out;
    entry_ = this;
    return this;
  }
  // PEP 525: the first call of an operation captures this thread's hooks (runs firstiter).
  void first_use() {
    if (!hooks_captured_) capture_hooks();
  }
  // aclose for a generator_ref.
  virtual void aclose_untyped(untyped_close_handler handler) = 0;
  // "<async_generator object at 0x...>", as Python names it in unraisable reports.
  std::string description() const;
  // Python's ag_running, which holds for every generator of a delegation chain an operation runs through.
  bool running() const noexcept;
  // Whether this frame's fiber may switch directly with `consumer`'s (same executor); cached per peer.
  bool shares_executor_with(frame_base& consumer) {
    if (consumer.serial_ != peer_serial_) {
      peer_serial_ = consumer.serial_;
      peer_shares_executor_ = ex_ == consumer.ex_;
    }
    return peer_shares_executor_;
  }
  // Runs this generator on the current stack until the chain can go no further.
  void resume_here() { run_chain(this); }
  static void run_chain(frame_base* f);
  // Runs this generator, whose consumer waits on the current stack, until it yields or ends (true),
  // or until its chain waits in an await (false), whose start is then left in `ns` for
  // start_pending_await.
  bool run_until_suspended(native_stack& ns);
  // Starts an await left by run_until_suspended, once the consumer's handler is in place.
  static void start_pending_await(const native_stack& ns);
  // The fiber of `consumer` (a generator body) switches straight into this generator.
  void resume_from(frame_base& consumer);
  // Completes the callback consumer's operation, if there is one.
  void complete_op();
  // The callback operation a handler-based consumer started.
  void start_op(op_base* op);

  // --- body side -----------------------------------------------------------------------------
  void check_running_here(const char* what) const;
  void suspend_yield();
  void check_yield_allowed();
  // Before an await: refuses it where the body may not wait; returns the await's number.
  unsigned prepare_await();
  // Suspends the body in an Asio operation; `start` runs on the resuming stack once suspended.
  void suspend_await(frame_base* (*start)(void*), void* arg);
  // Suspends a yield_from_ at its yield, with `delegate` (yielding and sent the same types, on the
  // same executor) receiving this generator's anext and asend directly. Returns true when resumed
  // because the delegate ended (its outcome in delegate_outcome_), false when resumed by an operation
  // of its own, as yield_ is.
  bool suspend_delegating(frame_base& delegate);
  // First thing a body does when resumed at a yield: raise what it must.
  void on_yield_resumed();

  bool awaiting(unsigned seq) const noexcept { return awaiting_ && await_seq_ == seq; }
  // The generator whose consumer waits, through delegations and consumptions, on this one.
  frame_base* chain_root() noexcept {
    frame_base* f = this;
    for (;;) {
      frame_base* top = f;
      while (top->delegator_ != nullptr) top = top->delegator_;
      if (f->consumer_ == nullptr) return top;
      f = f->consumer_;
    }
  }

  // The entry of the body's fiber, and the end of the body: returns where control goes next.
  compat::fiber run(compat::fiber&& caller);

  const asio::any_io_executor ex_;
  // The io_context executor ex_ wraps, if it wraps one: posts and "running here" checks on it skip
  // the type-erased executor.
  const asio::io_context::executor_type* const io_ex_;
  compat::switch_slot self_;
  native_stack* bottom_ = nullptr;
  // The running operation, held by the generator whose body runs it (it moves along a delegation chain).
  frame_base* consumer_ = nullptr;  // a consuming generator fiber waiting for this one
  op_base* op_ = nullptr;           // a callback consumer waiting for this one
  frame_base* entry_ = nullptr;     // the generator the operation was started on
  std::exception_ptr* error_out_ = nullptr;
  void* value_out_ = nullptr;       // the consumer's slot for a yielded value (a value_t<Y>)
  void* sent_in_ = nullptr;         // the value asend brought (a value_t<S>)
  std::exception_ptr thrown_;
  std::exception_ptr close_error_;
  // The cancellation state of the running operation, when its consumer can cancel it.
  cancel_state* cancel_ = nullptr;
  const void* delegate_object_ = nullptr;  // what yield_from_ delegates to (Python's ag_await)
  const std::type_info* delegate_type_ = nullptr;
  // A yield_from_ chain of this library's generators: anext and asend on any of them go straight to
  // the innermost, whose yields go straight to the consumer; only an end climbs one level.
  frame_base* delegate_ = nullptr;   // while suspended delegating: the generator delegated to
  frame_base* delegator_ = nullptr;  // the generator delegating to this one
  frame_base* leaf_ = nullptr;       // while suspended delegating: the innermost of the chain
  std::exception_ptr delegate_outcome_;
  bool delegate_ended_ = false;  // what a synchronous close could not raise
  const char* stack_lo_ = nullptr;
  const char* stack_hi_ = nullptr;
  const stack_options stack_;  // policy resolved
  std::atomic<long> refs_{1};
  const unsigned long long serial_;       // unique for the life of the process
  unsigned long long peer_serial_ = 0;    // the last consumer checked by shares_executor_with
  bool peer_shares_executor_ = false;
  unsigned await_seq_ = 0;
  frame_state state_ = frame_state::created;
  resume_mode mode_ = resume_mode::next;
  op_kind kind_ = op_kind::anext;
  bool awaiting_ = false;
  bool unwinding_ = false;
  bool hooks_captured_ = false;
  // An aclose was started on it (CPython's ag_closed): a later aclose is a no-op, and a drop neither
  // calls the finalizer nor schedules a close.
  bool closed_ = false;
  bool pinned_ = false;
  bool drop_deferred_ = false;  // the last handle was dropped while pinned
  std::unique_ptr<std::function<void(generator_ref)>> finalizer_;  // captured, until called
  // The context's record of its live generators (asyncgen_service.hpp), when this one is in it.
  std::shared_ptr<registry_state> registry_;
  frame_base* registry_prev_ = nullptr;
  frame_base* registry_next_ = nullptr;
  bool in_registry_ = false;
  bool context_gone_ = false;  // the execution context was destroyed: nothing may run on it
  cancel_state cancel_state_;  // used by the cancellable operations started on this generator

 protected:
  virtual ~frame_base();
  // Runs the body, catching what ends it (body_frame::run_body).
  virtual body_end run_body() = 0;
  // The end of iteration of a body that returned: carries the return value when there is one.
  virtual std::exception_ptr make_stop() = 0;

 private:
  void destroy() noexcept;
  void drop_now() noexcept;
  void capture_hooks();
  friend class registry_state;
  // Calls the captured finalizer of a dropped generator that started and has not finished, which
  // then owns it; false when there is nothing to call.
  bool finalize() noexcept;
  compat::switch_slot& hand_back();
  // The cold paths of the inline ones, out of line: the body's frame stays small, which is what an
  // aclose's unwinding of it costs, and lets the compiler inline the body into run_body.
  [[noreturn]] void refuse_context(const char* what) const;
  void yield_while_closing();
  [[noreturn]] void raise_thrown();
  compat::switch_slot& hand_to_delegator(std::exception_ptr outcome);
  void set_chain_leaf(frame_base* leaf) noexcept {
    for (frame_base* f = delegator_; f != nullptr; f = f->delegator_) f->leaf_ = leaf;
  }
  bool on_running_path(const frame_base* leaf) const noexcept;
  void outcome(std::exception_ptr error, bool generator_exit_escaped, bool swallowed_unwind);
  compat::fiber make_fiber();
};

inline frame_base* complete_op_after(void* frame) {
  static_cast<frame_base*>(frame)->complete_op();
  return nullptr;
}

ASYNC_GENERATOR_ALWAYS_INLINE bool frame_base::run_until_suspended(native_stack& ns) {
  prepare_thread_for_overflow_reports();
  bottom_ = &ns;
  ns.after = nullptr;
  compat::switch_to(ns, self_);
  return ns.after == &complete_op_after;
}

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::resume_from(frame_base& consumer) {
  consumer_ = &consumer;
  bottom_ = consumer.bottom_;
  cancel_ = consumer.cancel_;
  compat::switch_to(consumer.self_, self_);
  if (consumer.unwinding_) {
    // The consumer is being destroyed while this generator still works for it: it must not come
    // back to a stack that is gone.
    if (consumer_ == &consumer) consumer_ = nullptr;
    throw unwind_signal();
  }
}

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::check_running_here(const char* what) const {
  char probe = 0;
  const char* here = &probe;
  if (state_ != frame_state::running || awaiting_ || here < stack_lo_ || here >= stack_hi_) refuse_context(what);
}

ASYNC_GENERATOR_ALWAYS_INLINE compat::switch_slot& frame_base::hand_back() {
  if (entry_ != this) entry_->state_ = frame_state::suspended;  // it delegated the operation here
  error_out_ = nullptr;
  value_out_ = nullptr;
  sent_in_ = nullptr;
  if (consumer_ != nullptr) {
    frame_base* consumer = consumer_;
    consumer_ = nullptr;
    consumer->bottom_ = bottom_;
    return consumer->self_;
  }
  bottom_->after = &complete_op_after;
  bottom_->after_arg = this;
  return *bottom_;
}

// A body yielding (by yield_, or by yield_from_ passing on its delegate's first value) while it is
// being closed: the close fails with "ignored GeneratorExit".
ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::check_yield_allowed() {
  if (mode_ == resume_mode::close_sync || kind_ == op_kind::aclose) yield_while_closing();
}

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::suspend_yield() {
  check_yield_allowed();
  state_ = frame_state::suspended;
  compat::switch_to(self_, hand_back());
  on_yield_resumed();
}

ASYNC_GENERATOR_ALWAYS_INLINE void frame_base::on_yield_resumed() {
  if (unwinding_) throw unwind_signal();
  switch (mode_) {
    case resume_mode::throw_in:
      raise_thrown();
    case resume_mode::close:
    case resume_mode::close_sync:
      throw generator_exit();
    default:
      return;
  }
}

// The stand-in for `void` in storage: yielded, sent and returned values always have a type.
struct unit {};
template <class T>
using value_t = typename std::conditional<std::is_void<T>::value, unit, T>::type;

// An owning pointer to a frame (frames count their own references).
template <class Frame>
class frame_ptr {
 public:
  frame_ptr() noexcept = default;
  explicit frame_ptr(Frame* f, bool add = true) noexcept : f_(f) {
    if (f_ && add) f_->add_ref();
  }
  frame_ptr(const frame_ptr& o) noexcept : frame_ptr(o.f_) {}
  frame_ptr(frame_ptr&& o) noexcept : f_(o.f_) { o.f_ = nullptr; }
  frame_ptr& operator=(frame_ptr o) noexcept {
    std::swap(f_, o.f_);
    return *this;
  }
  ~frame_ptr() {
    if (f_) f_->release();
  }
  Frame* get() const noexcept { return f_; }
  Frame* operator->() const noexcept { return f_; }
  Frame& operator*() const noexcept { return *f_; }
  explicit operator bool() const noexcept { return f_ != nullptr; }

 private:
  Frame* f_ = nullptr;
};

}  // namespace detail
}  // namespace async_generator

#endif
