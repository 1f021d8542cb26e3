// The asynchronous operations of a generator: one for callback consumers (posted to the
// generator's executor, completed on the handler's), one direct fiber-to-fiber path.
#ifndef ASYNC_GENERATOR_DETAIL_OPS_HPP
#define ASYNC_GENERATOR_DETAIL_OPS_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/yield_context.hpp>
#include <async_generator/context.hpp>
#include <async_generator/detail/frame.hpp>

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

template <class Y, bool WithValue>
struct op_signature {
  using type = void(std::exception_ptr, Y);
};
template <>
struct op_signature<void, true> {
  using type = void(std::exception_ptr);
};
template <class Y>
struct op_signature<Y, false> {
  using type = void(std::exception_ptr);
};

// Asio's type-erased executor costs an allocation and an indirect call per post or dispatch; when
// it wraps an io_context's executor, as it almost always does, `use` gets that one directly.
template <class Executor, class Use>
void with_executor(const Executor& ex, Use&& use) {
  use(ex);
}
template <class Use>
void with_executor(const asio::any_io_executor& ex, Use&& use) {
  using io_executor = asio::io_context::executor_type;
  if (const io_executor* io = compat::io_executor_of(ex)) {
    use(*io);
  } else {
    use(ex);
  }
}
// The same for a generator's executor, whose io_context executor the frame found once.
template <class Use>
void with_executor(const frame_base& frame, Use&& use) {
  if (frame.io_ex_ != nullptr) {
    use(*frame.io_ex_);
  } else {
    use(frame.ex_);
  }
}

// Whether a handler names an executor of its own; one that does not runs on the generator's.
struct no_executor_of_its_own {};
template <class Handler>
using has_own_executor = std::integral_constant<
    bool, !std::is_same<asio::associated_executor_t<Handler, no_executor_of_its_own>, no_executor_of_its_own>::value>;

#if ASYNC_GENERATOR_HAS_CANCELLATION
// The handler's cancellation slot (Boost 1.81's one-argument form is ambiguous for a reference_wrapper).
template <class Handler>
asio::associated_cancellation_slot_t<Handler> cancellation_slot_of(const Handler& handler) noexcept {
  return asio::get_associated_cancellation_slot(handler, asio::cancellation_slot());
}

// Installed in the consumer's cancellation slot. A request, emitted on the consumer's side, is kept
// at once when no await is in flight; otherwise it goes to the generator's executor, where the
// awaited operation is cancelled.
class cancel_forwarder {
 public:
  cancel_forwarder(frame_ptr<frame_base> entry, cancel_state* state, unsigned serial) noexcept
      : entry_(std::move(entry)), state_(state), serial_(serial) {}
  void operator()(asio::cancellation_type_t type) {
    if (state_->request_here(serial_, type)) return;
    frame_ptr<frame_base> entry = entry_;
    cancel_state* state = state_;
    unsigned serial = serial_;
    with_executor(*entry, [&](const auto& e) {
      asio::dispatch(e, [entry, state, serial, type] { state->request(serial, type); });
    });
  }

 private:
  frame_ptr<frame_base> entry_;
  cancel_state* state_;
  unsigned serial_;
};
#endif

// An operation on a generator whose execution context was destroyed (it had started, so the
// context's service knows it) cannot run, nor complete on that context: refused at once.
inline void check_context_alive(const frame_base& frame, op_kind kind) {
  if (!frame.context_gone_) return;
  static const char* const names[] = {"anext", "asend", "athrow", "aclose"};
  throw misuse_error(std::string(names[static_cast<int>(kind)]) + ": the generator's execution context was destroyed");
}

template <class Y, class S>
struct value_op : op_base {
  value_op(complete_fn fn, op_kind k) noexcept : op_base(fn, k, &yielded, &sent) {}
  value_t<Y> yielded{};
  value_t<S> sent{};
};

// The operation whose initiating function runs on this thread. Read and written only on the native
// stack of that function, around a run that returns to it on the same thread: never across a fiber
// switch that could resume elsewhere.
inline op_base*& initiating_op() noexcept {
  static thread_local op_base* op = nullptr;
  return op;
}

