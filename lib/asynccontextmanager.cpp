#include <async_generator/asynccontextmanager.hpp>

namespace async_generator {
namespace detail {

exit_outcome judge_athrow(const std::exception_ptr& raised, const std::exception_ptr& thrown) noexcept {
  // Identity is the exception object's: std::exception_ptr compares equal when both refer to it.
  if (is_stop(raised)) return {nullptr, raised != thrown};
  if (raised == thrown) return {nullptr, false};
  if (is_stop(thrown) && cause_of(raised) == thrown) {
    try {
      std::rethrow_exception(raised);
    } catch (const std::runtime_error&) {
      // PEP 479's wrapping of the Stop* thrown in (Python's `RuntimeError ... from value`), by the
      // library or by the generator itself: the original propagates.
      return {nullptr, false};
    } catch (...) {
    }
  }
  return {raised, false};
}

}  // namespace detail
}  // namespace async_generator
