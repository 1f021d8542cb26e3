#include <async_generator/asynccontextmanager.hpp>

namespace async_generator {
namespace detail {
namespace {

// Python's `exc.__cause__ is value` for a RuntimeError `raised`: its cause is `thrown`, whether it
// is this library's runtime_error with that cause or a std::nested_exception holding it (what
// `std::throw_with_nested` makes; with an ag::runtime_error it is both, the explicit cause first).
bool raised_from(const std::runtime_error& raised, const std::exception_ptr& thrown) noexcept {
  const auto* error = dynamic_cast<const runtime_error*>(&raised);
  if (error != nullptr && error->cause() == thrown) return true;
  const auto* nested = dynamic_cast<const std::nested_exception*>(&raised);
  return nested != nullptr && nested->nested_ptr() == thrown;
}

}  // namespace

exit_outcome judge_athrow(const std::exception_ptr& raised, const std::exception_ptr& thrown) noexcept {
  // Identity is the exception object's: std::exception_ptr compares equal when both refer to it.
  if (is_stop(raised)) return {nullptr, raised != thrown};
  if (raised == thrown) return {nullptr, false};
  if (is_stop(thrown)) {
    try {
      std::rethrow_exception(raised);
    } catch (const std::runtime_error& error) {
      // PEP 479's wrapping of the Stop* thrown in, by the library or by the generator itself: the
      // original propagates.
      if (raised_from(error, thrown)) return {nullptr, false};
    } catch (...) {
    }
  }
  return {raised, false};
}

}  // namespace detail
}  // namespace async_generator