// Whether code running now runs on `ex` (in one of the threads of its io_context); false when that
// cannot be known cheaply.
template <class Executor>
bool running_on(const Executor&) noexcept {
  return false;
}
inline bool running_on(const asio::io_context::executor_type& ex) noexcept { return ex.running_in_this_thread(); }

// The handler with what it is called with, bound for dispatch to its executor.
template <class Handler, class Y, bool WithValue>
struct op_completion {
  using allocator_type = asio::associated_allocator_t<Handler>;
  allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler); }

  void operator()() { invoke(std::integral_constant<bool, WithValue && !std::is_void<Y>::value>()); }
  void invoke(std::true_type) { std::move(handler)(std::move(error), std::move(value)); }
  void invoke(std::false_type) { std::move(handler)(std::move(error)); }

  Handler handler;
  std::exception_ptr error;
  value_t<Y> value;
};

// Submits a completion that must not run inside the initiating function. A handler that says it
// continues the current one (asio_handler_is_continuation, as Asio's composed operations say of
// their intermediate handlers) is deferred, as Asio's own operations do: on an io_context, to the
// running thread's private queue, without the lock and the work count of a post.
template <class Executor, class Handler, class Y, bool WithValue>
ASYNC_GENERATOR_ALWAYS_INLINE void post_completion(const Executor& e, op_completion<Handler, Y, WithValue>&& completion) {
  post_completion(e, std::move(completion), compat::can_post<Executor>());
}
template <class Executor, class Completion>
ASYNC_GENERATOR_ALWAYS_INLINE void post_completion(const Executor& e, Completion&& completion, std::true_type) {
  if (compat::is_continuation(completion.handler)) {
    asio::defer(e, std::move(completion));
  } else {
    asio::post(e, std::move(completion));
  }
}
// An executor that can only be dispatched to (an any_completion_handler's): the completion leaves
// the initiating function through the system executor, from whose thread it is dispatched there,
// with work counted on it meanwhile.
template <class Executor, class Completion>
void post_completion(const Executor& e, Completion&& completion, std::false_type) {
  asio::post(asio::system_executor(),
             [work = compat::track_work(e), completion = std::move(completion)]() mutable {
               asio::dispatch(work, std::move(completion));
             });
}

// A generator's executor, kept by value until a completion is submitted: its frame may be gone by
// then (an operation moves along a yield_from_ chain whose delegates end). The io_context executor
// when it wraps one (a copy costs nothing: no work is counted), else the type-erased one (made,
// and destroyed, only then: that costs indirect calls).
class generator_executor {
 public:
  explicit generator_executor(const frame_base& frame) {
    if (frame.io_ex_ != nullptr) {
      io_.emplace(*frame.io_ex_);
    } else {
      any_.emplace(frame.ex_);
    }
  }
  template <class Use>
  void use(Use&& use) const {
    if (io_) {
      use(*io_);
    } else {
      use(*any_);
    }
  }

 private:
  compat::optional<asio::io_context::executor_type> io_;
  compat::optional<asio::any_io_executor> any_;
};

// Whether `ex` is the generator's executor. A type-erased one (a coroutine's, as use_awaitable's
// handler has) is compared by the io_context executor it wraps, without a type-erased equality.
template <class Executor>
bool same_executor(const Executor&, const frame_base&) {
  return false;  // another kind of executor (a strand, a type-erased handler's)
}
inline bool same_executor(const asio::io_context::executor_type& ex, const frame_base& frame) {
  return frame.io_ex_ != nullptr && ex == *frame.io_ex_;
}
inline bool same_executor(const asio::any_io_executor& ex, const frame_base& frame) {
  if (frame.io_ex_ != nullptr) {
    if (const asio::io_context::executor_type* io = compat::io_executor_of(ex)) return *io == *frame.io_ex_;
  }
  return ex == frame.ex_;
}

