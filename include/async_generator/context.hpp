// The context a generator body receives: its handle on its own generator, and a completion token
// that suspends the body until an Asio operation completes (like asio::yield_context).
#ifndef ASYNC_GENERATOR_CONTEXT_HPP
#define ASYNC_GENERATOR_CONTEXT_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/await.hpp>
#include <async_generator/detail/frame_switch.hpp>

#include <type_traits>
#include <utility>

namespace async_generator {

/// The body's context. `Y` is what the generator yields, `S` what it is sent (`void`: nothing).
///
/// Used as a completion token, `co` suspends the body until the operation completes, then resumes it
/// on the generator's executor and returns the operation's result: `timer.async_wait(co)`,
/// `auto n = asio::async_read_until(socket, buf, '\n', co)`. An error is thrown as
/// `system_error` (for `error_code` signatures) or rethrown (for `exception_ptr`
/// signatures); `co[ec]` stores an `error_code` in `ec` instead of throwing. Consuming another
/// generator of the same executor through `co` (`inner.anext(co)`) switches fibers directly.
template <class Y, class S = void>
class context {
 public:
  using executor_type = asio::any_io_executor;
  using yield_type = Y;
  using send_type = S;

  explicit context(detail::frame_base* frame) noexcept : id_(frame->identity()) {}

  /// The generator's executor.
  const executor_type& get_executor() const noexcept { return id_.frame->executor(); }

  /// A context that stores an operation's `error_code` in `ec` instead of throwing it.
  context operator[](error_code& ec) const noexcept {
    context c(*this);
    c.ec_ = &ec;
    return c;
  }

  /// Internal: the frame of the generator whose body this is.
  detail::frame_base& frame() const noexcept { return *id_.frame; }
  /// Internal: that frame, when the caller is its running body; throws misuse_error naming `what` otherwise.
  detail::frame_base& running_frame(const char* what) const { return detail::frame_base::running_body(id_, what); }
  /// Internal: where `co[ec]` stores errors, or null.
  error_code* error_slot() const noexcept { return ec_; }

 private:
  detail::body_identity id_;
  error_code* ec_ = nullptr;
};

}  // namespace async_generator

// `co` as a completion token: an await, or this library's direct path for its own operations.
ASYNC_GENERATOR_ASIO_NAMESPACE_BEGIN

template <class Y, class S, class R, class... Args>
class async_result<::async_generator::context<Y, S>, R(Args...)> {
 public:
  using return_type =
      typename ::async_generator::detail::await_signature<typename std::decay<Args>::type...>::values::type;

  template <class Initiation, class... InitArgs>
  ASYNC_GENERATOR_ALWAYS_INLINE static return_type initiate(Initiation&& init, const ::async_generator::context<Y, S>& co, InitArgs&&... args) {
    namespace d = ::async_generator::detail;
    return d::await_dispatch<typename std::decay<Args>::type...>(
        d::is_direct_initiation<typename std::decay<Initiation>::type>(), std::forward<Initiation>(init), co,
        std::forward<InitArgs>(args)...);
  }
};

ASYNC_GENERATOR_ASIO_NAMESPACE_END

#endif

