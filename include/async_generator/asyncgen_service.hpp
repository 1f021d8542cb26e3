// The execution context's bookkeeping of its generators, asyncio's loop hooks in Asio's terms: a
// dropped generator's aclose() scheduled on its own executor, and shutdown_asyncgens.
#ifndef ASYNC_GENERATOR_ASYNCGEN_SERVICE_HPP
#define ASYNC_GENERATOR_ASYNCGEN_SERVICE_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/registry.hpp>
#include <async_generator/hooks.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace async_generator {
namespace detail {

template <class Handler>
struct shutdown_state {
  using executor_type = asio::associated_executor_t<Handler, asio::any_io_executor>;
  shutdown_state(Handler h, const asio::any_io_executor& fallback, std::size_t n)
      : handler(std::move(h)),
        work(compat::track_work(asio::get_associated_executor(handler, fallback))),
        remaining(n) {}
  Handler handler;
  compat::tracked_executor_t<executor_type> work;
  std::atomic<std::size_t> remaining;

  void one_done() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    auto w = std::move(work);
    asio::dispatch(w, [h = std::move(handler)]() mutable { std::move(h)(std::exception_ptr()); });
  }
};

struct shutdown_initiation {
  asio::execution_context* context;
  asio::any_io_executor fallback;
  using executor_type = asio::any_io_executor;
  const executor_type& get_executor() const noexcept { return fallback; }
  template <class Handler>
  void operator()(Handler&& handler) const {
    std::shared_ptr<registry_state> registry = registry_of(*context);
    std::vector<generator_ref> live = registry->take_all_for_shutdown();
    using state_type = shutdown_state<typename std::decay<Handler>::type>;
    // Counted besides the live ones: the closes that drops have scheduled, and the post below.
    auto state = std::make_shared<state_type>(std::forward<Handler>(handler), fallback, live.size() + 2);
    if (!registry->wait_for_drop_closes([state] { state->one_done(); })) state->one_done();
    for (generator_ref& g : live) {
      generator_ref closing = g;
      g.aclose([registry, state, closing](std::exception_ptr e) {
        if (e) registry->report_close_error(closing, e);
        state->one_done();
      });
    }
    // The count's extra one: the handler must not run inside this initiating function.
    asio::post(fallback, [state] { state->one_done(); });
  }
};

}  // namespace detail

/// What happens to a generator dropped while suspended (started and not finished) that has no
/// finalizer hook of its own.
enum class drop_policy {
  /// The default: its `aclose()` is scheduled on its own executor, which keeps it alive until the
  /// close completes; the close may await. An error of that close goes to the context's
  /// asyncgen exception handler. (asyncio's loop hooks.)
  schedule_aclose,
  /// PEP 525 without hooks: closed at once, on the dropping thread; an await or a yield in its
  /// cleanup is refused and reported as "async generator ignored GeneratorExit".
  close_synchronously,
};

/// Sets what happens to generators of `context` dropped while suspended; returns the previous policy.
drop_policy set_drop_policy(asio::execution_context& context, drop_policy policy);

/// Sets the handler of `context`'s asyncgen errors (asyncio's `loop.set_exception_handler`); an
/// empty one restores the default, which prints the message and the exception on stderr. Returns
/// the previous handler.
asyncgen_exception_handler set_asyncgen_exception_handler(asio::execution_context& context,
                                                          asyncgen_exception_handler handler);

/// asyncio's `loop.shutdown_asyncgens()`: closes every live, started generator of `context`
/// concurrently (each with its `aclose()`), and completes when all are closed, and so are the
/// generators whose drop scheduled a close. A close that fails
/// goes to the context's exception handler as "an error occurred during closing of asynchronous
/// generator <async_generator object at 0x...>". A generator first iterated afterwards is reported
/// there as "asynchronous generator <...> was scheduled after shutdown_asyncgens() call".
///
/// Completion signature: `void(std::exception_ptr)`, always null: failures go to the handler.
/// The handler never runs inside this function; it runs on its associated executor (default: the
/// context's, `context.get_executor()`).
template <class ExecutionContext, class CompletionToken = asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto shutdown_asyncgens(ExecutionContext& context, CompletionToken&& token = asio::default_completion_token_t<typename ExecutionContext::executor_type>()) {
  return asio::async_initiate<CompletionToken, void(std::exception_ptr)>(
      detail::shutdown_initiation{&context, asio::any_io_executor(context.get_executor())}, token);
}

}  // namespace async_generator

#endif
