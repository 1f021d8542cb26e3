// The execution context's bookkeeping of its generators, asyncio's loop hooks in Asio's terms: a
// dropped generator's aclose() scheduled on its own executor, and shutdown_asyncgens.
#ifndef ASYNC_GENERATOR_ASYNCGEN_SERVICE_HPP
#define ASYNC_GENERATOR_ASYNCGEN_SERVICE_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/executor.hpp>
#include <async_generator/detail/registry.hpp>
#include <async_generator/detail/reserve.hpp>
#include <async_generator/hooks.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// What a shutdown_asyncgens keeps while it runs, whatever its handler: the count of what it waits
// for. Its closes and its wait on the drops' closes allocate nothing (lib/asyncgen_service.cpp).
class shutdown_base : public close_listener, public drop_close_waiter {
 public:
  void close_done(frame_ptr<frame_base> generator, std::exception_ptr error, bool ran) noexcept final;
  void drop_closes_done(bool ran) noexcept final { one_done(ran); }

 protected:
  explicit shutdown_base(std::shared_ptr<registry_state> registry) noexcept : registry_(std::move(registry)) {}
  ~shutdown_base() = default;

  // Takes the context's live generators and starts closing each (at once, for those on the
  // executor this thread runs); finish() comes once they, and the closes drops have scheduled,
  // are done, and never inside this call.
  void start() noexcept;
  // Everything is done: submits the completion, or, when a close found the context gone
  // (`abandoned`), destroys the handler without calling it, as Asio does with its own operations.
  virtual void finish(bool abandoned) noexcept = 0;
  const std::shared_ptr<registry_state>& registry() const noexcept { return registry_; }

 private:
  void one_done(bool ran) noexcept;

  std::shared_ptr<registry_state> registry_;
  std::atomic<std::size_t> remaining_{1};  // the closes, the wait on the drops' closes, and start() itself
  std::atomic<bool> abandoned_{false};
};

// shutdown_asyncgens' one allocation, made through its handler's associated allocator: the handler,
// its executor with work counted on it, and the storage its completion is posted in.
template <class Handler>
class shutdown_state final : public shutdown_base {
 public:
  using executor_type = asio::associated_executor_t<Handler, asio::any_io_executor>;

  // Throws (std::bad_alloc) only before anything was done.
  template <class H>
  static void initiate(H&& handler, const asio::any_io_executor& fallback, std::shared_ptr<registry_state> registry) {
    allocator_type alloc(asio::get_associated_allocator(handler));
    shutdown_state* state = std::allocator_traits<allocator_type>::allocate(alloc, 1);
    try {
      new (state) shutdown_state(std::forward<H>(handler), fallback, std::move(registry));
    } catch (...) {
      std::allocator_traits<allocator_type>::deallocate(alloc, state, 1);
      throw;
    }
    state->start();
  }

 private:
  using allocator_type =
      typename std::allocator_traits<asio::associated_allocator_t<Handler>>::template rebind_alloc<shutdown_state>;

  // Runs the handler; destroyed without running (its executor's context went first, or the post
  // that carried it failed), destroys it uncalled. Its operation is allocated in the state.
  class completion {
   public:
    explicit completion(shutdown_state* state) noexcept : state_(state) {}
    completion(completion&& other) noexcept : state_(other.state_) { other.state_ = nullptr; }
    completion& operator=(completion&&) = delete;
    ~completion() {
      if (state_ != nullptr) destroy(state_);
    }
    using allocator_type = reserve_allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(state_->reserve_); }
    void operator()() {
      shutdown_state* state = state_;
      state_ = nullptr;
      state->complete();
    }

