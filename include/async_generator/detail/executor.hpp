// Which executor a generator's operation runs on and completes on, without Asio's type erasure
// where an io_context's executor is what it wraps.
#ifndef ASYNC_GENERATOR_DETAIL_EXECUTOR_HPP
#define ASYNC_GENERATOR_DETAIL_EXECUTOR_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>
#include <async_generator/detail/frame.hpp>

#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

// Asio's type-erased executor costs an allocation and an indirect call per post or dispatch; when
// it wraps an io_context's executor, as it almost always does, `use` gets that one directly.
template <class Executor, class Use>
void with_executor(const Executor& ex, Use&& use) {
  use(ex);
}
template <class Use>
void with_executor(const asio::any_io_executor& ex, Use&& use) {
  if (const asio::io_context::executor_type* io = compat::io_executor_of(ex)) {
    use(*io);
  } else {
    use(ex);
  }
}
// The same for a generator's executor, whose io_context executor the frame found once.
template <class Use>
void with_executor(const frame_base& frame, Use&& use) {
  if (frame.io_executor() != nullptr) {
    use(*frame.io_executor());
  } else {
    use(frame.executor());
  }
}

// Whether code running now runs on `ex` (in one of the threads of its io_context); false when that
// cannot be known cheaply.
template <class Executor>
bool running_on(const Executor&) noexcept {
  return false;
}
inline bool running_on(const asio::io_context::executor_type& ex) noexcept { return ex.running_in_this_thread(); }

// Whether code running now runs on the generator's executor.
inline bool running_on_executor(const frame_base& frame) noexcept {
  bool here = false;
  with_executor(frame, [&](const auto& e) { here = running_on(e); });
  return here;
}

// Whether `ex` is the generator's executor. A type-erased one (a coroutine's, as use_awaitable's
// handler has) is compared by the io_context executor it wraps, without a type-erased equality.
template <class Executor>
bool same_executor(const Executor&, const frame_base&) {
  return false;  // another kind of executor (a strand, a type-erased handler's)
}
inline bool same_executor(const asio::io_context::executor_type& ex, const frame_base& frame) {
  return frame.io_executor() != nullptr && ex == *frame.io_executor();
}
inline bool same_executor(const asio::any_io_executor& ex, const frame_base& frame) {
  if (frame.io_executor() != nullptr) {
    if (const asio::io_context::executor_type* io = compat::io_executor_of(ex)) return *io == *frame.io_executor();
  }
  return ex == frame.executor();
}

// A generator's executor, kept by value until a completion is submitted: its frame may be gone by
// then (an operation moves along a yield_from_ chain whose delegates end). The io_context executor
// when it wraps one (a copy costs nothing: no work is counted), else the type-erased one (made,
// and destroyed, only then: that costs indirect calls).
class generator_executor {
 public:
  explicit generator_executor(const frame_base& frame) {
    if (frame.io_executor() != nullptr) {
      io_.emplace(*frame.io_executor());
    } else {
      any_.emplace(frame.executor());
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

// Whether a handler names an executor of its own; one that does not runs on the generator's.
struct no_executor_of_its_own {};
template <class Handler>
using has_own_executor = std::integral_constant<
    bool, !std::is_same<asio::associated_executor_t<Handler, no_executor_of_its_own>, no_executor_of_its_own>::value>;

// Where a handler's operation completes: the generator's executor when the handler has none of
// its own, or one equal to it (which has work while the operation is pending: the posted start,
// or the Asio operation its body awaits); otherwise the handler's, kept with work on it.
template <class Handler, bool OwnExecutor = has_own_executor<Handler>::value>
class completion_executor {
 public:
  completion_executor(const Handler& handler, const frame_base& frame) : generator_(frame) {
    executor_type ex = asio::get_associated_executor(handler, frame.executor());
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

}  // namespace detail
}  // namespace async_generator

#endif
