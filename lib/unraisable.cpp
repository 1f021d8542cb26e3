#include <async_generator/compat/exception.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/unraisable.hpp>

#include "print_report.hpp"

#include <boost/core/demangle.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
#include <typeinfo>

namespace async_generator {
namespace {

std::mutex hook_mutex;
// Shared, so that a report takes the hook without copying it (a copy may allocate).
std::shared_ptr<const unraisablehook_type>& current_hook() {
  static auto* hook = new std::shared_ptr<const unraisablehook_type>;  // outlives static destruction
  return *hook;
}

}  // namespace

std::string describe_exception(const std::exception_ptr& e) {
  if (!e) return "None";
  try {
    std::rethrow_exception(e);
  } catch (const stop_async_iteration&) {
    return "StopAsyncIteration";
  } catch (const generator_exit&) {
    return "GeneratorExit";
  } catch (const runtime_error& x) {
    return std::string("RuntimeError: ") + x.what();
  } catch (const type_error& x) {
    return std::string("TypeError: ") + x.what();
  } catch (const std::exception& x) {
    return boost::core::demangle(typeid(x).name()) + ": " + x.what();
  } catch (...) {
    // Not a std::exception (a thrown int, a type of its own): its type is all there is to say.
    const std::type_info* type = compat::current_exception_type();
    return type != nullptr ? boost::core::demangle(type->name()) : "unknown exception";
  }
}

namespace detail {
namespace {
const char* what_of(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (const generator_exit& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}
}  // namespace

void print_report(const char* prefix, const char* message, const std::exception_ptr& e) noexcept {
  if (!e) {
    std::fprintf(stderr, "%s%s\n", prefix, message);
    return;
  }
  try {
    std::fprintf(stderr, "%s%s\n%s\n", prefix, message, describe_exception(e).c_str());
  } catch (...) {
    // Memory is short: what the exception says, without its type's name.
    std::fprintf(stderr, "%s%s\n%s\n", prefix, message, what_of(e));
  }
}
}  // namespace detail

unraisablehook_type set_unraisablehook(unraisablehook_type hook) {
  auto installed = hook ? std::make_shared<const unraisablehook_type>(std::move(hook)) : nullptr;
  std::lock_guard<std::mutex> lock(hook_mutex);
  unraisablehook_type previous = current_hook() ? *current_hook() : unraisablehook_type();
  current_hook() = std::move(installed);
  return previous;
}

void report_unraisable(const unraisable& u) noexcept {
  std::shared_ptr<const unraisablehook_type> hook;
  {
    std::lock_guard<std::mutex> lock(hook_mutex);
    hook = current_hook();
  }
  try {
    if (hook) {
      (*hook)(u);
      return;
    }
  } catch (...) {
  }
  if (!u.exception) {
    std::fprintf(stderr, "Exception ignored in: %s\nNone\n", u.object.c_str());
    return;
  }
  detail::print_report("Exception ignored in: ", u.object.c_str(), u.exception);
}

}  // namespace async_generator
