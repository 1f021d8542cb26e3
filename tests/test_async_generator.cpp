#include <async_generator.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <vector>

namespace ag = async_generator;
namespace asio = boost::asio;

TEST_CASE("smoke") {
  asio::io_context io;
  auto gen = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    for (int i = 0; i < 3; ++i) ag::yield_(co, i);
  });
  std::vector<int> got;
  bool done = false;
  std::function<void(std::exception_ptr, int)> step = [&](std::exception_ptr e, int v) {
    if (e) { done = true; return; }
    got.push_back(v);
    gen.anext(step);
  };
  gen.anext(step);
  io.run();
  CHECK(done);
  CHECK(got == std::vector<int>{0, 1, 2});
}
