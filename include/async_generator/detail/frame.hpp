// A generator's frame: its data, and what its consumers and its body may ask of it.
#ifndef ASYNC_GENERATOR_DETAIL_FRAME_HPP
#define ASYNC_GENERATOR_DETAIL_FRAME_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/fiber.hpp>
#include <async_generator/detail/cancel_state.hpp>
#include <async_generator/detail/close_record.hpp>
#include <async_generator/detail/frame_state.hpp>
#include <async_generator/detail/stack_pool.hpp>
#include <async_generator/detail/waiter.hpp>
#include <async_generator/stack.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

namespace async_generator {
class generator_ref;

namespace detail {

class awaiting_scope;
class frame_stack;
template <class Frame>
class frame_ptr;
class registry_state;
struct native_stack;

// The completion handler of an aclose started through a generator_ref, which knows no types.
struct untyped_close_handler {
  using executor_type = asio::any_io_executor;
  executor_type get_executor() const noexcept { return executor; }
  void operator()(std::exception_ptr e) { done(std::move(e)); }
  std::function<void(std::exception_ptr)> done;
  executor_type executor;
};

// What a body's context knows of its generator: enough to tell, without reading the frame (the
// context may outlive it), whether the code using it runs on that generator's stack: the stack's
// bounds, and the generator's serial, which the stack's top word holds while it owns the stack.
struct body_identity {
  frame_base* frame;
  const char* stack_lo;
  const char* stack_hi;
  unsigned long long serial;
};

class frame_base {
 public:
  frame_base(asio::any_io_executor ex, stack_options stack, compat::asio_build = {}, compat::fiber_build = {});
  frame_base(const frame_base&) = delete;
  frame_base& operator=(const frame_base&) = delete;

  // --- lifetime (lib/frame_lifetime.cpp) -----------------------------------------------------
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
  // last handle meanwhile, which only that run can make, is carried out when it unpins. A pin is
  // taken under the operation's claim, so only the claim's holder reads or writes it.
  bool pin() noexcept {
    const bool outer = pinned_;
    pinned_ = true;
    return outer;
  }
  // Unpins; true when a drop was deferred meanwhile (the caller carries it out: drop_now).
  bool unpin(bool outer) noexcept {
    pinned_ = outer;
    return !outer && drop_deferred_;
  }
  void drop_now() noexcept;
  // PEP 525: the first call of an operation captures this thread's hooks (runs firstiter).
  void first_use() {
    if (hooks_.load(std::memory_order_acquire) != hooks_captured) capture_hooks();
  }
  // "<async_generator object at 0x...>", as Python names it in unraisable reports.
  std::string description() const;
  // The same, written in `out` without allocating.
  void describe(char (&out)[64]) const noexcept;

  // --- what the operations read --------------------------------------------------------------
  const asio::any_io_executor& executor() const noexcept { return ex_; }
  // The io_context executor executor() wraps, if it wraps one: posts and "running here" checks on
  // it skip the type-erased executor.
  const asio::io_context::executor_type* io_executor() const noexcept { return io_ex_; }
  // Names the threads that run its io_context (null when its executor is not an io_context's own).
  compat::thread_key thread_key() const noexcept { return io_ex_ != nullptr ? compat::thread_key_of(*io_ex_) : nullptr; }
  // Its execution context was destroyed: nothing may run on it.
  bool context_gone() const noexcept { return context_gone_; }
  // The context's record of generators (null before it started).
  const std::shared_ptr<registry_state>& registry() const noexcept { return registry_; }
  // The cancellation state of the cancellable operations started on this generator.
  cancel_state& own_cancel_state() noexcept { return cancel_state_; }
  // Whether this frame's fiber may switch directly with `consumer`'s (same executor); cached per peer.
  bool shares_executor_with(frame_base& consumer) {
    if (consumer.serial_ != peer_serial_) {
      peer_serial_ = consumer.serial_;
      peer_shares_executor_ = ex_ == consumer.ex_;
    }
    return peer_shares_executor_;
  }
  // Python's ag_running, which holds for every generator of a delegation chain an operation runs through.
  bool running() const noexcept;
  // What yield_from_ delegates to (Python's ag_await), when it is of `type`.
  const void* delegate_object(const std::type_info& type) const noexcept {
    return delegate_type_ != nullptr && *delegate_type_ == type ? delegate_object_ : nullptr;
  }
  // aclose for a generator_ref.
  virtual void aclose_untyped(untyped_close_handler handler) = 0;

