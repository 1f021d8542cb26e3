// PEP 525's per-thread hooks: set_asyncgen_hooks / get_asyncgen_hooks, and the handle on a generator
// of any type that the hooks receive.
#ifndef ASYNC_GENERATOR_HOOKS_HPP
#define ASYNC_GENERATOR_HOOKS_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/errors.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace async_generator {

/// A generator of any type, as the hooks receive it (Python passes the generator object). It keeps
/// the generator alive; copies refer to the same generator.
class generator_ref {
 public:
  generator_ref() noexcept = default;
  /// Internal: refers to `frame`.
  explicit generator_ref(detail::frame_ptr<detail::frame_base> frame) noexcept : frame_(std::move(frame)) {}

  explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

  /// The generator's identity: the same for every handle on one generator (`async_generator::frame()`).
  const void* id() const noexcept { return frame_.get(); }

  /// "<async_generator object at 0x...>", as Python names the generator in its reports.
  std::string description() const { return frame_ ? frame_->description() : "None"; }

  /// The executor the generator's body runs on.
  asio::any_io_executor get_executor() const {
    if (!frame_) throw empty_generator_error();
    return frame_->executor();
  }

  /// Python's `ag_running`.
  bool ag_running() const noexcept { return frame_ && frame_->running(); }

  /// The generator's `aclose()`: completion signature `void(std::exception_ptr)`, with the errors of
  /// `async_generator::aclose`. The handler runs on its associated executor (default: the
  /// generator's).
  template <class CompletionToken = asio::default_completion_token_t<asio::any_io_executor>>
  auto aclose(CompletionToken&& token = asio::default_completion_token_t<asio::any_io_executor>()) {
    return asio::async_initiate<CompletionToken, void(std::exception_ptr)>(close_initiation{frame_}, token);
  }

  friend bool operator==(const generator_ref& a, const generator_ref& b) noexcept { return a.id() == b.id(); }
  friend bool operator!=(const generator_ref& a, const generator_ref& b) noexcept { return a.id() != b.id(); }

 private:
  struct close_initiation {
    detail::frame_ptr<detail::frame_base> frame;
    using executor_type = asio::any_io_executor;
    executor_type get_executor() const noexcept {
      return frame ? frame->executor() : executor_type(asio::system_executor());
    }
    template <class Handler>
    void operator()(Handler&& handler) const {
      if (!frame) throw empty_generator_error();
      auto ex = asio::get_associated_executor(handler, frame->executor());
      auto shared = std::make_shared<typename std::decay<Handler>::type>(std::forward<Handler>(handler));
      frame->aclose_untyped(detail::untyped_close_handler{[shared](std::exception_ptr e) { std::move(*shared)(e); }, ex});
    }
  };

  detail::frame_ptr<detail::frame_base> frame_;
};

/// What an execution context's asyncgen exception handler receives (asyncio's exception handler
/// context): the message, the exception (null for a warning), and the generator.
struct asyncgen_error {
  std::string message;
  std::exception_ptr exception;
  generator_ref asyncgen;
};
using asyncgen_exception_handler = std::function<void(const asyncgen_error&)>;

/// A hook: called with the generator.
using asyncgen_hook = std::function<void(generator_ref)>;

/// What `get_asyncgen_hooks` returns (Python's `asyncgen_hooks` named tuple).
struct asyncgen_hooks {
  asyncgen_hook firstiter;
  asyncgen_hook finalizer;
};

/// Leaves a hook as it is: `set_asyncgen_hooks(ag::keep, finalizer)`.
struct keep_t {
  explicit constexpr keep_t(int) noexcept {}
};
constexpr keep_t keep{0};

/// Python's `sys.get_asyncgen_hooks()`: this thread's hooks (a new thread has none).
asyncgen_hooks get_asyncgen_hooks();

/// Python's `sys.set_asyncgen_hooks(firstiter, finalizer)`, for this thread. An empty function
/// clears a hook; `keep` leaves it as it is.
///
/// A generator captures the hooks when one of its operations (`anext`, `asend`, `athrow`, `aclose`)
/// is first called: `firstiter(generator)` runs then, on the calling thread, and the finalizer is
/// stored in the generator. When the last handle on a generator that started and has not finished
/// is dropped, its finalizer, if it captured one, is called instead of closing it, with a
/// `generator_ref` that keeps it alive (so the finalizer may `aclose()` it later); a finalizer is
/// called at most once. An exception a hook throws goes to the unraisable hook.
void set_asyncgen_hooks(asyncgen_hook firstiter, asyncgen_hook finalizer);
void set_asyncgen_hooks(asyncgen_hook firstiter);
void set_asyncgen_hooks(keep_t, asyncgen_hook finalizer);

}  // namespace async_generator

#endif
