// How the default hooks print a report on stderr, even when memory is short.
#ifndef ASYNC_GENERATOR_LIB_PRINT_REPORT_HPP
#define ASYNC_GENERATOR_LIB_PRINT_REPORT_HPP

#include <exception>

namespace async_generator {
namespace detail {

// Prints `prefix` and `message` on a line, then, when `e` is not null, describe_exception(e) on the
// next; when describing it cannot allocate, what the exception says instead.
void print_report(const char* prefix, const char* message, const std::exception_ptr& e) noexcept;

}  // namespace detail
}  // namespace async_generator

#endif
