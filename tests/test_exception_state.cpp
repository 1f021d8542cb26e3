// compat/fiber.hpp: what a fiber switch does to the C++ runtime's exception state (the exceptions
// being handled, and the count of those in flight). With libstdc++ the library's switch keeps it
// per fiber, on every Boost version; with another runtime it is the thread's, shared by every fiber
// it runs (ag::compat::fiber_keeps_exception_state). README, "Exceptions and fibers". The same
// across threads: tests/test_threads.cpp.
#include "support.hpp"
#include <async_generator/compat/exception.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Records, when destroyed, how many exceptions are in flight on its fiber (std::uncaught_exceptions()).
struct uncaught_counter {
  int& seen;
  ~uncaught_counter() { seen = ag::compat::uncaught_exceptions(); }
};

// Enters a catch block for an exception of its own named `name`, awaits `delay_ms` there, then
// records what the current exception is and rethrows it, catching it again outside.
ag::async_generator<int> handling_across_an_await(asio::io_context& io, std::string name, int delay_ms,
                                                  std::vector<std::string>& log) {
  return ag::make_async_generator<int>(io, [&io, name, delay_ms, &log](ag::context<int> co) {
    try {
      try {
        throw std::runtime_error(name);
      } catch (const std::runtime_error&) {
        asio::steady_timer timer(io, std::chrono::milliseconds(delay_ms));
        timer.async_wait(co);
        log.push_back(name + " handles " + ag::describe_exception(std::current_exception()));
        throw;
      }
    } catch (const std::runtime_error& e) {
      log.push_back(name + " rethrew " + e.what());
    }
    ag::yield_(co, 1);
  });
}

}  // namespace

TEST_CASE("while a body is suspended in a catch block, its consumer does not see the body's exception (it would with a runtime whose state fibers share)") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    try {
      throw std::runtime_error("the body's");
    } catch (const std::runtime_error&) {
      ag::yield_(co, 1);
    }
    ag::yield_(co, 2);
  });
  CHECK(anext(io, g).value == 1);
  const std::exception_ptr seen_by_consumer = std::current_exception();
  if (ag::compat::fiber_keeps_exception_state) {
    CHECK_FALSE(seen_by_consumer);
  } else {
    CHECK(ag::describe_exception(seen_by_consumer) == "std::runtime_error: the body's");
  }
  CHECK(anext(io, g).value == 2);  // the body left its catch block
  CHECK_FALSE(std::current_exception());
}

TEST_CASE("two bodies awaiting inside catch blocks each keep their own exception") {
  if (!ag::compat::fiber_keeps_exception_state) {
    // With the thread's state shared, the second body's exception is pushed over the first one's
    // and the first body's `throw;` would rethrow the second's: the README's rule forbids this.
    MESSAGE("not with this C++ runtime: fibers share the thread's exception state");
    return;
  }
  asio::io_context io;
  std::vector<std::string> log;
  auto first = handling_across_an_await(io, "first", 1, log);
  auto second = handling_across_an_await(io, "second", 20, log);
  int done = 0;
  first.anext([&](std::exception_ptr e, int) { done += e ? 0 : 1; });
  second.anext([&](std::exception_ptr e, int) { done += e ? 0 : 1; });
  io.run();
  CHECK(done == 2);
  CHECK(log == std::vector<std::string>{"first handles std::runtime_error: first", "first rethrew first",
                                        "second handles std::runtime_error: second", "second rethrew second"});
  CHECK_FALSE(std::current_exception());
}

TEST_CASE("an aclose raises generator_exit at the yield: the body's cleanup sees one exception in flight") {
  asio::io_context io;
  int seen = -1;
  auto g = ag::make_async_generator<int>(io, [&seen](ag::context<int> co) {
    uncaught_counter counter{seen};
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  CHECK_FALSE(aclose(io, g));
  CHECK(seen == 1);
}

TEST_CASE("a generator closed while its consumer unwinds counts in its cleanup only its own fiber's exceptions") {
  sync_close_context io;  // a drop closes the generator at once, on the dropping stack
  int seen = -1;
  auto g = ag::make_async_generator<int>(io, [&seen](ag::context<int> co) {
    uncaught_counter counter{seen};
    ag::yield_(co, 1);
  });
  CHECK(anext(io, g).value == 1);
  struct dropper {
    ag::async_generator<int>& g;
    ~dropper() { g = ag::async_generator<int>(); }
  };
  try {
    dropper drop{g};
    throw std::runtime_error("the consumer's");
  } catch (const std::runtime_error&) {
  }
  // generator_exit in the body; with the thread's state shared, the consumer's exception too.
  CHECK(seen == (ag::compat::fiber_keeps_exception_state ? 1 : 2));
  CHECK(ag::compat::uncaught_exceptions() == 0);
}
