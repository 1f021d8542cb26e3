// The exceptions of async_generator: Python's StopAsyncIteration, GeneratorExit, RuntimeError and
// TypeError, with Python's messages.
#ifndef ASYNC_GENERATOR_ERRORS_HPP
#define ASYNC_GENERATOR_ERRORS_HPP

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

namespace async_generator {

/// End of iteration (Python's `StopAsyncIteration`). The first one a generator raises carries the
/// body's return value when the generator's return type is not `void`; later ones are empty.
class stop_async_iteration : public std::exception {
 public:
  stop_async_iteration() noexcept = default;

  template <class R>
  explicit stop_async_iteration(R value)
      : value_(std::make_shared<R>(std::move(value))), type_(&typeid(R)) {}

  const char* what() const noexcept override;

  /// True when this end of iteration carries a return value.
  bool has_value() const noexcept { return value_ != nullptr; }

  /// The return value; throws `std::bad_cast` when there is none or it is not an `R`.
  template <class R>
  const R& value() const {
    if (!value_ || *type_ != typeid(R)) throw std::bad_cast();
    return *static_cast<const R*>(value_.get());
  }

 private:
  std::shared_ptr<const void> value_;
  const std::type_info* type_ = nullptr;
};

/// Thrown into a body at its yield point by `aclose()` (Python's `GeneratorExit`). Like Python's,
/// which derives from BaseException and not Exception, it does not derive from `std::exception`, so
/// `catch (const std::exception&)` in a body does not swallow it.
class generator_exit {
 public:
  const char* what() const noexcept { return "GeneratorExit"; }
};

/// Python's `RuntimeError`. Where Python raises it "from" another exception, that exception is its
/// cause (Python's `__cause__`).
class runtime_error : public std::runtime_error {
 public:
  explicit runtime_error(const std::string& message, std::exception_ptr cause = nullptr)
      : std::runtime_error(message), cause_(std::move(cause)) {}

  /// The exception this one was raised from, or null.
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::exception_ptr cause_;
};

/// Python's `TypeError`.
class type_error : public std::invalid_argument {
 public:
  explicit type_error(const std::string& message) : std::invalid_argument(message) {}
};

/// An operation on an `async_generator` that holds no generator (default-constructed or moved from).
class empty_generator_error : public std::logic_error {
 public:
  empty_generator_error() : std::logic_error("operation on an empty async_generator (default-constructed or moved from)") {}
};

/// `yield_` (or an await through `co`) called where it cannot mean anything: with a context whose
/// generator is not the one running on this fiber.
class misuse_error : public std::logic_error {
 public:
  explicit misuse_error(const std::string& message) : std::logic_error(message) {}
};

/// The exception `e` was raised from (Python's `__cause__`): the cause of this library's
/// `runtime_error`, or the exception nested in a `std::nested_exception` (what `std::throw_with_nested`
/// makes, the C++ spelling of `raise ... from exc`); null otherwise.
std::exception_ptr cause_of(const std::exception_ptr& e) noexcept;

namespace errors {
// Python's exact messages, shared by the library and its tests.
constexpr const char* anext_running = "anext(): asynchronous generator is already running";
constexpr const char* athrow_running = "athrow(): asynchronous generator is already running";
constexpr const char* aclose_running = "aclose(): asynchronous generator is already running";
// athrow with a null exception_ptr (Python's athrow(None) raises TypeError: "exceptions must be
// classes or instances deriving from BaseException, not NoneType").
constexpr const char* athrow_null = "athrow(): nothing to throw: the exception_ptr is null";
constexpr const char* send_to_unstarted = "can't send non-None value to a just-started async generator";
constexpr const char* ignored_generator_exit = "async generator ignored GeneratorExit";
constexpr const char* raised_stop_async_iteration = "async generator raised StopAsyncIteration";
constexpr const char* didnt_yield = "generator didn't yield";
constexpr const char* didnt_stop = "generator didn't stop";
constexpr const char* didnt_stop_after_athrow = "generator didn't stop after athrow()";
// The library's own, for a body whose catch (...) swallowed the unwinding of its stack (a
// misuse_error): it returned, or it suspended again and its stack was abandoned.
constexpr const char* swallowed_unwind_returned =
    "async generator body swallowed the library's stack unwinding (a catch (...) that does not rethrow); it ran on "
    "until it returned";
constexpr const char* swallowed_unwind_abandoned =
    "async generator body swallowed the library's stack unwinding (a catch (...) that does not rethrow) and suspended "
    "again; its stack was abandoned, not unwound: what its frames own is leaked";
}  // namespace errors

namespace detail {
// Whether `e` holds a stop_async_iteration.
inline bool is_stop(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const stop_async_iteration&) {
    return true;
  } catch (...) {
    return false;
  }
}
}  // namespace detail

}  // namespace async_generator

#endif
