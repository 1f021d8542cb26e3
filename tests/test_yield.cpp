// yield.hpp: yield_, Python's `await yield_(v)`.
#include "support.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// Yields what a tree (children of i are 2i+1 and 2i+2, below n) holds, in order, from nested calls.
void walk(const ag::context<int>& co, int node, int n) {
  if (node >= n) return;
  walk(co, 2 * node + 1, n);
  ag::yield_(co, node);
  walk(co, 2 * node + 2, n);
}

void yield_twice(const ag::context<int>& co, int value) {
  ag::yield_(co, value);
  ag::yield_(co, value);
}

}  // namespace

TEST_CASE("yield_ returns the value sent by asend") {
  asio::io_context io;
  std::vector<int> received;
  auto g = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) {
    static_assert(std::is_same<decltype(ag::yield_(co, 0)), ag::compat::optional<int>>::value,
                  "yield_ returns an optional<S>");
    ag::compat::optional<int> a = ag::yield_(co, 1);
    REQUIRE(static_cast<bool>(a));
    received.push_back(*a);
    ag::compat::optional<int> b = ag::yield_(co, 2);
    REQUIRE(static_cast<bool>(b));
    received.push_back(*b);
  });
  CHECK(anext(io, g).value == 1);
  CHECK(asend(io, g, 10).value == 2);
  CHECK(is_stop(asend(io, g, 20).error));
  CHECK(received == std::vector<int>{10, 20});
}

TEST_CASE("yield_ returns an empty optional when resumed by anext") {
  asio::io_context io;
  std::vector<bool> had_value;
  auto g = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) {
    had_value.push_back(static_cast<bool>(ag::yield_(co, 1)));
    had_value.push_back(static_cast<bool>(ag::yield_(co, 2)));
    had_value.push_back(static_cast<bool>(ag::yield_(co, 3)));
  });
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  CHECK(asend(io, g, 7).value == 3);
  CHECK(is_stop(anext(io, g).error));
  CHECK(had_value == std::vector<bool>{false, true, false});
}

TEST_CASE("yield_ returns void when the generator is sent nothing") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    static_assert(std::is_void<decltype(ag::yield_(co, 0))>::value, "S = void: yield_ returns nothing");
    static_assert(std::is_void<decltype(ag::yield_(co))>::value, "S = void: yield_ returns nothing");
    ag::yield_(co, 1);
  });
  CHECK(collect(io, g) == std::vector<int>{1});
}

TEST_CASE("yield_(co) with no value yields a value-initialised Y and returns what asend sends") {
  asio::io_context io;
  std::vector<std::string> received;
  auto g = ag::make_async_generator<std::string, std::string>(io, [&](ag::context<std::string, std::string> co) {
    for (;;) {
      ag::compat::optional<std::string> v = ag::yield_(co);
      received.push_back(v ? *v : "None");
    }
  });
  std::string first = "not set";
  bool done = false;
  g.anext([&](std::exception_ptr e, std::string v) {
    CHECK_FALSE(e);
    first = v;
    done = true;
  });
  drive(io, done);
  CHECK(first == "");
  done = false;
  std::string second = "not set";
  g.asend("hello", [&](std::exception_ptr e, std::string v) {
    CHECK_FALSE(e);
    second = v;
    done = true;
  });
  drive(io, done);
  CHECK(second == "");
  CHECK(received == std::vector<std::string>{"hello"});
  CHECK_FALSE(aclose(io, g));
}

TEST_CASE("yield_(co) in a generator that yields nothing suspends it once per call") {
  asio::io_context io;
  int resumed = 0;
  auto g = ag::make_async_generator<void>(io, [&](ag::context<void> co) {
    ag::yield_(co);
    ++resumed;
    ag::yield_(co);
    ++resumed;
  });
  static_assert(std::is_same<ag::async_generator<void>::next_signature, void(std::exception_ptr)>::value,
                "a generator yielding nothing completes anext with just the error");
  std::vector<std::string> outcomes;
  for (int i = 0; i < 3; ++i) {
    bool done = false;
    g.anext([&](std::exception_ptr e) {
      outcomes.push_back(e ? ag::describe_exception(e) : "yielded");
      done = true;
    });
    drive(io, done);
  }
  CHECK(outcomes == std::vector<std::string>{"yielded", "yielded", "StopAsyncIteration"});
  CHECK(resumed == 2);
}

TEST_CASE("yield_ from a helper function called by the body yields for the body's generator") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    yield_twice(co, 1);
    ag::yield_(co, 2);
    yield_twice(co, 3);
  });
  CHECK(collect(io, g) == std::vector<int>{1, 1, 2, 3, 3});
}

TEST_CASE("yield_ from recursive helper functions yields from any call depth") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) { walk(co, 0, 7); });
  CHECK(collect(io, g) == std::vector<int>{3, 1, 4, 0, 5, 2, 6});
}

TEST_CASE("yield_ hands a move-only value to the consumer") {
  asio::io_context io;
  auto g = ag::make_async_generator<std::unique_ptr<int>>(io, [](ag::context<std::unique_ptr<int>> co) {
    std::unique_ptr<int> p(new int(7));
    ag::yield_(co, std::move(p));
    CHECK_FALSE(p);
  });
  std::unique_ptr<int> got;
  bool done = false;
  g.anext([&](std::exception_ptr e, std::unique_ptr<int> v) {
    CHECK_FALSE(e);
    got = std::move(v);
    done = true;
  });
  drive(io, done);
  REQUIRE(got);
  CHECK(*got == 7);
}

TEST_CASE("asend hands a move-only value to yield_") {
  asio::io_context io;
  int received = 0;
  auto g = ag::make_async_generator<int, std::unique_ptr<int>>(io, [&](ag::context<int, std::unique_ptr<int>> co) {
    ag::compat::optional<std::unique_ptr<int>> v = ag::yield_(co, 1);
    if (v && *v) received = **v;
  });
  CHECK(anext(io, g).value == 1);
  bool done = false;
  std::exception_ptr end;
  g.asend(std::unique_ptr<int>(new int(42)), [&](std::exception_ptr e, int) {
    end = e;
    done = true;
  });
  drive(io, done);
  CHECK(is_stop(end));
  CHECK(received == 42);
}
