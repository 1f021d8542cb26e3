// A consumer that waits through a completion handler: its operation, posted to the generator's
// executor or run at once from a handler already there, and completed on the handler's executor.
#ifndef ASYNC_GENERATOR_DETAIL_HANDLER_OP_HPP
#define ASYNC_GENERATOR_DETAIL_HANDLER_OP_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>
#include <async_generator/detail/cancellation.hpp>
#include <async_generator/detail/executor.hpp>
#include <async_generator/detail/frame_switch.hpp>

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

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

// The operation whose initiating function runs on this thread. Read and written only on the native
// stack of that function, around a run that returns to it on the same thread: never across a fiber
// switch that could resume elsewhere.
inline waiter*& initiating_op() noexcept {
  static thread_local waiter* op = nullptr;
  return op;
}

// Runs `start` (which runs the body) inside the initiating function of `op`: a completion of `op`
// meanwhile is posted, never dispatched.
template <class Start>
void start_initiating(frame_base& frame, waiter* op, Start&& start) {
  frame_ptr<frame_base> keep(&frame);  // the body might drop the last handle
  waiter* const outer = initiating_op();
  initiating_op() = op;
  start();
  initiating_op() = outer;
}

ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_BEGIN
template <class Handler, class Y, class S, bool WithValue>
class handler_op final : public waiter {
 public:
  template <class H>
  handler_op(H&& h, op_kind kind, const frame_base& generator)
      : waiter(kind, waiter_target::handler, WithValue ? &yielded_ : nullptr, &sent_, nullptr),
        handler_(std::forward<H>(h)),
        executor_(handler_, generator) {
    complete_handler = &handler_op::do_complete;
  }

  const Handler& handler() const noexcept { return handler_; }
  value_t<S>& sent_value() noexcept { return sent_; }

 private:
  static void do_complete(waiter* base, bool invoke) {
    handler_op* self = static_cast<handler_op*>(base);
    disconnect_cancellation(*self, self->handler_);
    auto alloc = compat::get_handler_allocator<Handler, handler_op>(self->handler_);
    op_completion<Handler, Y, WithValue> completion{std::move(self->handler_), std::move(self->error),
                                                    std::move(self->yielded_)};
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

  value_t<Y> yielded_{};
  value_t<S> sent_{};
  Handler handler_;
  completion_executor<Handler> executor_;
};
ASYNC_GENERATOR_NO_MAYBE_UNINITIALIZED_END

template <class Y, class S, bool WithValue, class Handler>
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

// Posted to the generator's executor: starts the operation there. Destroyed unrun (its execution
// context went away), it destroys the operation without calling its handler, as Asio does.
class start_job {
 public:
  start_job(frame_ptr<frame_base> frame, waiter* op, std::exception_ptr thrown) noexcept
      : frame_(std::move(frame)), op_(op), thrown_(std::move(thrown)) {}
  start_job(start_job&& other) noexcept
      : frame_(std::move(other.frame_)), op_(other.op_), thrown_(std::move(other.thrown_)) {
    other.op_ = nullptr;
  }
  start_job& operator=(start_job&&) = delete;
  ~start_job() {
    if (op_ != nullptr) op_->destroy();
  }
  void operator()() {
    waiter* op = op_;
    op_ = nullptr;
    frame_->start_op(op, std::move(thrown_));
  }

 private:
  frame_ptr<frame_base> frame_;
  waiter* op_;
  std::exception_ptr thrown_;  // athrow's argument
};

// From another executor: the operation waits for its start on the generator's.
template <class Y, class S, bool WithValue, class Handler>
void post_handler_op(frame_base& gen, Handler&& handler, op_kind kind, value_t<S> sent, std::exception_ptr thrown) {
  auto* op = make_handler_op<Y, S, WithValue>(std::forward<Handler>(handler), kind, gen);
  connect_cancellation(*op, op->handler(), gen, &gen.own_cancel_state());
  op->sent_value() = std::move(sent);
  with_executor(gen, [&](const auto& e) {
    asio::post(e, start_job(frame_ptr<frame_base>(&gen), op, std::move(thrown)));
  });
}

// The rest of an operation begun on a native stack (its waiter `pending`) whose generator waits in
// an await: the consumer waits for it through a handler, installed before the await starts.
template <class Y, class S, bool WithValue>
struct pending_await_initiation {
  template <class Handler>
  void operator()(Handler&& handler) const {
    frame_base& holder = *pending->holder;
    auto* op = make_handler_op<Y, S, WithValue>(std::forward<Handler>(handler), pending->kind, holder);
    connect_cancellation(*op, op->handler(), *pending->entry, pending->cancel);
    frame_base::hand_over(*pending, *op);
    const native_stack* stack = ns;
    start_initiating(holder, op, [stack] { frame_base::start_pending_await(*stack); });
  }
  const native_stack* ns;
  waiter* pending;
};

// Already on the generator's executor: the body runs now, switched to from this stack as from an
// asio::spawn coroutine's. The handler waits in an operation only if the body awaits; a yield or
// an end completes it by the one post Asio requires.
template <class Y, class S, bool WithValue, class Handler>
void run_handler_here(frame_base& gen, Handler&& handler, op_kind kind, value_t<S> sent, std::exception_ptr&& thrown) {
  value_t<Y> value{};
  waiter w(kind, waiter_target::native, WithValue ? &value : nullptr, &sent, &gen.own_cancel_state());  // as from asio::spawn
  // What the completion needs of the generator is taken first: the body may drop its last handle.
  using handler_type = typename std::decay<Handler>::type;
  completion_executor<handler_type> executor(handler, gen);
  native_stack ns;
  if (frame_ptr<frame_base> held = gen.run_on_native_stack(w, std::move(thrown), ns)) {
    pending_await_initiation<Y, S, WithValue>{&ns, &w}(std::forward<Handler>(handler));
    return;
  }
  // The generator is unpinned and unclaimed before the completion is posted: another thread of the
  // io_context may run the handler at once, and the handler start the next operation.
  executor.use([&](const auto& e) {
    post_completion(e, op_completion<handler_type, Y, WithValue>{std::forward<Handler>(handler), std::move(w.error),
                                                                 std::move(value)});
  });
}

}  // namespace detail
}  // namespace async_generator

#endif