// Where a handler_op completes: the generator's executor when the handler has none of its own, or
// one equal to it (which has work while the operation is pending: the posted start, or the Asio
// operation its body awaits); otherwise the handler's, kept with work on it.
template <class Handler, bool OwnExecutor = has_own_executor<Handler>::value>
class completion_executor {
 public:
  completion_executor(const Handler& handler, const frame_base& frame) : generator_(frame) {
    executor_type ex = asio::get_associated_executor(handler, frame.ex_);
    if (!same_executor(ex, frame)) {
      other_.emplace(std::move(ex));
      work_.emplace(compat::track_work(*other_));
    }
  }
  template <class Use>
  void use(Use&& use) const {
    if (other_) {
      with_executor(*other_, use);
    } else {
      generator_.use(use);
    }
  }

 private:
  using executor_type = asio::associated_executor_t<Handler, asio::any_io_executor>;
  generator_executor generator_;
  compat::optional<executor_type> other_;
  compat::optional<compat::tracked_executor_t<executor_type>> work_;
};
template <class Handler>
class completion_executor<Handler, false> {
 public:
  completion_executor(const Handler&, const frame_base& frame) : generator_(frame) {}
  template <class Use>
  void use(Use&& use) const {
    generator_.use(use);
  }

 private:
  generator_executor generator_;
};

ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_BEGIN
template <class Handler, class Y, class S, bool WithValue>
class handler_op final : public value_op<Y, S> {
 public:
  template <class H>
  handler_op(H&& h, op_kind kind, const frame_base& generator)
      : value_op<Y, S>(&handler_op::do_complete, kind), handler_(std::forward<H>(h)), executor_(handler_, generator) {}

  // Makes the operation cancellable through the handler's cancellation slot, if it has one.
  // `entry`, the generator the operation is started on, owns `state`.
  void enable_cancellation(frame_base& entry, cancel_state* state) {
#if ASYNC_GENERATOR_HAS_CANCELLATION
    auto slot = cancellation_slot_of(handler_);
    if (!slot.is_connected() || state == nullptr) return;
    this->cancel = state;
    this->cancel_serial = state->next_serial();
    state->attach(this->cancel_serial);
    slot.template emplace<cancel_forwarder>(frame_ptr<frame_base>(&entry), state, this->cancel_serial);
#else
    (void)entry;
    (void)state;
#endif
  }

  static void do_complete(op_base* base, bool invoke) {
    handler_op* self = static_cast<handler_op*>(base);
#if ASYNC_GENERATOR_HAS_CANCELLATION
    if (self->cancel != nullptr) {
      self->cancel->detach(self->cancel_serial);
      cancellation_slot_of(self->handler_).clear();
    }
#endif
    auto alloc = compat::get_handler_allocator<Handler, handler_op>(self->handler_);
    op_completion<Handler, Y, WithValue> completion{std::move(self->handler_), std::move(self->error),
                                                    std::move(self->yielded)};
    completion_executor<Handler> executor(std::move(self->executor_));
    const bool initiating = self == initiating_op();
    self->~handler_op();
    std::allocator_traits<decltype(alloc)>::deallocate(alloc, self, 1);
    if (!invoke) return;
    executor.use([&](const auto& e) {
      if (initiating) {
        post_completion(e, std::move(completion));
      } else {
        asio::dispatch(e, std::move(completion));
      }
    });
  }

 private:
  Handler handler_;
  completion_executor<Handler> executor_;
};
ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_END

// Posted to the generator's executor: starts the operation there. Destroyed unrun (its execution
// context went away), it destroys the operation without calling its handler, as Asio does.
class start_job {
 public:
  start_job(frame_ptr<frame_base> frame, op_base* op) noexcept : frame_(std::move(frame)), op_(op) {}
  start_job(start_job&& other) noexcept : frame_(std::move(other.frame_)), op_(other.op_) { other.op_ = nullptr; }
  start_job& operator=(start_job&&) = delete;
  ~start_job() {
    if (op_ != nullptr) op_->destroy();
  }
  void operator()() {
    op_base* op = op_;
    op_ = nullptr;
    frame_->start_op(op);
  }

