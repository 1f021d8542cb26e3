// async_for.hpp: `async for` in fiber code (aiter) and in callback code (async_for_each).
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <future>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Yields 1, 2, 3, then raises std::out_of_range("after three").
ag::async_generator<int> failing_after_three(asio::io_context& io) {
  return ag::make_async_generator<int>(io, [](ag::context<int> co) {
    for (int i = 1; i <= 3; ++i) ag::yield_(co, i);
    throw std::out_of_range("after three");
  });
}

// Yields 1, 2, then returns "result".
ag::async_generator<int, void, std::string> returning(asio::io_context& io) {
  return ag::make_async_generator<int, void, std::string>(io, [](ag::context<int> co) -> std::string {
    ag::yield_(co, 1);
    ag::yield_(co, 2);
    return "result";
  });
}

// Records whether a body was closed (generator_exit at its yield).
ag::async_generator<int> close_recording(asio::io_context& io, bool& closed) {
  return ag::make_async_generator<int>(io, [&closed](ag::context<int> co) {
    try {
      for (int i = 0;; ++i) ag::yield_(co, i);
    } catch (const ag::generator_exit&) {
      closed = true;
      throw;
    }
  });
}

}  // namespace

TEST_CASE("aiter iterates a generator inside another generator's body") {
  asio::io_context io;
  auto inner = async_range(io, 5);
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    int sum = 0;
    for (int x : ag::aiter(inner, co)) sum += x;
    ag::yield_(co, sum);
  });
  CHECK(collect(io, outer) == std::vector<int>{10});
  CHECK(is_stop(anext(io, inner).error));
}

TEST_CASE("aiter over an exhausted generator runs no iteration") {
  asio::io_context io;
  auto inner = async_range(io, 0);
  int iterations = -1;
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    iterations = 0;
    for (int x : ag::aiter(inner, co)) iterations += x + 1;
    ag::yield_(co, 0);
  });
  CHECK(collect(io, outer) == std::vector<int>{0});
  CHECK(iterations == 0);
}

TEST_CASE("an aiter loop ends at the return and drops the return value, as async for does") {
  asio::io_context io;
  auto inner = returning(io);
  std::vector<int> seen;
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    for (int x : ag::aiter(inner, co)) seen.push_back(x);
    ag::yield_(co, 0);
  });
  CHECK(collect(io, outer) == std::vector<int>{0});
  CHECK(seen == std::vector<int>{1, 2});
  CHECK(is_empty_stop(anext(io, inner).error));
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("aiter iterates a generator inside an asio::spawn coroutine") {
  asio::io_context io;
  auto g = async_range(io, 4);
  std::vector<int> seen;
  run_spawned(io, [&](asio::yield_context yield) {
    for (int x : ag::aiter(g, yield)) seen.push_back(x);
  });
  CHECK(seen == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("breaking out of an aiter loop does not close the generator") {
  asio::io_context io;
  bool closed = false;
  auto g = close_recording(io, closed);
  std::vector<int> seen;
  run_spawned(io, [&](asio::yield_context yield) {
    for (int x : ag::aiter(g, yield)) {
      seen.push_back(x);
      if (x == 2) break;
    }
    CHECK_FALSE(closed);
    CHECK(g.anext(yield) == 3);
  });
  CHECK(seen == std::vector<int>{0, 1, 2});
  CHECK_FALSE(closed);
  CHECK_FALSE(aclose(io, g));
  CHECK(closed);
}

TEST_CASE("an error the generator raises is thrown out of the aiter loop") {
  asio::io_context io;
  auto g = failing_after_three(io);
  std::vector<int> seen;
  std::string error;
  run_spawned(io, [&](asio::yield_context yield) {
    try {
      for (int x : ag::aiter(g, yield)) seen.push_back(x);
    } catch (const std::out_of_range& e) {
      error = e.what();
    }
  });
  CHECK(seen == std::vector<int>{1, 2, 3});
  CHECK(error == "after three");
  CHECK(is_stop(anext(io, g).error));
}
#endif

TEST_CASE("async_for_each calls fn with each value, then completes with a null exception_ptr") {
  asio::io_context io;
  auto g = async_range(io, 4);
  std::vector<int> seen;
  bool done = false;
  std::exception_ptr error = std::make_exception_ptr(0);
  ag::async_for_each(g, [&](int x) { seen.push_back(x); }, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  CHECK(seen == std::vector<int>{0, 1, 2, 3});
  CHECK_FALSE(error);
}

TEST_CASE("async_for_each drops the generator's return value and completes without error") {
  asio::io_context io;
  auto g = returning(io);
  std::vector<int> seen;
  bool done = false;
  std::exception_ptr error = std::make_exception_ptr(0);
  ag::async_for_each(g, [&](int x) { seen.push_back(x); }, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  CHECK(seen == std::vector<int>{1, 2});
  CHECK_FALSE(error);
  CHECK(is_empty_stop(anext(io, g).error));
}

TEST_CASE("async_for_each completes with the error the generator raises, after the values before it") {
  asio::io_context io;
  auto g = failing_after_three(io);
  std::vector<int> seen;
  bool done = false;
  std::exception_ptr error;
  ag::async_for_each(g, [&](int x) { seen.push_back(x); }, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  CHECK(seen == std::vector<int>{1, 2, 3});
  CHECK(message_of<std::out_of_range>(error) == "after three");
}

TEST_CASE("async_for_each stops early with the exception fn throws, leaving the generator suspended") {
  asio::io_context io;
  bool closed = false;
  auto g = close_recording(io, closed);
  std::vector<int> seen;
  bool done = false;
  std::exception_ptr error;
  ag::async_for_each(g, [&](int x) {
    seen.push_back(x);
    if (x == 1) throw std::invalid_argument("stop here");
  }, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  CHECK(seen == std::vector<int>{0, 1});
  CHECK(message_of<std::invalid_argument>(error) == "stop here");
  CHECK_FALSE(closed);
  CHECK(anext(io, g).value == 2);
}

TEST_CASE("async_for_each over an exhausted generator calls fn never and completes without error") {
  asio::io_context io;
  auto g = async_range(io, 1);
  collect(io, g);
  int calls = 0;
  bool done = false;
  std::exception_ptr error = std::make_exception_ptr(0);
  ag::async_for_each(g, [&](int) { ++calls; }, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  CHECK(calls == 0);
  CHECK_FALSE(error);
}

TEST_CASE("async_for_each runs its handler on the handler's associated executor") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  auto g = async_range(io, 3);
  int calls = 0;
  bool on_strand = false;
  bool done = false;
  ag::async_for_each(g, [&](int) { ++calls; }, asio::bind_executor(strand, [&](std::exception_ptr) {
    on_strand = strand.running_in_this_thread();
    done = true;
  }));
  drive(io, done);
  CHECK(calls == 3);
  CHECK(on_strand);
}

TEST_CASE("async_for_each with asio::use_future delivers the generator's error through the future") {
  asio::io_context io;
  auto ok = async_range(io, 3);
  int sum = 0;
  std::future<void> done = ag::async_for_each(ok, [&](int x) { sum += x; }, asio::use_future);
  auto failing = failing_after_three(io);
  std::future<void> failed = ag::async_for_each(failing, [](int) {}, asio::use_future);
  io.run();
  CHECK_NOTHROW(done.get());
  CHECK(sum == 3);
  CHECK_THROWS_WITH_AS(failed.get(), "after three", std::out_of_range);
}