   private:
    shutdown_state* state_;
  };

  // Posted to the context's executor, from which the completion is dispatched to the handler's:
  // run at once when that is the running one, posted there otherwise. The post, which may
  // complete the last close anywhere, allocates nothing on an io_context; the dispatch runs where
  // an exception may leave (Asio's own handler invocation), as a handler's own may.
  class completion_hop {
   public:
    explicit completion_hop(shutdown_state* state) noexcept : state_(state) {}
    completion_hop(completion_hop&& other) noexcept : state_(other.state_) { other.state_ = nullptr; }
    completion_hop& operator=(completion_hop&&) = delete;
    ~completion_hop() {
      if (state_ != nullptr) destroy(state_);
    }
    using allocator_type = reserve_allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(state_->reserve_); }
    void operator()() {
      shutdown_state* state = state_;
      state_ = nullptr;
      with_executor(state->executor_, [state](const auto& e) { asio::dispatch(e, completion(state)); });
    }

   private:
    shutdown_state* state_;
  };

  template <class H>
  shutdown_state(H&& handler, const asio::any_io_executor& fallback, std::shared_ptr<registry_state> registry)
      : shutdown_base(std::move(registry)),
        handler_(std::forward<H>(handler)),
        executor_(asio::get_associated_executor(handler_, fallback)),
        work_(compat::track_work(executor_)),
        fallback_(fallback) {}

  static void destroy(shutdown_state* state) noexcept {
    allocator_type alloc(asio::get_associated_allocator(state->handler_));
    state->~shutdown_state();
    std::allocator_traits<allocator_type>::deallocate(alloc, state, 1);
  }

  void finish(bool abandoned) noexcept override {
    if (abandoned) {
      destroy(this);
      return;
    }
    // Kept here: a hop that could not be posted has destroyed the state.
    const std::shared_ptr<registry_state> registry = this->registry();
    try {
      with_executor(fallback_, [this](const auto& e) { asio::post(e, completion_hop(this)); });
    } catch (...) {
      // A context whose executor is not an io_context's: its post allocates, and memory is short.
      registry->report_about("shutdown_asyncgens() could not complete: posting its completion failed, and its handler "
                             "was destroyed without being called",
                             nullptr, "", std::current_exception());
    }
  }

  // Asio's order: the state's memory is given back before the handler runs; the work it counted,
  // after.
  void complete() {
    allocator_type alloc(asio::get_associated_allocator(handler_));
    Handler handler(std::move(handler_));
    compat::tracked_executor_t<executor_type> work(std::move(work_));
    this->~shutdown_state();
    std::allocator_traits<allocator_type>::deallocate(alloc, this, 1);
    std::move(handler)(std::exception_ptr());
  }

  Handler handler_;
  executor_type executor_;
  compat::tracked_executor_t<executor_type> work_;
  asio::any_io_executor fallback_;  // the context's
  // One block: Asio gives the hop's operation back before running it, which takes one for the completion.
  reserve_of<sizeof(compat::io_post_operation<completion, reserve_allocator<void>>), 1> reserve_;
};

struct shutdown_initiation {
  asio::execution_context* context;
  asio::any_io_executor fallback;
  using executor_type = asio::any_io_executor;
  const executor_type& get_executor() const noexcept { return fallback; }
  template <class Handler>
  void operator()(Handler&& handler) const {
    std::shared_ptr<registry_state> registry = registry_of(*context);
    shutdown_state<typename std::decay<Handler>::type>::initiate(std::forward<Handler>(handler), fallback, std::move(registry));
  }
};

}  // namespace detail

/// What happens to a generator dropped while suspended (started and not finished) that has no
/// finalizer hook of its own.
enum class drop_policy {
  /// The default: its `aclose()` is scheduled on its own executor, which keeps it alive until the
  /// close completes; the close may await. An error of that close goes to the context's
  /// asyncgen exception handler. (asyncio's loop hooks.) Scheduling it needs no memory on an
  /// `io_context`; where it fails all the same, the generator is closed as by `close_synchronously`,
  /// and that reported as by `shutdown_asyncgens`.
  schedule_aclose,
  /// PEP 525 without hooks: closed at once, on the dropping thread; an await or a yield in its
  /// cleanup is refused and reported as "async generator ignored GeneratorExit".
  close_synchronously,
};

/// Sets what happens to generators of `context` dropped while suspended; returns the previous policy.
drop_policy set_drop_policy(asio::execution_context& context, drop_policy policy);

/// Sets the handler of `context`'s asyncgen errors (asyncio's `loop.set_exception_handler`); an
/// empty one restores the default, which prints the message and the exception on stderr. Returns
/// the previous handler. When memory is short, a report still reaches it: its message is written
/// in storage the context keeps for one report at a time, and is empty for a report made while
/// that one is in use (in another thread, or from the handler).
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
/// context's, `context.get_executor()`), which counts as outstanding work until then.
///
/// Errors: allocating the operation's state (its one allocation, through the handler's associated
/// allocator) may throw `std::bad_alloc` from this function, as Asio's own initiating functions
/// report that failure: then nothing was done, and no generator is closed. Past that, nothing it
/// does needs memory on an `io_context`: each close is run at once when this thread runs the
/// generator's `io_context`, else posted there in storage its generator keeps, and the completion
/// is posted in the state. A close whose post fails all the same (an executor that allocates, such
/// as a strand, when memory is short) is run synchronously on this thread, as a drop under
/// `drop_policy::close_synchronously` is (an await or a yield in its cleanup is refused: "async
/// generator ignored GeneratorExit"), and reported to the exception handler as "asynchronous
/// generator <...> was closed synchronously: its aclose() could not be scheduled", with the
/// `std::bad_alloc`. Either way every generator is closed.
template <class ExecutionContext, class CompletionToken = asio::default_completion_token_t<typename ExecutionContext::executor_type>>
auto shutdown_asyncgens(ExecutionContext& context, CompletionToken&& token = asio::default_completion_token_t<typename ExecutionContext::executor_type>()) {
  return asio::async_initiate<CompletionToken, void(std::exception_ptr)>(
      detail::shutdown_initiation{&context, asio::any_io_executor(context.get_executor())}, token);
}

}  // namespace async_generator

#endif