 private:
  frame_ptr<frame_base> frame_;
  op_base* op_;
};

// Whether code running now runs on the generator's executor `ex`.
inline bool running_on_executor(const frame_base& frame) noexcept {
  bool here = false;
  with_executor(frame, [&](const auto& e) { here = running_on(e); });
  return here;
}

template <class Handler, class Y, class S, bool WithValue>
handler_op<typename std::decay<Handler>::type, Y, S, WithValue>* make_handler_op(Handler&& handler, op_kind kind,
                                                                                 const frame_base& frame) {
  using op_type = handler_op<typename std::decay<Handler>::type, Y, S, WithValue>;
  auto alloc = compat::get_handler_allocator<typename std::decay<Handler>::type, op_type>(handler);
  op_type* op = std::allocator_traits<decltype(alloc)>::allocate(alloc, 1);
  try {
    return new (op) op_type(std::forward<Handler>(handler), kind, frame);
  } catch (...) {
    std::allocator_traits<decltype(alloc)>::deallocate(alloc, op, 1);
    throw;
  }
}

// Pins a frame for the run of its body on the current stack (frame_base::pin).
class frame_pin {
 public:
  explicit frame_pin(frame_base& frame) noexcept : frame_(&frame), outer_(frame.pin()) {}
  frame_pin(const frame_pin&) = delete;
  frame_pin& operator=(const frame_pin&) = delete;
  ~frame_pin() {
    if (frame_ != nullptr) frame_->unpin(outer_);
  }
  // Unpins now (which may carry out a deferred drop: the frame may be gone).
  void release() noexcept {
    frame_base* frame = frame_;
    frame_ = nullptr;
    frame->unpin(outer_);
  }
  // From here a reference holds the frame (an operation that waits in an await holds its generator,
  // as a running Python coroutine does): a drop deferred meanwhile passes to that reference.
  frame_ptr<frame_base> hold() noexcept {
    frame_ptr<frame_base> held(frame_);
    frame_->unpin(outer_);
    frame_ = nullptr;
    return held;
  }

 private:
  frame_base* frame_;
  bool outer_;
};

// Runs `start` (which runs the body) inside the initiating function of `op`: a completion of `op`
// meanwhile is posted, never dispatched.
template <class Start>
void start_initiating(frame_base& frame, op_base* op, Start&& start) {
  frame_ptr<frame_base> keep(&frame);  // the body might drop the last handle
  op_base* const outer = initiating_op();
  initiating_op() = op;
  start();
  initiating_op() = outer;
}

// The rest of an operation begun on an asio::spawn coroutine's stack whose generator waits in an
// await: the coroutine waits for it through a handler, installed before the await starts.
template <class Y, class S, bool WithValue>
struct pending_await_initiation {
  template <class Handler>
  void operator()(Handler&& handler) const {
    frame_base* holder = pending->holder;
    auto* op = make_handler_op<Handler, Y, S, WithValue>(std::forward<Handler>(handler), holder->kind_, *holder);
    op->enable_cancellation(*entry, holder->cancel_);
    holder->op_ = op;
    holder->error_out_ = &op->error;
    if (holder->value_out_ != nullptr) holder->value_out_ = op->value;
    start_initiating(*holder, op, [this] { frame_base::start_pending_await(*pending); });
  }
  const native_stack* pending;
  frame_base* entry;  // the generator the operation was started on
};

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
// Initiates an operation of signature `Signature` on a yield_context.
template <class Signature>
struct yield_initiator;
template <class... Ts>
struct yield_initiator<void(std::exception_ptr, Ts...)> {
  template <class Yield, class Initiation, class... Args>
  static typename compat::yield_outcome<Ts...>::type initiate(const Yield& yield, Initiation&& init, Args&&... args) {
    return compat::initiate_on_yield<Ts...>(std::forward<Initiation>(init), yield, std::forward<Args>(args)...);
  }
};
#endif

