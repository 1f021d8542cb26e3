// unraisable.hpp: the hook for errors that have nowhere to go (Python's sys.unraisablehook).
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace {

// What `fn` writes on stderr (file descriptor 2).
template <class Fn>
std::string captured_stderr(Fn fn) {
  std::fflush(stderr);
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(::fileno(file), 2) >= 0);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string text;
  std::rewind(file);
  char buf[256];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, n);
  std::fclose(file);
  return text;
}

// Installs a hook for the life of this object, restoring the previous one afterwards.
struct scoped_hook {
  explicit scoped_hook(ag::unraisablehook_type hook) : previous(ag::set_unraisablehook(std::move(hook))) {}
  ~scoped_hook() { ag::set_unraisablehook(std::move(previous)); }
  ag::unraisablehook_type previous;
};

// A generator that yields 1 and, when closed, does `cleanup(co)`.
template <class Cleanup>
ag::async_generator<int> closing_with(asio::io_context& io, Cleanup cleanup) {
  return ag::make_async_generator<int>(io, [cleanup](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      cleanup(co);
      throw;
    }
  });
}

}  // namespace

TEST_CASE("set_unraisablehook returns the previous hook") {
  std::vector<std::string> calls;
  scoped_hook first([&](const ag::unraisable&) { calls.push_back("first"); });
  ag::unraisablehook_type returned = ag::set_unraisablehook([&](const ag::unraisable&) { calls.push_back("second"); });
  REQUIRE(returned);
  returned(ag::unraisable{nullptr, "x"});
  CHECK(calls == std::vector<std::string>{"first"});
  ag::report_unraisable(ag::unraisable{nullptr, "x"});
  CHECK(calls == std::vector<std::string>{"first", "second"});
}

TEST_CASE("report_unraisable calls the current hook with the exception and the object") {
  std::vector<ag::unraisable> got;
  scoped_hook hook([&](const ag::unraisable& u) { got.push_back(u); });
  const std::exception_ptr error = std::make_exception_ptr(ag::runtime_error("lost"));
  ag::report_unraisable(ag::unraisable{error, "<thing>"});
  REQUIRE(got.size() == 1);
  CHECK(got[0].exception == error);
  CHECK(got[0].object == "<thing>");
}

TEST_CASE("the default hook prints Python's 'Exception ignored in' lines on stderr") {
  scoped_hook restore_default{ag::unraisablehook_type()};
  const std::string text = captured_stderr(
      [] { ag::report_unraisable(ag::unraisable{std::make_exception_ptr(ag::runtime_error("boom")), "<obj>"}); });
  CHECK(text == "Exception ignored in: <obj>\nRuntimeError: boom\n");
}

TEST_CASE("installing an empty hook restores the default one") {
  std::vector<std::string> calls;
  scoped_hook custom([&](const ag::unraisable&) { calls.push_back("custom"); });
  ag::unraisablehook_type previous = ag::set_unraisablehook(ag::unraisablehook_type());
  const std::string text = captured_stderr([] { ag::report_unraisable(ag::unraisable{nullptr, "<gone>"}); });
  ag::set_unraisablehook(std::move(previous));
  CHECK(calls.empty());
  CHECK(text == "Exception ignored in: <gone>\nNone\n");
}

TEST_CASE("report_unraisable does not let a throwing hook's exception out, and prints the error instead") {
  scoped_hook throwing([](const ag::unraisable&) { throw std::runtime_error("hook failed"); });
  std::string text;
  CHECK_NOTHROW(text = captured_stderr([] {
                  ag::report_unraisable(ag::unraisable{std::make_exception_ptr(ag::type_error("t")), "<obj>"});
                }));
  CHECK(text == "Exception ignored in: <obj>\nTypeError: t\n");
}

TEST_CASE("describe_exception names an exception the way Python prints it") {
  CHECK(ag::describe_exception(nullptr) == "None");
  CHECK(ag::describe_exception(std::make_exception_ptr(ag::stop_async_iteration())) == "StopAsyncIteration");
  CHECK(ag::describe_exception(std::make_exception_ptr(ag::stop_async_iteration(3))) == "StopAsyncIteration");
  CHECK(ag::describe_exception(std::make_exception_ptr(ag::generator_exit())) == "GeneratorExit");
  CHECK(ag::describe_exception(std::make_exception_ptr(ag::runtime_error("r"))) == "RuntimeError: r");
  CHECK(ag::describe_exception(std::make_exception_ptr(ag::type_error("t"))) == "TypeError: t");
}

namespace reported {
struct not_a_std_exception {};
}  // namespace reported

