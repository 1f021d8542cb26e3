// async_generator<Y, S, R>: Python's async generator object (PEP 525) on a Boost.Context fiber,
// driven by Boost.Asio asynchronous operations.
#ifndef ASYNC_GENERATOR_ASYNC_GENERATOR_HPP
#define ASYNC_GENERATOR_ASYNC_GENERATOR_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/context.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/generator_frame.hpp>
#include <async_generator/detail/initiate.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/stack.hpp>
#include <async_generator/yield.hpp>

#include <exception>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace async_generator {

/// An asynchronous generator: yields `Y`s, is sent `S`s (`void`: nothing), returns an `R`.
///
/// A handle that owns its generator (move-only). Operations run one at a time, serialized on the
/// generator's executor; the body runs on its own fiber and awaits Asio operations through its
/// context. Dropping the last handle of a generator suspended at a yield finalizes it the PEP 525
/// way: its captured finalizer hook is called, or else its `aclose()` is scheduled on its executor
/// (or, under `drop_policy::close_synchronously`, it is closed at once); see hooks.hpp and
/// asyncgen_service.hpp.
///
/// Each operation is an Asio asynchronous operation: `token` may be a callback, `asio::use_future`,
/// `asio::yield_context`, `asio::use_awaitable`, `asio::deferred`, an `asio::any_completion_handler`,
/// `asio::cancel_after(timeout, token)`, or a generator body's `context` (then the two fibers switch
/// directly when they share the executor). Without a token, Asio's default completion token of the
/// executor: `asio::deferred` from Asio 1.31 (`co_await gen.anext()` in an awaitable), none before. The handler never runs
/// inside the initiating function; it runs on its associated executor (default: the generator's),
/// which counts as outstanding work until then.
///
/// Per-operation cancellation (Boost 1.77 and later): a cancellation slot associated with an
/// operation's handler (`asio::bind_cancellation_slot`, a parallel group, the awaitable operators,
/// a cancellable `asio::spawn` or a generator body's own cancellable operation) is forwarded to the
/// Asio operation the body awaits at that moment, on the generator's executor; that operation then
/// completes with `operation_aborted`, which the body sees at its await as asyncio's CancelledError
/// (`system_error`, or in `ec` with `co[ec]`). A body that lets it out finishes and
/// the operation completes with it; a body that handles it and yields completes the operation with
/// that value. A request made before the operation started raises `operation_aborted` at the
/// body's yield instead (asyncio throws CancelledError into an awaitable that has not run); one
/// made while the body runs waits for the body's next await in the same operation; one made after
/// the operation completed, or while the generator is suspended at a yield (no operation in
/// flight), has no effect: to stop a suspended generator, `aclose()` it.
/// Supported types: `terminal` and `partial` (the generator is left suspended or finished, both
/// well-defined); not `total`, since the body has run. With Boost 1.74 to 1.76 there is no
/// per-operation cancellation.
///
/// Thread safety: distinct generators, safe; one generator, as an Asio I/O object: start its
/// operations one after another (each after the previous completed), from any thread. Operations
/// that overlap from several threads are refused as on one: the first claims the generator, the
/// others complete with "...already running" (on an io_context made with concurrency hint 1, which
/// promises one thread, the claim is not atomic and such overlaps are undefined). The body
/// runs on the generator's executor, on whichever of its threads resumes it; emit a cancellation on
/// the consumer's executor, as Asio requires.
template <class Y, class S = void, class R = void>
class async_generator {
 public:
  using executor_type = asio::any_io_executor;
  using yield_type = Y;
  using send_type = S;
  using return_type = R;

  /// Completion signature of anext, asend and athrow.
  using next_signature = typename detail::op_signature<Y, true>::type;
  /// Completion signature of aclose.
  using close_signature = void(std::exception_ptr);

  /// An empty handle: every operation fails with `empty_generator_error`.
  async_generator() noexcept = default;
  async_generator(async_generator&&) noexcept = default;
  async_generator& operator=(async_generator&&) noexcept = default;

  /// Internal: adopts a frame.
  explicit async_generator(detail::frame_ptr<detail::frame_base> frame) noexcept : frame_(std::move(frame)) {}
  /// Internal: the frame, or null.
  detail::frame_base* frame() const noexcept { return frame_.get(); }

  /// True when this handle holds a generator.
  explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

  /// The executor the body runs on.
  executor_type get_executor() const {
    if (!frame_) throw empty_generator_error();
    return frame_->executor();
  }

  /// Python's `ag_running`: true from the start of an operation until it completes, including while
  /// the body waits in an await, and for every generator of a `yield_from_` chain it runs through.
  bool ag_running() const noexcept { return frame_ && frame_->running(); }

  /// Python's `ag_await`: the delegate of the `yield_from_` the body is in, when it is a `D`; null
  /// when the body is not delegating or its delegate is of another type. A chain of delegating
  /// generators can be walked with it.
  template <class D>
  const D* ag_await() const noexcept {
    return frame_ ? static_cast<const D*>(frame_->delegate_object(typeid(D))) : nullptr;
  }