// anext/asend/athrow (WithValue) and aclose.
template <class Y, class S, bool WithValue>
class op_initiation {
 public:
  using direct_initiation = void;
  using from_yield_initiation = void;
  using signature = typename op_signature<Y, WithValue>::type;
  using direct_result = typename std::conditional<WithValue, Y, void>::type;

  explicit op_initiation(frame_base* frame) noexcept : frame_(frame) {}

  // The generator's executor, for the adapters that run something beside the operation (Asio's
  // cancel_after makes its timer on it). An empty generator has none: the system executor.
  using executor_type = asio::any_io_executor;
  executor_type get_executor() const noexcept {
    return frame_ != nullptr ? frame_->ex_ : executor_type(asio::system_executor());
  }

  template <class Handler>
  void operator()(Handler&& handler, op_kind kind, value_t<S> sent, std::exception_ptr thrown) const {
    using handler_type = typename std::decay<Handler>::type;
    if (frame_ == nullptr) {
      auto ex = compat::executor_of_handler(handler);
      post_completion(ex, op_completion<handler_type, Y, WithValue>{std::forward<Handler>(handler),
                                                                    std::make_exception_ptr(empty_generator_error()),
                                                                    value_t<Y>()});
      return;
    }
    check_context_alive(*frame_, kind);
    if (running_on_executor(*frame_)) {
      run_here(std::forward<Handler>(handler), kind, std::move(sent), std::move(thrown));
      return;
    }
    auto* op = make_handler_op<Handler, Y, S, WithValue>(std::forward<Handler>(handler), kind, *frame_);
    op->enable_cancellation(*frame_, &frame_->cancel_state_);
    op->sent = std::move(sent);
    op->thrown = std::move(thrown);
    with_executor(*frame_, [&](const auto& e) { asio::post(e, start_job(frame_ptr<frame_base>(frame_), op)); });
  }

  // A generator body consuming this generator: when both run on the same executor, the consumer's
  // fiber switches straight into this one and back, with no handler and no executor hop.
  template <class Token>
  ASYNC_GENERATOR_ALWAYS_INLINE direct_result direct(const Token& co, op_kind kind, value_t<S> sent, std::exception_ptr thrown) const {
    if (frame_ == nullptr) throw empty_generator_error();
    check_context_alive(*frame_, kind);
    frame_base& consumer = co.frame();
    if (!frame_->shares_executor_with(consumer)) return await_via_handler(co, kind, std::move(sent), std::move(thrown), signature_tag());
    consumer.check_running_here("await");
    std::exception_ptr error;
    value_t<Y> value{};
    if (frame_base* target = frame_->begin_inline(kind, std::move(thrown), &error)) {
      target->value_out_ = WithValue ? &value : nullptr;
      target->sent_in_ = &sent;
      frame_pin pin(*frame_);
      target->resume_from(consumer);
    }
    if (error) std::rethrow_exception(error);
    return static_cast<direct_result>(std::move(value));
  }

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  // An asio::spawn coroutine consuming this generator: on the generator's executor, the body runs
  // on the coroutine's stack, as a generator consuming another does; the coroutine suspends only if
  // the body waits in an await.
  template <class Executor>
  ASYNC_GENERATOR_ALWAYS_INLINE direct_result from_yield(const asio::basic_yield_context<Executor>& yield, op_kind kind,
                                                         value_t<S> sent, std::exception_ptr thrown) const {
    if (frame_ != nullptr) check_context_alive(*frame_, kind);
    if (frame_ == nullptr || !running_on_executor(*frame_)) {
      return on_yield::initiate(yield, *this, kind, std::move(sent), std::move(thrown));
    }
    std::exception_ptr error;
    value_t<Y> value{};
    if (frame_base* target = frame_->begin_inline(kind, std::move(thrown), &error)) {
      target->op_ = nullptr;
      target->consumer_ = nullptr;
      // The coroutine's cancellation slot is only known if the body awaits: until then, its awaits
      // are ready to be cancelled.
      target->cancel_ = &frame_->cancel_state_;
      target->value_out_ = WithValue ? &value : nullptr;
      target->sent_in_ = &sent;
      native_stack ns;
      ns.holder = target;
      frame_pin pin(*frame_);
      if (!target->run_until_suspended(ns)) {
        frame_ptr<frame_base> held = pin.hold();
        return on_yield::initiate(yield, pending_await_initiation<Y, S, WithValue>{&ns, frame_});
      }
    }
    if (error) std::rethrow_exception(error);
    return static_cast<direct_result>(std::move(value));
  }
#endif

