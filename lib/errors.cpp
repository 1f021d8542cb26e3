#include <async_generator/errors.hpp>

namespace async_generator {

const char* stop_async_iteration::what() const noexcept { return "StopAsyncIteration"; }

std::exception_ptr cause_of(const std::exception_ptr& e) noexcept {
  if (!e) return nullptr;
  try {
    std::rethrow_exception(e);
  } catch (const runtime_error& error) {
    if (error.cause()) return error.cause();
    // std::throw_with_nested(ag::runtime_error(...)): the cause is the nested exception.
    const auto* nested = dynamic_cast<const std::nested_exception*>(&error);
    return nested != nullptr ? nested->nested_ptr() : nullptr;
  } catch (const std::nested_exception& nested) {
    return nested.nested_ptr();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace async_generator
