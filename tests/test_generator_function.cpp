// generator_function.hpp: make_generator_function, the mirror of Python's @async_generator.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// async def counting(start, step, n): for i in range(n): yield start + i * step
const auto counting = ag::make_generator_function<int>([](ag::context<int> co, int start, int step, int n) {
  for (int i = 0; i < n; ++i) ag::yield_(co, start + i * step);
});

}  // namespace

TEST_CASE("make_generator_function makes generators from a body taking extra arguments") {
  asio::io_context io;
  auto g = counting(io, 10, 5, 3);
  CHECK(collect(io, g) == std::vector<int>{10, 15, 20});
}

TEST_CASE("each call of a generator function makes a new independent generator") {
  asio::io_context io;
  auto a = counting(io, 0, 1, 3);
  auto b = counting(io, 100, 1, 3);
  auto c = counting(io, 0, 1, 3);
  CHECK(anext(io, a).value == 0);
  CHECK(anext(io, a).value == 1);
  CHECK(anext(io, b).value == 100);
  CHECK(anext(io, c).value == 0);
  CHECK_FALSE(aclose(io, b));
  CHECK(anext(io, a).value == 2);
  CHECK(is_stop(anext(io, b).error));
  CHECK(anext(io, c).value == 1);
}

TEST_CASE("each generator of a generator function gets its own copy of the body's state") {
  asio::io_context io;
  const auto counter = ag::make_generator_function<int>([calls = 0](ag::context<int> co) mutable {
    for (;;) ag::yield_(co, ++calls);
  });
  auto a = counter(io);
  auto b = counter(io);
  CHECK(anext(io, a).value == 1);
  CHECK(anext(io, a).value == 2);
  CHECK(anext(io, b).value == 1);
}

TEST_CASE("the arguments are bound when the generator function is called, as Python binds them") {
  asio::io_context io;
  const auto echo_string = ag::make_generator_function<std::string>(
      [](ag::context<std::string> co, std::string s) { ag::yield_(co, s); });
  std::string text = "at call";
  auto g = echo_string(io, text);
  text = "changed later";
  std::string got;
  bool done = false;
  g.anext([&](std::exception_ptr e, std::string v) {
    CHECK_FALSE(e);
    got = v;
    done = true;
  });
  drive(io, done);
  CHECK(got == "at call");
}

TEST_CASE("a generator function accepts move-only arguments") {
  asio::io_context io;
  const auto owner = ag::make_generator_function<int>(
      [](ag::context<int> co, std::unique_ptr<int> p) { ag::yield_(co, *p); });
  auto g = owner(io, std::unique_ptr<int>(new int(9)));
  CHECK(collect(io, g) == std::vector<int>{9});
}

TEST_CASE("a generator function carries the return type to the first stop_async_iteration") {
  asio::io_context io;
  const auto summed = ag::make_generator_function<int, void, std::string>(
      [](ag::context<int> co, int n) -> std::string {
        int total = 0;
        for (int i = 1; i <= n; ++i) {
          ag::yield_(co, i);
          total += i;
        }
        return "total " + std::to_string(total);
      });
  static_assert(std::is_same<decltype(summed(io, 3)), ag::async_generator<int, void, std::string>>::value,
                "the generator type follows the generator function's types");
  auto g = summed(io, 3);
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  CHECK(anext(io, g).value == 3);
  CHECK(stop_value_of<std::string>(anext(io, g).error) == "total 6");
}

TEST_CASE("a generator function makes generators on an execution context or on an executor") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  auto on_context = counting(io, 0, 1, 1);
  auto on_executor = counting(io.get_executor(), 0, 1, 1);
  auto on_strand = counting(strand, 0, 1, 1);
  CHECK(on_context.get_executor() == asio::any_io_executor(io.get_executor()));
  CHECK(on_executor.get_executor() == asio::any_io_executor(io.get_executor()));
  CHECK(on_strand.get_executor() == asio::any_io_executor(strand));
  CHECK(collect(io, on_strand) == std::vector<int>{0});
}

TEST_CASE("wrapped() returns the body (Python's __wrapped__)") {
  asio::io_context io;
  const auto f = ag::make_generator_function<int>([](ag::context<int> co, int n) { ag::yield_(co, n); });
  auto g = ag::make_async_generator<int>(io, [&f](ag::context<int> co) { f.wrapped()(co, 4); });
  CHECK(collect(io, g) == std::vector<int>{4});
}

TEST_CASE("a generator function body may be a plain function") {
  struct body {
    static void run(ag::context<int> co, int a, int b) {
      ag::yield_(co, a);
      ag::yield_(co, b);
    }
  };
  asio::io_context io;
  const auto f = ag::make_generator_function<int>(&body::run);
  auto g = f(io, 3, 4);
  CHECK(collect(io, g) == std::vector<int>{3, 4});
}