 private:
  // Already on the generator's executor: the body runs now, switched to from this stack as from an
  // asio::spawn coroutine's. The handler waits in an operation only if the body awaits; a yield or
  // an end completes it by the one post Asio requires.
  template <class Handler>
  void run_here(Handler&& handler, op_kind kind, value_t<S> sent, std::exception_ptr thrown) const {
    std::exception_ptr error;
    value_t<Y> value{};
    frame_pin pin(*frame_);
    if (frame_base* target = frame_->begin_inline(kind, std::move(thrown), &error)) {
      target->op_ = nullptr;
      target->consumer_ = nullptr;
      target->cancel_ = &frame_->cancel_state_;  // as from asio::spawn
      target->value_out_ = WithValue ? &value : nullptr;
      target->sent_in_ = &sent;
      native_stack ns;
      ns.holder = target;
      if (!target->run_until_suspended(ns)) {
        frame_ptr<frame_base> held = pin.hold();
        pending_await_initiation<Y, S, WithValue>{&ns, frame_}(std::forward<Handler>(handler));
        return;
      }
    }
    // Unpinned before the completion is posted: another thread of the io_context may run the
    // handler at once, and the handler start the next operation.
    using handler_type = typename std::decay<Handler>::type;
    completion_executor<handler_type> executor(handler, *frame_);
    pin.release();
    executor.use([&](const auto& e) {
      post_completion(e, op_completion<handler_type, Y, WithValue>{std::forward<Handler>(handler), std::move(error),
                                                                   std::move(value)});
    });
  }

  struct signature_tag {};
  template <class Token>
  direct_result await_via_handler(const Token& co, op_kind kind, value_t<S> sent, std::exception_ptr thrown,
                                  signature_tag) const {
    return await_via(co, kind, std::move(sent), std::move(thrown), static_cast<signature*>(nullptr));
  }
  template <class Token, class... Args>
  direct_result await_via(const Token& co, op_kind kind, value_t<S> sent, std::exception_ptr thrown,
                          void (*)(Args...)) const {
    return await_any<Args...>(*this, co, kind, std::move(sent), std::move(thrown));
  }
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  using on_yield = yield_initiator<signature>;
#endif

  frame_base* frame_;
};

template <class T>
struct is_context : std::false_type {};
template <class Y, class S>
struct is_context<context<Y, S>> : std::true_type {};

// Starts a generator operation. A generator body's context takes the direct path without going
// through async_initiate, whose inlining the compiler may refuse: the fiber switch must happen at
// the consumer's own call depth (see ASYNC_GENERATOR_ALWAYS_INLINE).
template <class Signature, class Initiation, class Token, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE decltype(auto) initiate_on(std::true_type, const Initiation& init, const Token& co,
                                                         Args&&... args) {
  return init.direct(co, std::forward<Args>(args)...);
}
template <class Signature, class Initiation, class Token, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE decltype(auto) initiate_on(std::false_type, const Initiation& init, Token&& token,
                                                         Args&&... args) {
  return asio::async_initiate<Token, Signature>(init, token, std::forward<Args>(args)...);
}
template <class Signature, class Initiation, class Token, class... Args>
ASYNC_GENERATOR_ALWAYS_INLINE decltype(auto) initiate_op(const Initiation& init, Token&& token, Args&&... args) {
  return initiate_on<Signature>(is_context<typename std::decay<Token>::type>(), init, std::forward<Token>(token),
                                std::forward<Args>(args)...);
}

}  // namespace detail
}  // namespace async_generator

#endif