TEST_CASE("describe_exception names other std::exceptions by their demangled type name, and any other exception by its type") {
  CHECK(ag::describe_exception(std::make_exception_ptr(std::out_of_range("o"))) == "std::out_of_range: o");
  CHECK(ag::describe_exception(std::make_exception_ptr(42)) == "int");
  CHECK(ag::describe_exception(std::make_exception_ptr(reported::not_a_std_exception())) ==
        "reported::not_a_std_exception");
  std::string text;
  CHECK_NOTHROW(text = captured_stderr([] {
                  ag::report_unraisable(ag::unraisable{std::make_exception_ptr(7L), "<obj>"});
                }));
  CHECK(text == "Exception ignored in: <obj>\nlong\n");
}

TEST_CASE("a dropped generator that yields while closed is reported as <async_generator object at 0x...>") {
  std::vector<ag::unraisable> got;
  scoped_hook hook([&](const ag::unraisable& u) { got.push_back(u); });
  sync_close_context io;
  auto g = closing_with(io, [](ag::context<int> co) { ag::yield_(co, 2); });
  CHECK(anext(io, g).value == 1);
  g = {};
  REQUIRE(got.size() == 1);
  CHECK(message_of<ag::runtime_error>(got[0].exception) == "async generator ignored GeneratorExit");
  const std::string prefix = "<async_generator object at 0x";
  CHECK(got[0].object.compare(0, prefix.size(), prefix) == 0);
  CHECK(got[0].object.back() == '>');
}

TEST_CASE("a dropped generator whose cleanup raises reports that exception") {
  unraisable_log log;
  sync_close_context io;
  auto g = closing_with(io, [](ag::context<int>) { throw ag::runtime_error("cleanup failed"); });
  CHECK(anext(io, g).value == 1);
  g = {};
  CHECK(log.entries == std::vector<std::string>{"RuntimeError: cleanup failed"});
}

TEST_CASE("a dropped generator that lets generator_exit out reports nothing") {
  unraisable_log log;
  sync_close_context io;
  auto g = closing_with(io, [](ag::context<int>) {});
  CHECK(anext(io, g).value == 1);
  g = {};
  CHECK(log.entries.empty());
}

TEST_CASE("a body whose catch (...) swallows the library's unwinding is reported as a misuse_error") {
  std::vector<std::exception_ptr> got;
  scoped_hook hook([&](const ag::unraisable& u) { got.push_back(u.exception); });
  sync_close_context io;
  int after_swallow = 0;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (...) {
      try {
        asio::post(co);  // closed on drop, there is no loop to wait on: the stack is unwound
      } catch (...) {
        ++after_swallow;  // ... and this swallows the unwinding
      }
    }
  });
  CHECK(anext(io, g).value == 1);
  g = {};
  CHECK(after_swallow == 1);
  REQUIRE(got.size() == 1);
  CHECK(message_of<ag::misuse_error>(got[0]) ==
        "async generator body swallowed the library's stack unwinding (a catch (...) that does not rethrow); it ran "
        "on until it returned");
}

namespace {

const char* const abandoned_message =
    "async generator body swallowed the library's stack unwinding (a catch (...) that does not rethrow) and "
    "suspended again; its stack was abandoned, not unwound: what its frames own is leaked";

}  // namespace

TEST_CASE("a body that swallows every exception, dropped after its aclose failed, is abandoned: both errors reported") {
  unraisable_log log;
  asio::io_context io;
  int swallowed = 0;
  int destroyed = 0;
  auto g = swallowing_everything(io, swallowed, destroyed);
  CHECK(anext(io, g).value == 0);
  CHECK(message_of<ag::runtime_error>(aclose(io, g)) == "async generator ignored GeneratorExit");
  CHECK(swallowed == 1);
  g = {};  // closed synchronously: generator_exit, then the unwinding, are swallowed
  CHECK(swallowed == 3);
  CHECK(destroyed == 0);
  CHECK(log.entries ==
        std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit",
                                 std::string("async_generator::misuse_error: ") + abandoned_message});
}

TEST_CASE("a body that swallows every exception, dropped after its io_context was destroyed, is abandoned and reported") {
  unraisable_log log;
  int swallowed = 0;
  int destroyed = 0;
  ag::async_generator<int> g;
  {
    asio::io_context io;
    g = swallowing_everything(io, swallowed, destroyed);
    CHECK(anext(io, g).value == 0);
  }
  g = {};  // unwound without running anything: the unwinding is swallowed
  CHECK(swallowed == 1);
  CHECK(destroyed == 0);
  CHECK(log.entries == std::vector<std::string>{std::string("async_generator::misuse_error: ") + abandoned_message});
}

TEST_CASE("a body that swallows the unwinding and suspends in an await again is abandoned, its awaits not run") {
  unraisable_log log;
  sync_close_context io;
  int posts_run = 0;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (...) {
    }
    for (;;) {
      try {
        asio::post(co);  // closed on drop, there is no loop to wait on: the stack is unwound
        ++posts_run;
      } catch (...) {
      }
    }
  });
  CHECK(anext(io, g).value == 1);
  g = {};
  CHECK(posts_run == 0);
  CHECK(log.entries ==
        std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit",
                                 std::string("async_generator::misuse_error: ") + abandoned_message});
}
