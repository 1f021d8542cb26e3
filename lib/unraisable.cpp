#include <async_generator/compat/exception.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/unraisable.hpp>

#include <boost/core/demangle.hpp>

#include <cstdio>
#include <mutex>
#include <typeinfo>

namespace async_generator {
namespace {

std::mutex hook_mutex;
unraisablehook_type& current_hook() {
  static unraisablehook_type* hook = new unraisablehook_type;  // outlives static destruction
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

unraisablehook_type set_unraisablehook(unraisablehook_type hook) {
  std::lock_guard<std::mutex> lock(hook_mutex);
  unraisablehook_type previous = std::move(current_hook());
  current_hook() = std::move(hook);
  return previous;
}

void report_unraisable(const unraisable& u) noexcept {
  unraisablehook_type hook;
  {
    std::lock_guard<std::mutex> lock(hook_mutex);
    hook = current_hook();
  }
  try {
    if (hook) {
      hook(u);
      return;
    }
  } catch (...) {
  }
  std::fprintf(stderr, "Exception ignored in: %s\n%s\n", u.object.c_str(), describe_exception(u.exception).c_str());
}

}  // namespace async_generator
