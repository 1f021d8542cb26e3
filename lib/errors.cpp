#include <async_generator/errors.hpp>

namespace async_generator {

const char* stop_async_iteration::what() const noexcept { return "StopAsyncIteration"; }

std::exception_ptr cause_of(const std::exception_ptr& e) noexcept {
  if (!e) return nullptr;
  try {
    std::rethrow_exception(e);
  } catch (const runtime_error& error) {
    return error.cause();
  } catch (const std::nested_exception& nested) {
    return nested.nested_ptr();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace async_generator
