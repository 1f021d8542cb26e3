#include <async_generator/errors.hpp>

namespace async_generator {

const char* stop_async_iteration::what() const noexcept { return "StopAsyncIteration"; }

}  // namespace async_generator