  /// Python's `__anext__()`: runs the body to its next yield.
  ///
  /// Completion signature: `void(std::exception_ptr, Y)` (`void(std::exception_ptr)` when `Y` is void).
  ///
  /// Errors: `stop_async_iteration` when the body returns (carrying its return value the first time)
  /// and on every later call; `runtime_error` "anext(): asynchronous generator is already running"
  /// while another operation is in flight (the generator is unaffected); "async generator raised
  /// StopAsyncIteration" when that escapes the body; any exception the body raises (the generator is
  /// then finished).
  ///
  /// Per-operation cancellation: `terminal` and `partial`, reaching the body's current await (see
  /// the class notes).
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  ASYNC_GENERATOR_ALWAYS_INLINE auto anext(CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    if (frame_) frame_->first_use();
    return detail::initiate_op<next_signature>(
        next_initiation(frame_.get()), std::forward<CompletionToken>(token), detail::op_kind::anext, detail::value_t<S>(), std::exception_ptr());
  }

  /// Python's `asend(value)`: resumes the body with `value` as the result of its `yield_`.
  ///
  /// Completion signature: as `anext`. Errors: as `anext`; on a generator that has not started,
  /// `type_error` "can't send non-None value to a just-started async generator", and the generator
  /// stays unstarted and usable.
  ///
  /// Per-operation cancellation: `terminal` and `partial`, reaching the body's current await (see
  /// the class notes).
  template <class CompletionToken = asio::default_completion_token_t<executor_type>, class T = S>
  auto asend(detail::value_t<T> value, CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(!std::is_void<S>::value, "asend on a generator that is sent nothing (S is void): use anext");
    if (frame_) frame_->first_use();
    return detail::initiate_op<next_signature>(
        next_initiation(frame_.get()), std::forward<CompletionToken>(token), detail::op_kind::asend, std::move(value), std::exception_ptr());
  }

  /// Python's `athrow(exc)`: raises `exception` in the body at its yield.
  ///
  /// Completion signature: as `anext`: the value the body yields in answer, or the error. On an
  /// unstarted generator the exception completes the operation and the generator is finished
  /// without running; on a finished one the operation completes with no error and a
  /// value-initialised `Y`. "athrow(): asynchronous generator is already running" while another
  /// operation is in flight.
  ///
  /// Per-operation cancellation: `terminal` and `partial`, reaching the body's current await (see
  /// the class notes).
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto athrow(std::exception_ptr exception, CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    if (frame_) frame_->first_use();
    return detail::initiate_op<next_signature>(
        next_initiation(frame_.get()), std::forward<CompletionToken>(token), detail::op_kind::athrow, detail::value_t<S>(), std::move(exception));
  }

  /// Python's `aclose()`: raises `generator_exit` in the body at its yield and waits for it to end;
  /// the body may await during its cleanup.
  ///
  /// Completion signature: `void(std::exception_ptr)`. Completes without error when the body ends
  /// (returning, or letting `generator_exit` out), and at once on an unstarted (which is then closed
  /// without running) or finished generator. Errors: `runtime_error` "async generator ignored
  /// GeneratorExit" when the body yields instead (it stays suspended there); "aclose(): asynchronous
  /// generator is already running"; any other exception the cleanup raises.
  ///
  /// Per-operation cancellation: `terminal` and `partial`, reaching the body's current await (see
  /// the class notes).
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto aclose(CompletionToken&& token = asio::default_completion_token_t<executor_type>()) {
    if (frame_) frame_->first_use();
    return detail::initiate_op<close_signature>(
        close_initiation(frame_.get()), std::forward<CompletionToken>(token), detail::op_kind::aclose, detail::value_t<S>(), std::exception_ptr());
  }

 private:
  using next_initiation = detail::op_initiation<Y, S, true>;
  using close_initiation = detail::op_initiation<Y, S, false>;

  detail::frame_ptr<detail::frame_base> frame_;
};

namespace detail {

template <class T, class = void>
struct is_execution_context : std::false_type {};
template <class T>
struct is_execution_context<T, typename std::enable_if<std::is_convertible<T&, asio::execution_context&>::value>::type>
    : std::true_type {};

template <class Executor>
asio::any_io_executor executor_of(const Executor& ex, std::false_type) {
  return asio::any_io_executor(ex);
}
template <class ExecutionContext>
asio::any_io_executor executor_of(ExecutionContext& ctx, std::true_type) {
  return asio::any_io_executor(ctx.get_executor());
}

}  // namespace detail

/// Makes a generator whose body is `body(context<Y, S>) -> R`, run on `ex` (an executor, or an
/// execution context such as an `io_context`). Nothing runs until the first operation.
template <class Y, class S = void, class R = void, class ExecutorOrContext, class Body>
async_generator<Y, S, R> make_async_generator(ExecutorOrContext&& ex, Body&& body, stack_options stack = {}) {
  using frame_type = detail::body_frame<Y, S, R, typename std::decay<Body>::type>;
  using given = typename std::decay<ExecutorOrContext>::type;
  auto* frame = new frame_type(detail::executor_of(ex, detail::is_execution_context<given>()), stack,
                               std::forward<Body>(body));
  return async_generator<Y, S, R>(detail::frame_ptr<detail::frame_base>(frame, false));
}

}  // namespace async_generator

#endif