  // --- claims ----------------------------------------------------------------------------------
  // One operation at a time: whoever starts one claims the generator it is started on (its entry)
  // before reading anything of it, and the generator whose body runs it (the innermost of a
  // yield_from_ chain) is claimed too; a claim names the operation's entry. Several threads may
  // start operations at once (an io_context run by several threads): the loser of the claim
  // completes with "already running" without touching the generator. Given up by whoever the
  // operation hands back to, once the generator's fiber is suspended (release_claims).
  //
  // Claims `this` for the operation started on `entry`; false when another operation has it, whose
  // entry is then in `holder`.
  bool claim(frame_base* entry, frame_base*& holder) noexcept {
    frame_base* current = claim_.load(std::memory_order_relaxed);
    if (current == nullptr) {
      if (!claims_shared_) {
        claim_.store(entry, std::memory_order_relaxed);
        return true;
      }
      if (claim_.compare_exchange_strong(current, entry, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    holder = current;
    return false;
  }
  // Gives up the claims of the operation this generator ran and handed back: its own, and its entry's.
  void release_claims() noexcept {
    frame_base* entry = claim_.load(std::memory_order_relaxed);
    claim_.store(nullptr, std::memory_order_release);
    if (entry != nullptr && entry != this) entry->claim_.store(nullptr, std::memory_order_release);
  }

  // --- the closes the library starts itself (lib/frame_close.cpp) ----------------------------
  // Closes this generator for `listener` through its close record, with the reference the caller
  // took for that close: at once when `here` and this thread runs its executor, else posted there.
  // Allocates nothing on an io_context's executor; where that post fails (another executor, memory
  // short), it is closed synchronously on this thread, as a drop under
  // drop_policy::close_synchronously is, the failure reported to `registry`.
  void start_library_close(close_listener& listener, registry_state& registry, bool here) noexcept;
  // The generator after this one in the list of a shutdown_asyncgens (registry_state::take_all_for_shutdown).
  frame_base* take_next_to_close() noexcept {
    frame_base* next = closing_.next_to_close;
    closing_.next_to_close = nullptr;
    return next;
  }

  // --- the operation rules (lib/operation_rules.cpp) -----------------------------------------
  // Claims this generator and applies Python's rules for starting `w.kind` (athrow's exception
  // `thrown`) on it now. Returns the generator whose body must run, `w` installed on it and the
  // claims held: this one, or the innermost of the yield_from_ chain it delegates to. Returns null,
  // nothing claimed, when the outcome is already in `w.error`.
  frame_base* begin(waiter& w, std::exception_ptr thrown);
  // begin(), with its usual case inline: anext on a generator suspended at a yield of its own.
  frame_base* begin_inline(waiter& w, std::exception_ptr&& thrown);

  // --- the run protocol (frame_switch.hpp, lib/frame_run.cpp) --------------------------------
  // Runs this generator on the current stack until the chain can go no further.
  void resume_here() { run_chain(this); }
  static void run_chain(frame_base* f);
  // Begins the operation of `w`, whose consumer waits on the current stack, and runs it until it
  // yields or ends (then returns null, the operation complete), or until its chain waits in an
  // await: then returns a reference to this generator, to hold until the consumer's handler is in
  // place, and leaves the await's start in `ns` for start_pending_await.
  frame_ptr<frame_base> run_on_native_stack(waiter& w, std::exception_ptr&& thrown, native_stack& ns);
  // Starts an await left by run_until_suspended, once the consumer's handler is in place.
  static void start_pending_await(const native_stack& ns);
  // A run begun for `from` (a native stack's waiter) goes on for `to` (a handler's).
  static void hand_over(waiter& from, waiter& to) noexcept;
  // The fiber of `consumer` (a generator body) switches straight into this generator.
  void resume_from(frame_base& consumer);
  // Starts the operation of a handler on this generator (it was posted to its executor).
  void start_op(waiter* op, std::exception_ptr thrown);

  // --- the body's side -----------------------------------------------------------------------
  body_identity identity() noexcept { return body_identity{this, stack_lo_, stack_hi_, serial_}; }
  // The generator of `id`, when the caller is its running body (on its stack, not inside an await);
  // throws misuse_error naming `what` otherwise, the frame read only once it is known to be alive.
  static frame_base& running_body(const body_identity& id, const char* what);
  void check_yield_allowed();
  // Where the value of a yield goes (a value_t<Y>), or null when nobody takes it.
  void* value_slot() const noexcept;
  // The value asend brought (a value_t<S>) to a body resumed at a yield, or null (another operation).
  void* sent_slot() const noexcept;
  void suspend_yield();
  // First thing a body does when resumed at a yield: raise what it must.
  void on_yield_resumed();
  // Before an await: refuses it where the body may not wait; returns the await's number.
  unsigned prepare_await();
  // Suspends the body in an Asio operation; `start` runs on the resuming stack once suspended.
  void suspend_await(frame_base* (*start)(void*), void* arg);
  bool awaiting(unsigned seq) const noexcept { return awaiting_ && await_seq_ == seq; }
  // The cancellation state of the running operation, when its consumer can cancel it.
  cancel_state* cancel() const noexcept;
  // Claims `delegate` (whose operation just completed) for this body's delegation to it: false
  // when an operation of another thread has it already (the body then yields as yield_ does).
  bool claim_delegate(frame_base& delegate) noexcept {
    frame_base* holder;
    return delegate.claim(claim_.load(std::memory_order_relaxed), holder);
  }
  // Suspends a yield_from_ at its yield, with `delegate` (claimed by claim_delegate; yielding and
  // sent the same types, on the same executor) receiving this generator's anext and asend
  // directly. Returns true when resumed because the delegate ended (its outcome then in
  // take_delegate_outcome()), false when resumed by an operation of its own, as yield_ is.
  bool suspend_delegating(frame_base& delegate);
  std::exception_ptr take_delegate_outcome() noexcept { return std::move(delegate_outcome_); }
  // Another generator's yield_from_ delegates to this one.
  bool has_delegator() const noexcept { return delegator_.load(std::memory_order_relaxed) != nullptr; }
  // The generator whose consumer waits, through delegations and consumptions, on this one.
  frame_base* chain_root() noexcept;

 protected:
  virtual ~frame_base();
  // Runs the body, catching what ends it (body_frame::run_body).
  virtual body_end run_body() = 0;
  // The end of iteration of a body that returned: carries the return value when there is one.
  virtual std::exception_ptr make_stop() = 0;

 private:
  friend class awaiting_scope;
  friend class close_start;
  friend struct close_record;
  friend class frame_stack;
  friend class registry_state;

  // lifetime
  void destroy() noexcept;
  // Reports `error` to the unraisable hook as one in `prefix` followed by this generator's
  // description; when memory is short, with whatever of that could be written.
  void report_unraisable_error(std::exception_ptr error, const char* prefix = "") noexcept;
  // the closes the library starts
  void run_library_close() noexcept;
  void library_close_unrun() noexcept;
  // Closes a suspended generator on this stack, as a drop under drop_policy::close_synchronously
  // does; returns the close's error.
  std::exception_ptr close_here() noexcept;
  // Its execution context is gone: unwinds a started, unfinished body without running anything on
  // the context, and destroys the pending operation's handler without calling it, as Asio does.
  void tear_down() noexcept;
  void capture_hooks();
  // Calls the captured finalizer of a dropped generator that started and has not finished, which
  // then owns it; false when there is nothing to call.
  bool finalize() noexcept;
  // the operation rules, once this generator is claimed
  frame_base* begin_claimed(waiter& w, std::exception_ptr thrown);
  frame_base* apply_rules(waiter& w, std::exception_ptr thrown);
  frame_base* refuse_running(waiter& w);
  frame_base* install(waiter& w, frame_base* target) noexcept;
  // Whether the operation started on `entry` runs through this generator (entry is this one or a
  // generator delegating to it, directly or not).
  bool on_running_path(const frame_base* entry) const noexcept;
  void outcome(std::exception_ptr error, bool generator_exit_escaped, bool swallowed_unwind);
  // The cold paths of the inline ones, out of line: the body's frame stays small, which is what an
  // aclose's unwinding of it costs, and lets the compiler inline the body into run_body.
  [[noreturn]] static void refuse_context(const char* what);
  void yield_while_closing();
  [[noreturn]] void raise_thrown();
  // Unwinds the body from a suspension point: throws an unwind_signal, or abandons the body when it
  // swallowed every one thrown so far (it would suspend again and again).
  [[noreturn]] void unwind();
  [[noreturn]] void abandon() noexcept;
  // the run protocol
  compat::fiber make_fiber();  // lib/stack.cpp
  // The entry of the body's fiber, and the end of the body: returns where control goes next.
  compat::fiber run(compat::fiber&& caller);
  frame_base* waiting_consumer() const noexcept {
    return waiter_ != nullptr && waiter_->target == waiter_target::fiber ? waiter_->consumer : nullptr;
  }
  bool run_until_suspended(native_stack& ns);
  compat::switch_slot& hand_back();
  compat::switch_slot& hand_to_delegator(std::exception_ptr outcome);
  // Before the body's fiber leaves its stack (a yield, an await, a delegation, a consumption, its
  // end): a stack without a guard page has a canary at its lowest bytes, which an overflow writes
  // over on its way down. For every other stack, one branch, never taken.
  void check_stack_canary() const noexcept {
    if (stack_canary_) check_stack_canary_now();
  }
  void check_stack_canary_now() const noexcept;  // lib/stack_canary.cpp: reports and aborts if damaged
  void set_chain_leaf(frame_base* leaf) noexcept {
    for (frame_base* f = delegator_.load(std::memory_order_relaxed); f != nullptr;
         f = f->delegator_.load(std::memory_order_relaxed)) {
      f->leaf_.store(leaf, std::memory_order_release);
    }
  }

  const asio::any_io_executor ex_;
  const asio::io_context::executor_type* const io_ex_;
  compat::switch_slot self_;
  native_stack* bottom_ = nullptr;  // the native stack the chain this body runs in returns to
  waiter* waiter_ = nullptr;        // the running operation's, held by the generator whose body runs it
  frame_state state_ = frame_state::created;
  resume_mode mode_ = resume_mode::next;
  op_kind kind_ = op_kind::anext;  // the operation the body runs (an anext cancelled before it started runs as athrow)
  bool awaiting_ = false;
  bool unwinding_ = false;
  bool unwind_thrown_ = false;
  bool abandoned_ = false;          // its fiber stays suspended for good (abandon)
  bool stack_canary_ = false;       // its stack has a canary (check_stack_canary)
  unsigned live_unwind_signals_ = 0;
  frame_base* next_kept_ = nullptr;  // kept for the life of the process (destroy)
  unsigned await_seq_ = 0;
  std::exception_ptr thrown_;
  std::exception_ptr close_error_;
  const void* delegate_object_ = nullptr;  // what yield_from_ delegates to (Python's ag_await)
  const std::type_info* delegate_type_ = nullptr;
  // A yield_from_ chain of this library's generators: anext and asend on any of them go straight to
  // the innermost, whose yields go straight to the consumer; only an end climbs one level. The
  // links that operations started on other generators of the chain read are atomic.
  frame_base* delegate_ = nullptr;                // while suspended delegating: the generator delegated to
  std::atomic<frame_base*> delegator_{nullptr};  // the generator delegating to this one
  std::atomic<frame_base*> leaf_{nullptr};       // while suspended delegating: the innermost of the chain
  std::exception_ptr delegate_outcome_;
  bool delegate_ended_ = false;
  const char* stack_lo_ = nullptr;
  const char* stack_hi_ = nullptr;
  const stack_options stack_;  // policy resolved
  std::atomic<long> refs_{1};
  const unsigned long long serial_;       // unique for the life of the process
  unsigned long long peer_serial_ = 0;    // the last consumer checked by shares_executor_with
  bool peer_shares_executor_ = false;
  // The entry of the operation that has claimed this generator, or null (claim).
  std::atomic<frame_base*> claim_{nullptr};
  // Whether another thread may claim it at the same time; set before its first operation, false
  // on an io_context made for one thread (compat::made_for_one_thread), where claims are plain.
  bool claims_shared_ = true;
  enum : unsigned char { hooks_uncaptured, hooks_capturing, hooks_captured };
  std::atomic<unsigned char> hooks_{hooks_uncaptured};
  // An aclose was started on it (CPython's ag_closed): a later aclose is a no-op, and a drop neither
  // calls the finalizer nor schedules a close.
  bool closed_ = false;
  bool pinned_ = false;
  bool drop_deferred_ = false;  // the last handle was dropped while pinned
  bool context_gone_ = false;
  std::unique_ptr<std::function<void(generator_ref)>> finalizer_;  // captured, until called
  // The context's record of its started generators (asyncgen_service.hpp), which tears them down
  // when the context goes.
  std::shared_ptr<registry_state> registry_;
  frame_base* registry_prev_ = nullptr;
  frame_base* registry_next_ = nullptr;
  bool in_registry_ = false;
  bool bookkept_ = false;       // no finalizer of its own: the context closes it when dropped, and at shutdown_asyncgens
  bool shutdown_taken_ = false;  // a shutdown_asyncgens has closed it, or a drop has scheduled its close
  cancel_state cancel_state_;
  close_record closing_{*this};
};

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

// Pins a frame for the run of its body on the current stack (frame_base::pin), under the
// operation's claim.
class frame_pin {
 public:
  explicit frame_pin(frame_base& frame) noexcept : frame_(&frame), outer_(frame.pin()) {}
  frame_pin(const frame_pin&) = delete;
  frame_pin& operator=(const frame_pin&) = delete;
  ~frame_pin() {
    if (frame_ != nullptr && frame_->unpin(outer_)) frame_->drop_now();
  }
  // The operation handed back from `holder`: unpins, gives up the operation's claims, then carries
  // out a drop deferred meanwhile (the frame may be gone after). In that order: once the claims
  // are given up another thread may start an operation, and pin the frame itself.
  void finish(frame_base& holder) noexcept {
    frame_base* frame = frame_;
    frame_ = nullptr;
    const bool drop = frame->unpin(outer_);
    holder.release_claims();
    if (drop) frame->drop_now();
  }
  // From here a reference holds the frame (an operation that waits in an await holds its generator,
  // as a running Python coroutine does): a drop deferred meanwhile passes to that reference.
  frame_ptr<frame_base> hold() noexcept {
    frame_ptr<frame_base> held(frame_);
    if (frame_->unpin(outer_)) frame_->drop_now();
    frame_ = nullptr;
    return held;
  }

 private:
  frame_base* frame_;
  bool outer_;
};

}  // namespace detail
}  // namespace async_generator

#endif
